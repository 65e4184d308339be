//! fork: the child keeps working once it calls sigchan again. Each test runs in a forked
//! child, which forks again.

mod common;
use common::*;
use crossbeam_channel::unbounded;
use sigchan::{Signal, SIGUSR1, SIGUSR2, SIGWINCH};

// qemu-user 7.2 aborts (`cpu_exec: assertion failed: (cpu == current_cpu)`) when a process
// forked from a multi-threaded guest starts a thread, with or without sigchan. Tests whose
// forked grandchild starts sigchan's thread are ignored there (`--cfg sigchan_qemu`, set by
// .ci/run for the aarch64 run only); they run natively.

#[test]
#[cfg_attr(
    sigchan_qemu,
    ignore = "qemu-user 7.2 aborts when a forked child of a threaded process starts a thread"
)]
fn forked_child_keeps_receiving_after_calling_sigchan_again() {
    isolated(|| {
        let (tx, rx) = unbounded::<Signal>();
        sigchan::notify(&tx, &[SIGUSR1]).unwrap();
        raise_process(SIGUSR1);
        assert_eq!(expect_signal(&rx, "parent USR1"), SIGUSR1);
        let child_rx = rx.clone();
        let child = spawn_forked(move || {
            let rx = child_rx;
            assert!(
                !thread_names().iter().any(|n| n == "sigchan"),
                "fork copies one thread"
            );
            let (tx2, rx2) = unbounded::<Signal>();
            sigchan::notify(&tx2, &[SIGUSR2]).unwrap();
            raise_process(SIGUSR1);
            assert_eq!(expect_signal(&rx, "inherited subscription"), SIGUSR1);
            raise_process(SIGUSR2);
            assert_eq!(expect_signal(&rx2, "new subscription"), SIGUSR2);
            sigchan::stop(&tx2);
            sigchan::stop(&tx);
        });
        wait_pid(child, false).assert_success();
        // The parent is unaffected.
        raise_process(SIGUSR1);
        assert_eq!(expect_signal(&rx, "parent USR1 after fork"), SIGUSR1);
    });
}

#[test]
#[cfg_attr(
    sigchan_qemu,
    ignore = "qemu-user 7.2 aborts when a forked child of a threaded process starts a thread"
)]
fn signal_arriving_in_the_child_before_its_first_call_is_delivered() {
    isolated(|| {
        let (tx, rx) = unbounded::<Signal>();
        sigchan::notify(&tx, &[SIGWINCH]).unwrap();
        let child = spawn_forked(move || {
            raise_process(SIGWINCH); // queued: no signal thread in the child yet
            sigchan::notify(&tx, &[SIGWINCH]).unwrap(); // starts one, which drains
            assert_eq!(
                expect_signal(&rx, "WINCH queued before the thread"),
                SIGWINCH
            );
        });
        wait_pid(child, false).assert_success();
    });
}

#[test]
#[cfg_attr(
    sigchan_qemu,
    ignore = "qemu-user 7.2 aborts when a forked child of a threaded process starts a thread"
)]
fn stop_in_a_child_that_never_called_sigchan_does_not_hang() {
    isolated(|| {
        let (tx, _rx) = unbounded::<Signal>();
        sigchan::notify(&tx, &[SIGUSR1]).unwrap();
        let child = spawn_forked(move || sigchan::stop(&tx));
        wait_pid(child, false).assert_success();
    });
}

#[test]
#[cfg_attr(
    sigchan_qemu,
    ignore = "qemu-user 7.2 aborts when a forked child of a threaded process starts a thread"
)]
fn forking_during_a_signal_storm_never_deadlocks_the_child() {
    isolated(|| {
        let (tx, _rx) = unbounded::<Signal>();
        sigchan::notify(&tx, &[SIGWINCH]).unwrap();
        let storm = Storm::start(SIGWINCH);
        for _ in 0..50 {
            let tx = tx.clone();
            let child = spawn_forked(move || {
                let (t2, r2) = unbounded::<Signal>();
                sigchan::notify(&t2, &[SIGUSR2]).unwrap();
                raise_process(SIGUSR2);
                assert_eq!(expect_signal(&r2, "USR2 in child"), SIGUSR2);
                sigchan::stop(&t2);
                sigchan::stop(&tx);
            });
            wait_pid(child, false).assert_success();
        }
        storm.stop();
    });
}

#[test]
fn child_of_an_init_mode_process_can_still_be_terminated() {
    // init() blocks TERM in the forking thread; the child has no signal thread until it calls
    // sigchan. Without the fork handler giving the thread its signals back, TERM would stay
    // pending forever and the child could not be terminated.
    isolated(|| {
        sigchan::init().unwrap();
        let child = spawn_forked(|| loop {
            pause_briefly();
        });
        // SAFETY: our own grandchild.
        unsafe { libc::kill(child, libc::SIGTERM) };
        wait_pid(child, false).assert_killed_by(libc::SIGTERM);
    });
}

#[test]
#[cfg_attr(
    sigchan_qemu,
    ignore = "qemu-user 7.2 aborts when a forked child of a threaded process starts a thread"
)]
fn child_of_an_init_mode_process_can_return_to_init_mode() {
    isolated(|| {
        sigchan::init().unwrap();
        let child = spawn_forked(|| {
            sigchan::init().unwrap();
            let (tx, rx) = unbounded::<Signal>();
            sigchan::notify(&tx, &[SIGUSR1]).unwrap();
            assert_ne!(proc_status_mask("SigBlk", Some(gettid())) & bit(SIGUSR1), 0);
            raise_process(SIGUSR1);
            assert_eq!(expect_signal(&rx, "USR1 in the child's init mode"), SIGUSR1);
        });
        wait_pid(child, false).assert_success();
    });
}
