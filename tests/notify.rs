//! notify: delivery, copies per channel, repeated calls, `&[]`, full and dropped channels.
//! Each test runs in a forked child (tests/common).

mod common;
use common::*;
use crossbeam_channel::{bounded, unbounded};
use sigchan::{Signal, SIGCHLD, SIGHUP, SIGKILL, SIGSEGV, SIGUSR1, SIGUSR2, SIGWINCH};

#[test]
fn delivers_a_notified_signal() {
    isolated(|| {
        let (tx, rx) = bounded::<Signal>(1);
        sigchan::notify(&tx, &[SIGUSR1]).unwrap();
        raise_process(SIGUSR1);
        assert_eq!(expect_signal(&rx, "USR1"), SIGUSR1);
    });
}

#[test]
fn signal_thread_is_named_and_started_lazily() {
    isolated(|| {
        assert!(!thread_names().iter().any(|n| n == "sigchan"));
        let (tx, _rx) = bounded::<Signal>(1);
        sigchan::notify(&tx, &[SIGUSR1]).unwrap();
        assert_eq!(thread_names().iter().filter(|n| *n == "sigchan").count(), 1);
        sigchan::notify(&tx, &[SIGUSR2]).unwrap();
        assert_eq!(thread_names().iter().filter(|n| *n == "sigchan").count(), 1);
    });
}

#[test]
fn repeated_notify_on_one_channel_adds_signals() {
    isolated(|| {
        let (tx, rx) = unbounded::<Signal>();
        sigchan::notify(&tx, &[SIGUSR1]).unwrap();
        sigchan::notify(&tx, &[SIGUSR2]).unwrap();
        raise_process(SIGUSR1);
        assert_eq!(expect_signal(&rx, "USR1"), SIGUSR1);
        raise_process(SIGUSR2);
        assert_eq!(expect_signal(&rx, "USR2"), SIGUSR2);
        // Notifying the same signal again does not duplicate deliveries.
        sigchan::notify(&tx, &[SIGUSR1]).unwrap();
        raise_process(SIGUSR1);
        assert_eq!(expect_signal(&rx, "USR1 again"), SIGUSR1);
        raise_process(SIGUSR2);
        assert_eq!(expect_signal(&rx, "USR2 again"), SIGUSR2);
        assert!(
            rx.try_recv().is_err(),
            "one arrival, one delivery per channel"
        );
    });
}

#[test]
fn every_channel_gets_its_own_copy() {
    isolated(|| {
        let chans: Vec<_> = (0..3).map(|_| bounded::<Signal>(1)).collect();
        for (tx, _) in &chans {
            sigchan::notify(tx, &[SIGHUP]).unwrap();
        }
        raise_process(SIGHUP);
        for (i, (_, rx)) in chans.iter().enumerate() {
            assert_eq!(expect_signal(rx, &format!("channel {i}")), SIGHUP);
        }
        // Counters are bumped right after each send: wait for the last one.
        wait_until("3 deliveries counted", || {
            sigchan::stats(SIGHUP).delivered == 3
        });
    });
}

/// Go's TestStress-like scenario: a channel nobody reads must not delay another one.
#[test]
fn an_unread_full_channel_does_not_block_others() {
    isolated(|| {
        let (stuck_tx, _stuck_rx) = bounded::<Signal>(1);
        let (tx, rx) = bounded::<Signal>(1);
        sigchan::notify(&stuck_tx, &[SIGWINCH]).unwrap();
        sigchan::notify(&tx, &[SIGWINCH]).unwrap();
        for i in 0..20 {
            raise_process(SIGWINCH);
            assert_eq!(expect_signal(&rx, &format!("round {i}")), SIGWINCH);
        }
        // Counters are bumped right after each send: wait for the last one.
        wait_until("21 deliveries counted", || {
            sigchan::stats(SIGWINCH).delivered == 21
        });
        let s = sigchan::stats(SIGWINCH);
        assert_eq!(
            s.dropped_full, 19,
            "the unread channel took one and dropped the rest: {s:?}"
        );
    });
}

#[test]
fn empty_slice_means_every_catchable_signal() {
    isolated(|| {
        let (tx, rx) = unbounded::<Signal>();
        sigchan::notify(&tx, &[]).unwrap();
        let ours = kernel_action(SIGUSR1.as_raw()).handler;
        for sig in sigchan::SignalSet::catchable() {
            assert_eq!(
                kernel_action(sig.as_raw()).handler,
                ours,
                "{sig} not caught"
            );
        }
        for reserved in 32..libc::SIGRTMIN() {
            assert_ne!(
                kernel_action(reserved).handler,
                ours,
                "glibc's {reserved} must be left alone"
            );
        }
        assert_ne!(kernel_action(SIGKILL.as_raw()).handler, ours);
        for sig in [SIGUSR1, SIGCHLD, Signal::rtmin(2).unwrap(), SIGSEGV] {
            raise_process(sig);
            assert_eq!(expect_signal(&rx, &sig.to_string()), sig);
        }
    });
}

#[test]
fn a_channel_whose_receivers_are_gone_is_unsubscribed() {
    isolated(|| {
        let (tx, rx) = bounded::<Signal>(1);
        let (keep_tx, keep_rx) = bounded::<Signal>(4);
        sigchan::notify(&tx, &[SIGUSR1, SIGWINCH]).unwrap();
        sigchan::notify(&keep_tx, &[SIGWINCH]).unwrap();
        drop(rx);
        // The next delivery finds the channel disconnected and drops the subscription.
        raise_process(SIGWINCH);
        assert_eq!(expect_signal(&keep_rx, "WINCH"), SIGWINCH);
        // USR1 had only the dead channel: its original disposition (SIG_DFL) is back.
        wait_until("USR1 back to SIG_DFL", || {
            kernel_action(SIGUSR1.as_raw()).handler == libc::SIG_DFL
        });
        // WINCH is still caught for the live channel.
        assert_ne!(kernel_action(SIGWINCH.as_raw()).handler, libc::SIG_DFL);
        drop(tx);
    });
}

#[test]
fn process_sent_synchronous_signals_are_delivered() {
    isolated(|| {
        let (tx, rx) = bounded::<Signal>(4);
        sigchan::notify(&tx, &[SIGSEGV, sigchan::SIGFPE]).unwrap();
        raise_process(SIGSEGV);
        assert_eq!(expect_signal(&rx, "kill -SEGV"), SIGSEGV);
        raise_process(sigchan::SIGFPE);
        assert_eq!(expect_signal(&rx, "kill -FPE"), sigchan::SIGFPE);
    });
}

#[test]
fn arrivals_the_kernel_coalesced_make_one_delivery() {
    isolated(|| {
        // Block USR2 in this thread and send it here three times: the kernel keeps one
        // pending standard signal, so the handler runs once when it is unblocked.
        let (tx, rx) = bounded::<Signal>(4);
        sigchan::notify(&tx, &[SIGUSR2]).unwrap();
        thread_mask(libc::SIG_BLOCK, SIGUSR2);
        for _ in 0..3 {
            raise_thread(gettid(), SIGUSR2);
        }
        thread_mask(libc::SIG_UNBLOCK, SIGUSR2);
        assert_eq!(expect_signal(&rx, "USR2"), SIGUSR2);
        wait_until("the arrival counted", || {
            sigchan::stats(SIGUSR2).arrivals == 1
        });
        assert_eq!(sigchan::stats(SIGUSR2).arrivals, 1);
    });
}

/// sigchan follows the C library's real-time range, not a fixed one: glibc keeps 32 and 33
/// for itself (SIGRTMIN 34), musl 32 to 34 (SIGRTMIN 35). Those are refused and left alone;
/// the first one after them is `SIGRTMIN`, named so, and delivered.
#[test]
fn the_real_time_range_is_the_c_librarys() {
    let first = if cfg!(target_env = "musl") { 35 } else { 34 };
    assert_eq!(libc::SIGRTMIN(), first);
    assert_eq!(Signal::rtmin(0).unwrap().as_raw(), first);
    assert_eq!(Signal::new(first).unwrap().to_string(), "SIGRTMIN");
    assert_eq!("SIGRTMIN".parse::<Signal>().unwrap().as_raw(), first);
    isolated(move || {
        let (tx, rx) = unbounded::<Signal>();
        for reserved in 32..first {
            let sig = Signal::new(reserved).unwrap();
            let before = kernel_action(reserved);
            assert!(
                matches!(sigchan::notify(&tx, &[sig]), Err(sigchan::Error::Reserved(s)) if s == sig),
                "{reserved} must be refused"
            );
            assert_eq!(kernel_action(reserved), before, "{reserved} changed");
        }
        let rt = Signal::rtmin(0).unwrap();
        sigchan::notify(&tx, &[rt]).unwrap();
        raise_process(rt);
        assert_eq!(expect_signal(&rx, "SIGRTMIN"), rt);
    });
}
