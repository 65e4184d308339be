//! notify_info: each arrival's origin (kill, tgkill, sigqueue, child events), queued
//! real-time signals with their values in order, the full ring, and stop/ignore/reset on
//! info channels. Each test runs in a forked child (tests/common).

mod common;
use common::*;
use crossbeam_channel::{bounded, unbounded, Receiver};
use sigchan::{Cause, ChildEvent, SigInfo, Signal, SIGCHLD, SIGHUP, SIGINT, SIGUSR1, SIGUSR2};

fn my_pid() -> i32 {
    std::process::id() as i32
}

fn values(rx: &Receiver<SigInfo>, n: usize) -> Vec<usize> {
    (0..n)
        .map(|i| {
            let info = expect_signal(rx, &format!("record {i}"));
            assert_eq!(info.cause(), Cause::Sigqueue, "record {i}: {info:?}");
            info.value().unwrap()
        })
        .collect()
}

#[test]
fn kill_from_another_process_names_the_sender() {
    isolated(|| {
        let (tx, rx) = bounded::<SigInfo>(4);
        sigchan::notify_info(&tx, &[SIGUSR1]).unwrap();
        let parent = my_pid();
        let child = spawn_forked(move || {
            // SAFETY: kill to the parent test process.
            unsafe { libc::kill(parent, libc::SIGUSR1) };
            // Stay alive until the parent has read our name and kills us.
            loop {
                pause_briefly();
            }
        });
        let info = expect_signal(&rx, "USR1 from the child");
        let me = std::fs::read_to_string("/proc/self/comm").unwrap();
        assert_eq!(info.signal(), SIGUSR1);
        assert_eq!(info.cause(), Cause::Kill);
        assert_eq!(info.code(), libc::SI_USER);
        assert_eq!(info.pid(), Some(child));
        // SAFETY: getuid cannot fail.
        assert_eq!(info.uid(), Some(unsafe { libc::getuid() }));
        assert_eq!(info.value(), None);
        assert_eq!(info.sender_name().as_deref(), Some(me.trim_end()));
        // SAFETY: killing our own child.
        unsafe { libc::kill(child, libc::SIGKILL) };
        wait_pid(child, false).assert_killed_by(libc::SIGKILL);
        // Once the sender is gone its name cannot be read: best effort means None.
        assert_eq!(info.sender_name(), None);
    });
}

#[test]
fn tgkill_and_sigqueue_are_told_apart() {
    isolated(|| {
        let (tx, rx) = unbounded::<SigInfo>();
        sigchan::notify_info(&tx, &[SIGUSR2]).unwrap();
        raise_thread(gettid(), SIGUSR2);
        let t = expect_signal(&rx, "tgkill");
        assert_eq!((t.cause(), t.pid()), (Cause::Tkill, Some(my_pid())));
        sigqueue(my_pid(), SIGUSR2, 0xdead_beef);
        let q = expect_signal(&rx, "sigqueue");
        assert_eq!(q.cause(), Cause::Sigqueue);
        assert_eq!(q.value(), Some(0xdead_beef));
        assert_eq!(q.pid(), Some(my_pid()));
        assert!(!q.origin_lost());
    });
}

#[test]
fn child_events_carry_the_child_and_its_status() {
    isolated(|| {
        let (tx, rx) = unbounded::<SigInfo>();
        sigchan::notify_info(&tx, &[SIGCHLD]).unwrap();
        // SAFETY: the grandchild ends at once with _exit.
        let exited = spawn_forked(|| unsafe { libc::_exit(7) });
        let info = expect_signal(&rx, "SIGCHLD for exit");
        assert_eq!(info.cause(), Cause::Child(ChildEvent::Exited(7)));
        assert_eq!(info.pid(), Some(exited));
        wait_pid(exited, false);

        let killed = spawn_forked(|| loop {
            pause_briefly();
        });
        // SAFETY: killing our own child.
        unsafe { libc::kill(killed, libc::SIGKILL) };
        let info = expect_signal(&rx, "SIGCHLD for kill");
        assert_eq!(
            info.cause(),
            Cause::Child(ChildEvent::Killed(libc::SIGKILL))
        );
        assert_eq!(info.pid(), Some(killed));
        wait_pid(killed, false);
    });
}

/// The figure: 200 queued SIGRTMIN+1 with values 0..199 come out as 200 records with
/// those values in that order. Queued while blocked, then released at once when the signal
/// thread unblocks the signal for the subscription: the handler runs 200 times back to back.
#[test]
fn two_hundred_queued_realtime_signals_arrive_in_order_with_their_values() {
    isolated(|| {
        let rt = Signal::rtmin(1).unwrap();
        thread_mask(libc::SIG_BLOCK, rt);
        let (tx, rx) = unbounded::<SigInfo>();
        sigchan::notify_info(&tx, &[SIGUSR1]).unwrap(); // starts the signal thread
        for v in 0..200 {
            sigqueue(my_pid(), rt, v);
        }
        sigchan::notify_info(&tx, &[rt]).unwrap();
        assert_eq!(values(&rx, 200), (0..200).collect::<Vec<_>>());
        assert!(rx.try_recv().is_err());
        sigchan::stop(&tx);
        let s = sigchan::stats(rt);
        assert_eq!((s.arrivals, s.origins_lost), (200, 0));
        // One info channel, no plain one: every arrival delivered once, merged or not.
        assert_eq!(s.delivered + s.dropped_full, s.arrivals, "{s:?}");
    });
}

/// Subscribes an info channel to `rt`, has a child process `sigqueue` the values 0..200 to
/// us, and returns the values in the order they came out.
fn realtime_values_from_a_child(rt: Signal) -> Vec<usize> {
    let (tx, rx) = unbounded::<SigInfo>();
    sigchan::notify_info(&tx, &[rt]).unwrap();
    let parent = my_pid();
    let child = spawn_forked(move || {
        for v in 0..200 {
            sigqueue(parent, rt, v);
        }
    });
    let got = values(&rx, 200);
    wait_pid(child, false).assert_success();
    got
}

/// The same from another process while subscribed, in init() mode (one thread runs every
/// handler, so the kernel's order is kept).
#[test]
fn realtime_values_from_another_process_keep_their_order_in_init_mode() {
    isolated(|| {
        sigchan::init().unwrap();
        let got = realtime_values_from_a_child(Signal::rtmin(1).unwrap());
        assert_eq!(got, (0..200).collect::<Vec<_>>());
    });
}

/// Default mode: several threads may run handlers at once, so only completeness is
/// promised (see `notify_info`'s "Order"): every value arrives exactly once.
#[test]
fn realtime_values_from_another_process_all_arrive_in_default_mode() {
    isolated(|| {
        let mut got = realtime_values_from_a_child(Signal::rtmin(2).unwrap());
        got.sort_unstable();
        assert_eq!(got, (0..200).collect::<Vec<_>>());
    });
}

/// More arrivals at once than the ring holds: the first INFO_CAPACITY keep their origin, the
/// rest still arrive, one `Cause::Lost` each, and are counted.
#[test]
fn a_full_ring_loses_origins_not_signals() {
    isolated(|| {
        let rt = Signal::rtmin(3).unwrap();
        let extra = 88;
        let total = sigchan::INFO_CAPACITY + extra;
        let (tx, rx) = unbounded::<SigInfo>();
        sigchan::notify_info(&tx, &[SIGUSR1]).unwrap();
        // Blocked here only once sigchan's thread runs: a signal its starter had blocked, it
        // takes one at a time with rt_sigtimedwait, and the ring never fills. This one it
        // unblocks, and the kernel runs every pending handler back to back.
        thread_mask(libc::SIG_BLOCK, rt);
        for v in 0..total {
            sigqueue(my_pid(), rt, v);
        }
        sigchan::notify_info(&tx, &[rt]).unwrap();
        let recorded = values(&rx, sigchan::INFO_CAPACITY);
        assert_eq!(recorded, (0..sigchan::INFO_CAPACITY).collect::<Vec<_>>());
        for n in 0..extra {
            let lost = expect_signal(&rx, &format!("lost arrival {n} of {extra}"));
            assert_eq!((lost.signal(), lost.cause()), (rt, Cause::Lost));
            assert!(lost.origin_lost() && lost.pid().is_none() && lost.value().is_none());
        }
        assert!(rx.try_recv().is_err(), "exactly {extra} Lost");
        let s = sigchan::stats(rt);
        assert_eq!(s.arrivals, total as u64);
        assert_eq!(s.origins_lost, extra as u64);
        // One info subscriber: one value per arrival, Lost ones included.
        assert_eq!(s.delivered + s.dropped_full, s.arrivals, "{s:?}");
        // The ring drains: the next arrival has its origin again.
        sigqueue(my_pid(), rt, 7);
        assert_eq!(expect_signal(&rx, "after the overflow").value(), Some(7));
    });
}

/// `Stats`' identity under a flood, with a plain and an info channel on the same signals:
/// `delivered + dropped_full == plain * (arrivals - coalesced) + info * arrivals`. A small
/// plain channel drops, an undrained info channel fills, the ring may overflow: every
/// arrival is still accounted for. Bounded by work (a count of sends), not by time.
#[test]
fn stats_add_up_under_a_flood_with_plain_and_info_channels() {
    let out = run_in_child(|| {
        let rt = Signal::rtmin(4).unwrap();
        let (plain_tx, plain_rx) = bounded::<Signal>(4);
        let (info_tx, info_rx) = bounded::<SigInfo>(64);
        let (info2_tx, info2_rx) = unbounded::<SigInfo>();
        sigchan::notify(&plain_tx, &[SIGUSR1, rt]).unwrap();
        sigchan::notify_info(&info_tx, &[SIGUSR1, rt]).unwrap();
        sigchan::notify_info(&info2_tx, &[rt]).unwrap();
        let pid = my_pid();
        let senders: Vec<_> = (0..2)
            .map(|_| {
                std::thread::spawn(move || {
                    for v in 0..5000 {
                        raise_process(SIGUSR1);
                        sigqueue(pid, rt, v);
                    }
                })
            })
            .collect();
        for s in senders {
            s.join().unwrap();
        }
        // stop waits until everything that arrived while subscribed is delivered.
        sigchan::stop(&plain_tx);
        sigchan::stop(&info_tx);
        sigchan::stop(&info2_tx);
        let usr1 = sigchan::stats(SIGUSR1);
        let real = sigchan::stats(rt);
        assert!(usr1.arrivals > 0 && real.arrivals > 0);
        assert_eq!(
            usr1.delivered + usr1.dropped_full,
            (usr1.arrivals - usr1.coalesced) + usr1.arrivals,
            "SIGUSR1, 1 plain + 1 info: {usr1:?}"
        );
        assert_eq!(
            real.delivered + real.dropped_full,
            (real.arrivals - real.coalesced) + 2 * real.arrivals,
            "{rt}, 1 plain + 2 info: {real:?}"
        );
        // Each info channel holds what it was sent: the unbounded one every arrival.
        assert_eq!(info2_rx.len() as u64, real.arrivals);
        let lost = info2_rx.try_iter().filter(|i| i.origin_lost()).count();
        assert_eq!(lost as u64, real.origins_lost);
        write_stderr(&format!(
            "SIGUSR1 {usr1:?}\n{rt} {real:?}\nplain held {}, bounded info held {}\n",
            plain_rx.len(),
            info_rx.len()
        ));
    });
    out.assert_success();
    eprintln!("{}", out.stderr);
}

#[test]
fn plain_and_info_channels_share_a_signal_each_in_its_own_way() {
    isolated(|| {
        let rt = Signal::rtmin(4).unwrap();
        // Only the signal thread runs handlers: one at a time, in the kernel's order.
        thread_mask(libc::SIG_BLOCK, rt);
        let (info_tx, info_rx) = unbounded::<SigInfo>();
        let (plain_tx, plain_rx) = unbounded::<Signal>();
        sigchan::notify_info(&info_tx, &[rt]).unwrap();
        sigchan::notify(&plain_tx, &[rt]).unwrap();
        for v in 0..5 {
            sigqueue(my_pid(), rt, v);
        }
        assert_eq!(values(&info_rx, 5), vec![0, 1, 2, 3, 4]);
        // The plain channel got the signal, coalesced: at least once, at most five times.
        let plain = plain_rx.try_iter().filter(|&s| s == rt).count();
        assert!((1..=5).contains(&plain), "plain deliveries: {plain}");
    });
}

#[test]
fn stop_on_an_info_channel_ends_delivery_and_restores_the_disposition() {
    isolated(|| {
        let (tx, rx) = bounded::<SigInfo>(4);
        sigchan::notify_info(&tx, &[SIGHUP]).unwrap();
        raise_process(SIGHUP);
        expect_signal(&rx, "HUP");
        sigchan::stop(&tx);
        assert_eq!(kernel_action(libc::SIGHUP).handler, libc::SIG_DFL);
        set_disposition(libc::SIGHUP, libc::SIG_IGN);
        raise_process(SIGHUP);
        pause_briefly();
        assert!(rx.try_recv().is_err());
    });
}

#[test]
fn ignore_and_reset_apply_to_info_channels() {
    isolated(|| {
        let (tx, rx) = bounded::<SigInfo>(4);
        sigchan::notify_info(&tx, &[SIGUSR1, SIGUSR2]).unwrap();
        sigchan::ignore(&[SIGUSR1]).unwrap();
        assert!(sigchan::ignored(SIGUSR1));
        raise_process(SIGUSR1);
        raise_process(SIGUSR2);
        assert_eq!(expect_signal(&rx, "USR2").signal(), SIGUSR2);
        sigchan::reset(&[SIGUSR2]).unwrap();
        assert_eq!(kernel_action(libc::SIGUSR2).handler, libc::SIG_DFL);
        assert!(rx.try_recv().is_err(), "USR1 was ignored");
    });
}

#[test]
fn a_dropped_info_receiver_is_unsubscribed() {
    isolated(|| {
        let (tx, rx) = bounded::<SigInfo>(1);
        sigchan::notify_info(&tx, &[SIGUSR1]).unwrap();
        drop(rx);
        raise_process(SIGUSR1);
        wait_until("USR1 given back", || {
            kernel_action(libc::SIGUSR1).handler == libc::SIG_DFL
        });
    });
}

/// Go's TestAtomicStop on an info channel: each SIGINT racing `stop` reaches the channel or
/// kills the child by default, never neither.
#[test]
#[cfg_attr(
    sigchan_qemu,
    ignore = "qemu-user 7.2 races rt_sigaction against delivery: it can enter a handler at the address another thread just restored (0)"
)]
fn stop_racing_kill_on_info_channels_never_loses_a_signal() {
    let (done, defaults) =
        stop_racing_kill_with::<SigInfo>(300, |tx| sigchan::notify_info(tx, &[SIGINT]).unwrap());
    assert!(done >= 300);
    eprintln!("300 rounds: {defaults} took the default action");
}

#[test]
fn bad_signals_change_nothing() {
    isolated(|| {
        let (tx, _rx) = bounded::<SigInfo>(1);
        let err = sigchan::notify_info(&tx, &[SIGUSR1, sigchan::SIGKILL]).unwrap_err();
        assert!(matches!(err, sigchan::Error::Uncatchable(_)), "{err}");
        assert_eq!(kernel_action(libc::SIGUSR1).handler, libc::SIG_DFL);
        let reserved = Signal::new(32).unwrap();
        assert!(sigchan::notify_info(&tx, &[reserved]).is_err());
    });
}
