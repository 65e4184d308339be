//! stop: no delivery after it returns, no lost signal when it races one, dispositions back,
//! no hang when nothing was enabled. Each test runs in a forked child.

mod common;
use common::*;
use crossbeam_channel::{bounded, unbounded};
use sigchan::{Signal, SIGTERM, SIGUSR1, SIGWINCH};
use std::time::Duration;

#[test]
fn stopped_channel_gets_nothing_while_others_still_do() {
    isolated(|| {
        let (a_tx, a_rx) = bounded::<Signal>(4);
        let (b_tx, b_rx) = bounded::<Signal>(4);
        sigchan::notify(&a_tx, &[SIGWINCH]).unwrap();
        sigchan::notify(&b_tx, &[SIGWINCH]).unwrap();
        sigchan::stop(&a_tx);
        raise_process(SIGWINCH);
        assert_eq!(expect_signal(&b_rx, "WINCH to the live channel"), SIGWINCH);
        assert!(
            a_rx.try_recv().is_err(),
            "stopped channel received a signal"
        );
    });
}

#[test]
fn stop_on_a_channel_never_notified_returns_at_once() {
    // Go hung in signalWaitUntilIdle when no signal was ever enabled.
    isolated(|| {
        let (tx, _rx) = bounded::<Signal>(1);
        sigchan::stop(&tx);
        sigchan::stop(&tx);
        assert!(
            !thread_names().iter().any(|n| n == "sigchan"),
            "stop alone must not start anything"
        );
    });
}

#[test]
fn stop_twice_is_harmless() {
    isolated(|| {
        let (tx, _rx) = bounded::<Signal>(1);
        sigchan::notify(&tx, &[SIGUSR1]).unwrap();
        sigchan::stop(&tx);
        sigchan::stop(&tx);
        assert_eq!(kernel_action(SIGUSR1.as_raw()).handler, libc::SIG_DFL);
    });
}

#[test]
fn last_stop_restores_the_original_disposition() {
    extern "C" fn previous(_: libc::c_int) {}
    isolated(|| {
        set_disposition(SIGUSR1.as_raw(), previous as *const () as usize);
        let (a, _ra) = bounded::<Signal>(1);
        let (b, _rb) = bounded::<Signal>(1);
        sigchan::notify(&a, &[SIGUSR1]).unwrap();
        sigchan::notify(&b, &[SIGUSR1]).unwrap();
        let ours = kernel_action(SIGUSR1.as_raw()).handler;
        assert_ne!(ours, previous as *const () as usize);
        sigchan::stop(&a);
        assert_eq!(
            kernel_action(SIGUSR1.as_raw()).handler,
            ours,
            "b still subscribes"
        );
        sigchan::stop(&b);
        assert_eq!(
            kernel_action(SIGUSR1.as_raw()).handler,
            previous as *const () as usize
        );
    });
}

#[test]
fn uncaught_signal_after_stop_takes_its_default_action() {
    let out = run_in_child(|| {
        let (tx, _rx) = bounded::<Signal>(1);
        sigchan::notify(&tx, &[SIGTERM]).unwrap();
        sigchan::stop(&tx);
        raise_process(SIGTERM);
        std::thread::sleep(Duration::from_secs(5));
        write_stderr("survived SIGTERM after stop\n");
    });
    out.assert_killed_by(libc::SIGTERM);
}

#[test]
fn uncaught_signal_after_stop_stays_ignored_if_it_was() {
    isolated(|| {
        set_disposition(SIGTERM.as_raw(), libc::SIG_IGN);
        let (tx, _rx) = bounded::<Signal>(1);
        sigchan::notify(&tx, &[SIGTERM]).unwrap();
        assert!(
            !sigchan::ignored(SIGTERM),
            "notify catches an ignored signal"
        );
        sigchan::stop(&tx);
        assert!(sigchan::ignored(SIGTERM));
        raise_process(SIGTERM); // must not kill
    });
}

/// Go's TestAtomicStop, 1000 rounds: the signal reaches the channel or takes its default
/// action, never neither (see `common::stop_racing_kill`).
#[test]
#[cfg_attr(
    sigchan_qemu,
    ignore = "qemu-user 7.2 races rt_sigaction against delivery: it can enter a handler at the address another thread just restored (0)"
)]
fn stop_racing_kill_never_loses_a_signal() {
    let (done, defaults) = stop_racing_kill(1000);
    eprintln!("{done} rounds, {defaults} rounds took the default action");
}

/// After `stop` returns, no signal reaches the channel, even under a storm from another
/// thread (the stopping list drains before `stop` returns).
#[test]
#[cfg_attr(
    sigchan_qemu,
    ignore = "qemu-user 7.2 races rt_sigaction against delivery: it can enter a handler at the address another thread just restored (0)"
)]
fn nothing_is_delivered_after_stop_returns_under_a_storm() {
    isolated(|| {
        let (keep_tx, _keep_rx) = unbounded::<Signal>();
        sigchan::notify(&keep_tx, &[SIGWINCH]).unwrap();
        let storm = Storm::start(SIGWINCH);
        for round in 0..300 {
            let (tx, rx) = unbounded::<Signal>();
            sigchan::notify(&tx, &[SIGWINCH]).unwrap();
            sigchan::stop(&tx);
            let after_stop = rx.len();
            let until = std::time::Instant::now() + Duration::from_millis(2);
            while std::time::Instant::now() < until {
                std::hint::spin_loop();
            }
            assert_eq!(
                rx.len(),
                after_stop,
                "round {round}: delivery after stop returned"
            );
        }
        storm.stop();
    });
}
