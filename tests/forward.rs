//! `sigchan::forward`: arrivals sent on from the handler to a real process (a catcher that
//! reports every signal it receives), rewritten or discarded, with values, to a group,
//! counted, and stopped with `stop`'s guarantee. Each test runs in a forked child.

mod common;
use common::catcher::{Catcher, Caught};
use common::forwarding::{forward_stop_racing_kill, hand_overs_under_a_storm};
use common::*;
use crossbeam_channel::bounded;
use sigchan::forward::{Forward, Target};
use sigchan::{Error, Signal, SIGHUP, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH};
use std::time::Duration;

const QUIET: Duration = Duration::from_millis(300);

/// The next arrival the catcher reports, or a failure naming `what`.
#[track_caller]
fn expect_caught(c: &Catcher, what: &str) -> Caught {
    c.next(RECV)
        .unwrap_or_else(|| panic!("{what}: nothing reached the target within {RECV:?}"))
}

#[test]
fn forwarded_signals_reach_the_target_rewritten_or_discarded() {
    isolated(|| {
        let c = Catcher::start(false);
        let fwd = Forward::to(Target::Process(c.pid as u32))
            .rewrite(SIGHUP, SIGTERM)
            .discard(SIGWINCH)
            .start(&[SIGHUP, SIGUSR1, SIGWINCH])
            .unwrap();
        raise_process(SIGUSR1);
        let got = expect_caught(&c, "USR1");
        // SAFETY: getpid cannot fail.
        let me = unsafe { libc::getpid() };
        assert_eq!(
            (got.signo, got.code, got.pid),
            (libc::SIGUSR1, libc::SI_USER, me)
        );
        raise_process(SIGHUP);
        assert_eq!(expect_caught(&c, "HUP as TERM").signo, libc::SIGTERM);
        raise_process(SIGWINCH);
        assert_eq!(c.drain(QUIET), vec![], "WINCH is discarded");
        let (usr1, hup, winch) = (
            sigchan::stats(SIGUSR1),
            sigchan::stats(SIGHUP),
            sigchan::stats(SIGWINCH),
        );
        assert_eq!((usr1.forwarded, usr1.arrivals), (1, 0), "{usr1:?}");
        assert_eq!(hup.forwarded, 1, "{hup:?}");
        assert_eq!((winch.discarded, winch.forwarded), (1, 0), "{winch:?}");
        assert_eq!(fwd.target(), Target::Process(c.pid as u32));
        assert!(fwd.pidfd().is_some(), "a process target is held by a pidfd");
        fwd.stop();
        for sig in [SIGHUP, SIGUSR1, SIGWINCH] {
            assert_eq!(
                kernel_action(sig.as_raw()).handler,
                libc::SIG_DFL,
                "{sig} given back"
            );
        }
    });
}

#[test]
fn a_channel_on_a_forwarded_signal_still_receives_and_outlives_the_forward() {
    isolated(|| {
        let c = Catcher::start(false);
        let (tx, rx) = bounded::<Signal>(4);
        sigchan::notify(&tx, &[SIGUSR2]).unwrap();
        let fwd = Forward::to(Target::Process(c.pid as u32))
            .start(&[SIGUSR2])
            .unwrap();
        raise_process(SIGUSR2);
        assert_eq!(expect_signal(&rx, "USR2 to the channel"), SIGUSR2);
        assert_eq!(expect_caught(&c, "USR2 forwarded").signo, libc::SIGUSR2);
        drop(fwd);
        assert_ne!(
            kernel_action(SIGUSR2.as_raw()).handler,
            libc::SIG_DFL,
            "still caught for the channel"
        );
        raise_process(SIGUSR2);
        assert_eq!(expect_signal(&rx, "USR2 after the forward"), SIGUSR2);
        assert_eq!(c.drain(QUIET), vec![], "nothing forwarded after the stop");
        sigchan::stop(&tx);
        assert_eq!(kernel_action(SIGUSR2.as_raw()).handler, libc::SIG_DFL);
    });
}

/// Five queued values of one real-time signal, forwarded: each arrives at the target with
/// its `sigqueue` value. In `init()` mode they also arrive in the order they were queued
/// (sigchan's thread takes them one by one in the kernel's order); in default mode handlers
/// on two threads may forward two close arrivals at once, so those may swap (the crate docs
/// say so).
fn queued_real_time_signals_forwarded(init: bool) {
    isolated(move || {
        if init {
            sigchan::init().unwrap();
        }
        let c = Catcher::start(false);
        let rt = Signal::rtmin(2).unwrap();
        let _fwd = Forward::to(Target::Process(c.pid as u32))
            .start(&[rt])
            .unwrap();
        // SAFETY: getpid cannot fail.
        let me = unsafe { libc::getpid() };
        for v in 1..=5 {
            sigqueue(me, rt, v);
        }
        let mut got: Vec<(i32, i32, i32)> = (0..5)
            .map(|_| expect_caught(&c, "a queued RT signal"))
            .map(|g| (g.signo, g.code, g.value))
            .collect();
        if !init {
            got.sort_by_key(|g| g.2);
        }
        let want: Vec<(i32, i32, i32)> =
            (1..=5).map(|v| (rt.as_raw(), libc::SI_QUEUE, v)).collect();
        assert_eq!(
            got, want,
            "each arrival with its value (init mode: in order)"
        );
        // Counted just after the forward's system call: the target may see it first.
        wait_until("5 forwards counted", || sigchan::stats(rt).forwarded == 5);
    });
}

#[test]
#[cfg_attr(
    sigchan_qemu,
    ignore = "qemu-user refuses pidfd_send_signal with a siginfo (EINVAL): the forward falls \
              back to the bare signal there, without its value; runs natively on x86_64, \
              i686 and x86_64 musl"
)]
fn queued_real_time_signals_arrive_each_with_their_value_and_in_order_in_init_mode() {
    queued_real_time_signals_forwarded(false);
    queued_real_time_signals_forwarded(true);
}

#[test]
fn a_group_target_reaches_every_process_of_the_group() {
    isolated(|| {
        let c = Catcher::start(true);
        // The catcher is its group's leader once it says it is ready.
        let _fwd = Forward::to(Target::Group(c.pid as u32))
            .start(&[SIGUSR1])
            .unwrap();
        assert!(_fwd.pidfd().is_none());
        raise_process(SIGUSR1);
        assert_eq!(expect_caught(&c, "USR1 to the group").signo, libc::SIGUSR1);
    });
}

/// `tap`: an arrival that was pending (blocked) before the forward started is both
/// forwarded and delivered to the tap channel: the two are set up in one step.
#[test]
fn a_tap_hears_of_every_arrival_forwarded_even_one_pending_from_before() {
    isolated(|| {
        let c = Catcher::start(false);
        thread_mask(libc::SIG_BLOCK, SIGUSR1);
        raise_process(SIGUSR1); // pending: every thread blocks it
        let (tx, rx) = bounded(4);
        let _fwd = Forward::to(Target::Process(c.pid as u32))
            .tap(&tx, &[])
            .start(&[SIGUSR1])
            .unwrap();
        let seen: sigchan::SigInfo = expect_signal(&rx, "the tap");
        assert_eq!(seen.signal(), SIGUSR1);
        assert_eq!(expect_caught(&c, "the forward").signo, libc::SIGUSR1);
        raise_process(SIGUSR1);
        assert_eq!(expect_signal(&rx, "the tap again").signal(), SIGUSR1);
        assert_eq!(expect_caught(&c, "forwarded again").signo, libc::SIGUSR1);
        assert!(matches!(
            Forward::to(Target::Process(c.pid as u32))
                .tap(&tx, &[sigchan::SIGKILL])
                .start(&[SIGUSR2]),
            Err(Error::Uncatchable(_))
        ));
        sigchan::stop(&tx);
    });
}

#[test]
fn a_target_that_ended_makes_forwards_fail_and_counts_them() {
    isolated(|| {
        let c = Catcher::start(false);
        let _fwd = Forward::to(Target::Process(c.pid as u32))
            .start(&[SIGUSR1])
            .unwrap();
        drop(c); // killed and reaped: its pid is free, the pidfd still names it
        raise_process(SIGUSR1);
        wait_until("the failed forward counted", || {
            sigchan::stats(SIGUSR1).forward_failed == 1
        });
        assert_eq!(sigchan::stats(SIGUSR1).forwarded, 0);
    });
}

#[test]
fn bad_forwards_are_refused_and_change_nothing() {
    isolated(|| {
        let c = Catcher::start(false);
        let target = Target::Process(c.pid as u32);
        let first = Forward::to(target).start(&[SIGUSR1]).unwrap();
        match Forward::to(target).start(&[SIGUSR2, SIGUSR1]) {
            Err(Error::AlreadyForwarded(s)) => assert_eq!(s, SIGUSR1),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            kernel_action(SIGUSR2.as_raw()).handler,
            libc::SIG_DFL,
            "USR2 untouched by the refused call"
        );
        assert!(matches!(
            Forward::to(Target::Process(0)).start(&[SIGUSR2]),
            Err(Error::BadTarget(0))
        ));
        assert!(matches!(
            Forward::to(Target::Group(u32::MAX)).start(&[SIGUSR2]),
            Err(Error::BadTarget(u32::MAX))
        ));
        assert!(matches!(
            Forward::to(target).start(&[sigchan::SIGKILL]),
            Err(Error::Uncatchable(_))
        ));
        // A pid no process has (pid_max is at most 2^22).
        match Forward::to(Target::Process(1 << 23)).start(&[SIGUSR2]) {
            Err(Error::Os(e)) => assert_eq!(e.raw_os_error(), Some(libc::ESRCH)),
            other => panic!("{other:?}"),
        }
        assert_eq!(kernel_action(SIGUSR2.as_raw()).handler, libc::SIG_DFL);
        drop(first);
        // Once stopped, the signal is free for another forward.
        let _again = Forward::to(target).start(&[SIGUSR1]).unwrap();
    });
}

#[test]
fn ignore_and_reset_end_a_forward() {
    isolated(|| {
        let c = Catcher::start(false);
        let fwd = Forward::to(Target::Process(c.pid as u32))
            .start(&[SIGUSR1, SIGUSR2])
            .unwrap();
        sigchan::ignore(&[SIGUSR1]).unwrap();
        assert_eq!(kernel_action(SIGUSR1.as_raw()).handler, libc::SIG_IGN);
        sigchan::reset(&[SIGUSR2]).unwrap();
        assert_eq!(kernel_action(SIGUSR2.as_raw()).handler, libc::SIG_DFL);
        raise_process(SIGUSR1);
        assert_eq!(c.drain(QUIET), vec![], "an ignored signal is not forwarded");
        // The handle's drop changes nothing of what ignore and reset set.
        drop(fwd);
        assert_eq!(kernel_action(SIGUSR1.as_raw()).handler, libc::SIG_IGN);
    });
}

#[test]
fn a_forked_child_does_not_forward_its_parents_routes() {
    isolated(|| {
        let c = Catcher::start(false);
        let _fwd = Forward::to(Target::Process(c.pid as u32))
            .start(&[SIGUSR1])
            .unwrap();
        let child = spawn_forked(|| {
            raise_process(SIGUSR1);
            // Not reached: USR1's original action (terminate) ends this process.
            std::thread::sleep(Duration::from_secs(60));
        });
        wait_pid(child, false).assert_killed_by(libc::SIGUSR1);
        assert_eq!(c.drain(QUIET), vec![], "the child forwarded nothing");
        raise_process(SIGUSR1);
        assert_eq!(
            expect_caught(&c, "the parent still forwards").signo,
            libc::SIGUSR1
        );
    });
}

#[test]
fn forwarding_works_in_init_mode() {
    isolated(|| {
        sigchan::init().unwrap();
        let c = Catcher::start(false);
        let _fwd = Forward::to(Target::Process(c.pid as u32))
            .start(&[SIGTERM])
            .unwrap();
        raise_process(SIGTERM);
        assert_eq!(expect_caught(&c, "TERM in init mode").signo, libc::SIGTERM);
    });
}

/// Go's TestAtomicStop for forwards: `stop` in one thread while SIGINT is sent from
/// another. Each round the signal is forwarded (before `stop` returns) or takes its
/// default action (death by SIGINT); a process alive with nothing forwarded lost it.
#[test]
#[cfg_attr(
    sigchan_qemu,
    ignore = "qemu-user 7.2 races rt_sigaction against delivery: it can enter a handler at the address another thread just restored (0)"
)]
fn stop_racing_kill_forwards_or_takes_the_default_action() {
    forward_stop_racing_kill(200);
}

/// The hand-over test's body: `rounds` times, a forward takes SIGINT from a channel and
/// gives it back, while another thread sends SIGINT without pause.
#[test]
fn hand_overs_between_a_channel_and_a_forward_never_take_the_default_action() {
    hand_overs_under_a_storm(300);
}
