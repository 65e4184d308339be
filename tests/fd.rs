//! `sigchan::fd`: a subscription that is a readable descriptor. Readiness follows what is
//! pending, items come plain or with their origin, the handler wakes no sigchan thread, and
//! `stop`, `ignore`, `reset`, channels on the same signal, `fork` and `init` keep their
//! guarantees. Each test runs in a forked child.

mod common;
use common::fd_races::{fd_hand_overs_under_a_storm, fd_stop_racing_kill};
use common::*;
use crossbeam_channel::bounded;
use sigchan::fd::{InfoFd, SignalFd, FD_INFO_CAPACITY, MAX_FD_RECEIVERS};
use sigchan::{Cause, Error, Signal, SIGKILL, SIGUSR1, SIGUSR2};
use std::os::fd::AsRawFd;
use std::time::Duration;

/// Whether `rx`'s descriptor polls readable within `ms` milliseconds.
fn ready(rx: &impl AsRawFd, ms: i32) -> bool {
    readable(rx.as_raw_fd(), ms)
}

/// Waits (bounded) until `fd` is readable, failing with `what` otherwise.
#[track_caller]
fn expect_readable(fd: &impl AsRawFd, what: &str) {
    assert!(
        ready(fd, RECV.as_millis() as i32),
        "{what}: not readable within {RECV:?}"
    );
}

#[test]
fn readable_while_pending_and_drained_by_reading() {
    isolated(|| {
        let mut rx = SignalFd::new(&[SIGUSR1, SIGUSR2]).unwrap();
        assert!(!ready(&rx, 0), "nothing pending yet");
        assert_eq!(rx.try_recv(), None);
        thread_mask(libc::SIG_BLOCK, SIGUSR1);
        thread_mask(libc::SIG_BLOCK, SIGUSR2);
        // Blocked here, the arrivals land on sigchan's thread; each is handled before the
        // next is sent (the kernel would merge two pending USR2 itself).
        raise_process(SIGUSR2);
        wait_until("USR2 handled", || sigchan::stats(SIGUSR2).arrivals == 1);
        expect_readable(&rx, "after USR2");
        raise_process(SIGUSR2);
        wait_until("USR2 handled again", || {
            sigchan::stats(SIGUSR2).arrivals == 2
        });
        raise_process(SIGUSR1);
        wait_until("USR1 handled", || sigchan::stats(SIGUSR1).arrivals == 1);
        // Lowest signal first, each once: the two USR2 coalesced.
        assert_eq!(rx.try_recv(), Some(SIGUSR1));
        assert!(ready(&rx, 0), "still readable with USR2 buffered");
        assert_eq!(rx.try_recv(), Some(SIGUSR2));
        assert!(!ready(&rx, 0), "drained: not readable");
        assert_eq!(rx.try_recv(), None);
        let s = sigchan::stats(SIGUSR2);
        assert_eq!((s.arrivals, s.coalesced, s.delivered), (2, 1, 1), "{s:?}");
        // And again, through the blocking form.
        raise_process(SIGUSR1);
        assert_eq!(rx.recv_timeout(RECV), Some(SIGUSR1));
        assert_eq!(rx.recv_timeout(Duration::from_millis(50)), None);
        drop(rx);
        for sig in [SIGUSR1, SIGUSR2] {
            assert_eq!(
                kernel_action(sig.as_raw()).handler,
                libc::SIG_DFL,
                "{sig} given back on drop"
            );
        }
    });
}

#[test]
fn info_receivers_get_each_queued_arrival_with_its_value_then_the_lost_ones() {
    isolated(|| {
        let rt = Signal::rtmin(2).unwrap();
        let mut rx = InfoFd::new(&[rt]).unwrap();
        // Blocked everywhere but sigchan's thread (init mode keeps the kernel's order).
        sigchan::init().unwrap();
        let n = FD_INFO_CAPACITY + 6;
        for v in 0..n {
            sigqueue(std::process::id() as i32, rt, 1000 + v);
        }
        expect_readable(&rx, "after the queued signals");
        wait_until("every arrival handled", || {
            sigchan::stats(rt).arrivals == n as u64
        });
        let got: Vec<_> = rx.try_iter().collect();
        assert_eq!(got.len(), n, "one SigInfo per arrival");
        let me = std::process::id() as i32;
        for (v, info) in got.iter().take(FD_INFO_CAPACITY).enumerate() {
            assert_eq!(info.signal(), rt);
            assert_eq!(info.cause(), Cause::Sigqueue);
            assert_eq!(info.pid(), Some(me));
            assert_eq!(info.value(), Some(1000 + v), "in arrival order");
        }
        for info in &got[FD_INFO_CAPACITY..] {
            assert_eq!((info.signal(), info.cause()), (rt, Cause::Lost));
        }
        let s = sigchan::stats(rt);
        assert_eq!((s.origins_lost, s.delivered), (6, n as u64), "{s:?}");
        assert!(!ready(&rx, 0));
    });
}

#[test]
fn a_signal_only_fd_receivers_want_wakes_no_sigchan_thread() {
    isolated(|| {
        let mut rx = SignalFd::new(&[SIGUSR1]).unwrap();
        let switches = || sigchan_thread_switches();
        let before = switches();
        let me = gettid();
        for _ in 0..50 {
            // To this thread: its handler writes the eventfd; nothing else runs.
            raise_thread(me, SIGUSR1);
            expect_readable(&rx, "after USR1");
            assert_eq!(rx.try_recv(), Some(SIGUSR1));
        }
        assert_eq!(sigchan::stats(SIGUSR1).delivered, 50);
        assert_eq!(
            switches(),
            before,
            "sigchan's thread ran for a signal it never carries"
        );
    });
}

/// Context switches of sigchan's signal thread so far (voluntary + involuntary).
fn sigchan_thread_switches() -> u64 {
    for task in std::fs::read_dir("/proc/self/task").unwrap() {
        let dir = task.unwrap().path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if comm.trim() == "sigchan" {
            let status = std::fs::read_to_string(dir.join("status")).unwrap();
            return status
                .lines()
                .filter(|l| l.contains("ctxt_switches"))
                .map(|l| l.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap())
                .sum();
        }
    }
    panic!("no sigchan thread");
}

#[test]
fn a_channel_and_two_fd_receivers_of_one_signal_each_get_it() {
    isolated(|| {
        let (tx, chan) = bounded::<Signal>(4);
        sigchan::notify(&tx, &[SIGUSR2]).unwrap();
        let mut a = SignalFd::new(&[SIGUSR2]).unwrap();
        let mut b = InfoFd::new(&[SIGUSR2]).unwrap();
        raise_process(SIGUSR2);
        assert_eq!(expect_signal(&chan, "USR2 to the channel"), SIGUSR2);
        assert_eq!(a.recv_timeout(RECV), Some(SIGUSR2));
        assert_eq!(b.recv_timeout(RECV).map(|i| i.signal()), Some(SIGUSR2));
        // The channel leaves: the fd receivers keep the signal (and the handler).
        sigchan::stop(&tx);
        raise_process(SIGUSR2);
        assert_eq!(a.recv_timeout(RECV), Some(SIGUSR2));
        drop(a);
        raise_process(SIGUSR2);
        assert_eq!(b.recv_timeout(RECV).map(|i| i.signal()), Some(SIGUSR2));
        drop(b);
        assert_eq!(kernel_action(SIGUSR2.as_raw()).handler, libc::SIG_DFL);
    });
}

#[test]
fn stop_keeps_what_arrived_before_and_nothing_after() {
    isolated(|| {
        let mut rx = SignalFd::new(&[SIGUSR1]).unwrap();
        // Ignored originally: after the stop an arrival takes that action, harmlessly.
        set_disposition(libc::SIGUSR2, libc::SIG_IGN);
        let mut other = SignalFd::new(&[SIGUSR2]).unwrap();
        raise_process(SIGUSR1);
        expect_readable(&rx, "USR1");
        rx.stop();
        assert!(ready(&rx, 0), "what arrived before stays readable");
        assert_eq!(rx.try_recv(), Some(SIGUSR1));
        assert!(!ready(&rx, 0));
        assert_eq!(rx.recv_timeout(Duration::from_millis(10)), None);
        other.stop();
        raise_process(SIGUSR2);
        pause_briefly();
        assert_eq!(other.try_recv(), None, "nothing after the stop");
        assert_eq!(kernel_action(libc::SIGUSR2).handler, libc::SIG_IGN);
    });
}

#[test]
fn stop_racing_kill_delivers_or_takes_the_default_action() {
    let (rounds, defaults) = fd_stop_racing_kill(200);
    assert!(rounds >= 200, "{rounds} rounds, {defaults} default actions");
}

#[test]
fn hand_overs_between_a_channel_and_an_fd_receiver_under_a_storm_are_never_fatal() {
    assert!(fd_hand_overs_under_a_storm(100) > 0);
}

#[test]
fn ignore_and_reset_take_signals_from_fd_receivers() {
    isolated(|| {
        let mut rx = SignalFd::new(&[SIGUSR1, SIGUSR2]).unwrap();
        sigchan::ignore(&[SIGUSR1]).unwrap();
        assert_eq!(kernel_action(libc::SIGUSR1).handler, libc::SIG_IGN);
        raise_process(SIGUSR1);
        raise_process(SIGUSR2);
        assert_eq!(rx.recv_timeout(RECV), Some(SIGUSR2));
        assert_eq!(
            rx.recv_timeout(Duration::from_millis(100)),
            None,
            "USR1 ignored"
        );
        sigchan::reset(&[SIGUSR2]).unwrap();
        assert_eq!(kernel_action(libc::SIGUSR2).handler, libc::SIG_DFL);
        // Nothing left: the receiver still exists, and its stop changes nothing.
        rx.stop();
        assert_eq!(kernel_action(libc::SIGUSR1).handler, libc::SIG_IGN);
    });
}

#[test]
fn bad_input_and_the_receiver_limit_change_nothing() {
    isolated(|| {
        assert!(matches!(
            SignalFd::new(&[SIGUSR1, SIGKILL]),
            Err(Error::Uncatchable(s)) if s == SIGKILL
        ));
        assert_eq!(kernel_action(libc::SIGUSR1).handler, libc::SIG_DFL);
        let mut all: Vec<SignalFd> = (0..MAX_FD_RECEIVERS)
            .map(|_| SignalFd::new(&[SIGUSR1]).unwrap())
            .collect();
        let err = InfoFd::new(&[SIGUSR2]).unwrap_err();
        assert!(
            matches!(err, Error::TooManyFdReceivers { limit } if limit == MAX_FD_RECEIVERS),
            "{err}"
        );
        assert!(err.to_string().contains("fd receivers"), "{err}");
        assert_eq!(kernel_action(libc::SIGUSR2).handler, libc::SIG_DFL);
        raise_process(SIGUSR1);
        for rx in &mut all {
            assert_eq!(
                rx.recv_timeout(RECV),
                Some(SIGUSR1),
                "each receiver gets it"
            );
        }
        all.pop();
        let mut last = InfoFd::new(&[SIGUSR2]).unwrap();
        raise_process(SIGUSR2);
        assert_eq!(last.recv_timeout(RECV).map(|i| i.signal()), Some(SIGUSR2));
    });
}

#[test]
#[cfg_attr(
    sigchan_qemu,
    ignore = "qemu-user 7.2 aborts when a forked child of a threaded process starts a thread"
)]
fn a_forked_child_gets_its_own_descriptor_and_never_robs_the_parent() {
    isolated(|| {
        let mut rx = SignalFd::new(&[SIGUSR1]).unwrap();
        let raw = rx.as_raw_fd();
        // Pending in the parent when it forks: the parent's to read.
        raise_process(SIGUSR1);
        expect_readable(&rx, "USR1 before the fork");
        let child = spawn_forked(|| {
            assert_eq!(
                rx.try_recv(),
                None,
                "the parent's arrival is not the child's"
            );
            assert_eq!(rx.as_raw_fd(), raw, "same number");
            raise_process(SIGUSR1);
            assert_eq!(
                rx.recv_timeout(RECV),
                Some(SIGUSR1),
                "the child's own arrival"
            );
        });
        wait_pid(child, false).assert_success();
        assert!(
            ready(&rx, 0),
            "the child did not consume the parent's readiness"
        );
        assert_eq!(rx.try_recv(), Some(SIGUSR1));
        assert_eq!(
            rx.try_recv(),
            None,
            "the child's arrival stayed in the child"
        );
        assert_eq!(sigchan::stats(SIGUSR1).arrivals, 1);
    });
}

#[test]
fn init_mode_delivers_to_fd_receivers() {
    isolated(|| {
        sigchan::init().unwrap();
        let mut rx = InfoFd::new(&[SIGUSR2]).unwrap();
        let worker = std::thread::spawn(|| raise_process(SIGUSR2));
        worker.join().unwrap();
        let info = rx.recv_timeout(RECV).expect("USR2");
        assert_eq!(info.pid(), Some(std::process::id() as i32));
        assert_eq!(info.cause(), Cause::Kill);
    });
}
