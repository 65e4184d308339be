//! fork: the child keeps working once it calls sigchan again. Each test runs in a forked
//! child, which forks again.

mod common;
use common::*;
use crossbeam_channel::{bounded, unbounded};
use sigchan::{Signal, SIGUSR1, SIGUSR2, SIGWINCH};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;

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
fn before_its_first_call_a_child_takes_the_original_action_then_receives_again() {
    isolated(|| {
        let (tx, rx) = unbounded::<Signal>();
        sigchan::notify(&tx, &[SIGWINCH]).unwrap();
        let child = spawn_forked(move || {
            // No signal thread here yet: WINCH takes its original action (ignore), it is
            // not held for a thread that may never exist.
            raise_process(SIGWINCH);
            wait_until("WINCH no longer pending", || {
                proc_status_mask("ShdPnd", None) & bit(SIGWINCH) == 0
            });
            assert_eq!(sigchan::stats(SIGWINCH), sigchan::Stats::default());
            sigchan::notify(&tx, &[SIGUSR2]).unwrap(); // starts a thread, re-arms WINCH
            assert!(rx.try_recv().is_err(), "the early WINCH was not queued");
            raise_process(SIGWINCH);
            assert_eq!(expect_signal(&rx, "WINCH after the child's call"), SIGWINCH);
        });
        wait_pid(child, false).assert_success();
    });
}

/// The reproduction: a child that inherits a TERM subscription and never calls
/// sigchan must still die of TERM, not wait for a signal thread it does not have.
#[test]
fn a_child_that_never_calls_sigchan_again_dies_of_an_inherited_term() {
    isolated(|| {
        let (tx, rx) = crossbeam_channel::bounded::<Signal>(1);
        sigchan::notify(&tx, &[sigchan::SIGTERM]).unwrap();
        let child_rx = rx.clone();
        let child = spawn_forked(move || {
            let _ = child_rx.recv_timeout(std::time::Duration::from_secs(120));
            write_stderr("the child outlived TERM\n");
        });
        // SAFETY: our own grandchild.
        unsafe { libc::kill(child, libc::SIGTERM) };
        wait_pid(child, false).assert_killed_by(libc::SIGTERM);
        // The parent still has its subscription.
        raise_process(sigchan::SIGTERM);
        assert_eq!(expect_signal(&rx, "parent TERM"), sigchan::SIGTERM);
    });
}

/// A child made by the raw fork syscall runs no fork handler: sigchan must tell by its pid
/// that it has no signal thread. Its next call must not hang (the old "running" flag was
/// stale), its inherited TERM must kill it before that call, and channels work after it.
#[test]
#[cfg_attr(
    sigchan_qemu,
    ignore = "qemu-user 7.2 aborts when a forked child of a threaded process starts a thread"
)]
fn a_raw_fork_child_neither_hangs_nor_holds_signals() {
    isolated(|| {
        let (tx, rx) = unbounded::<Signal>();
        sigchan::notify(&tx, &[SIGUSR1, sigchan::SIGTERM]).unwrap();
        // Dies of TERM without calling sigchan.
        let deaf = spawn_raw_forked(|| loop {
            pause_briefly();
        });
        // SAFETY: our own grandchild.
        unsafe { libc::kill(deaf, libc::SIGTERM) };
        wait_pid(deaf, false).assert_killed_by(libc::SIGTERM);
        // Calls sigchan: returns, and receives.
        let live = spawn_raw_forked(move || {
            let (t2, r2) = unbounded::<Signal>();
            sigchan::notify(&t2, &[SIGUSR2]).unwrap();
            raise_process(SIGUSR2);
            assert_eq!(expect_signal(&r2, "USR2 in a raw-fork child"), SIGUSR2);
            raise_process(SIGUSR1);
            assert_eq!(expect_signal(&rx, "inherited USR1 after the call"), SIGUSR1);
        });
        wait_pid(live, false).assert_success();
    });
}

/// Counters describe the process they are read in.
#[test]
fn stats_start_from_zero_in_a_forked_child() {
    isolated(|| {
        let (tx, rx) = unbounded::<Signal>();
        sigchan::notify(&tx, &[SIGUSR1]).unwrap();
        raise_process(SIGUSR1);
        expect_signal(&rx, "parent USR1");
        wait_until("parent counted", || sigchan::stats(SIGUSR1).delivered == 1);
        let child = spawn_forked(|| {
            assert_eq!(sigchan::stats(SIGUSR1), sigchan::Stats::default());
        });
        wait_pid(child, false).assert_success();
        assert_eq!(sigchan::stats(SIGUSR1).delivered, 1);
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

/// The limit of `init()` mode with a raw fork: no fork handler runs, so the child keeps the
/// forking thread's mask, every asynchronous signal blocked. An inherited TERM stays pending
/// (no code of sigchan's can run in the child to prevent it); the child becomes killable when
/// it calls `process::restore_signals_in_child()`, as README and `sigchan::process` say.
#[test]
#[cfg_attr(
    sigchan_qemu,
    ignore = "qemu-user emulates a guest's mask and pending signals: /proc shows the host's"
)]
fn a_raw_fork_child_of_an_init_mode_process_holds_term_until_it_restores_its_mask() {
    isolated(|| {
        sigchan::init().unwrap();
        let (tx, _rx) = unbounded::<Signal>();
        sigchan::notify(&tx, &[sigchan::SIGTERM]).unwrap();
        let mut go = [0; 2];
        // SAFETY: a pipe that tells the child when to restore its mask.
        assert_eq!(unsafe { libc::pipe(go.as_mut_ptr()) }, 0);
        let child = spawn_raw_forked(move || {
            let mut b = 0u8;
            // SAFETY: waits for the parent's byte.
            unsafe { libc::read(go[0], &mut b as *mut u8 as *mut libc::c_void, 1) };
            // SAFETY: a single-threaded child (raw fork) making raw calls only.
            unsafe { sigchan::process::restore_signals_in_child() }.unwrap();
            // TERM is delivered as the mask opens; reaching here means it was not.
            pause_briefly();
        });
        // SAFETY: our own grandchild.
        unsafe { libc::kill(child, libc::SIGTERM) };
        wait_until("TERM pending in the raw-fork child", || {
            process_status_mask(child, "ShdPnd") & bit(sigchan::SIGTERM) != 0
        });
        assert_ne!(
            process_status_mask(child, "SigBlk") & bit(sigchan::SIGTERM),
            0,
            "the forking thread's mask"
        );
        // SAFETY: one byte to the child.
        assert_eq!(unsafe { libc::write(go[1], [1u8].as_ptr().cast(), 1) }, 1);
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

/// Forks while other threads keep starting and ending threads, then calls `notify` in each
/// child, 2,000 times. std registers every thread it starts or ends under a process-wide lock
/// of its own; a child forked while another thread held it inherits it held, and a std thread
/// started there would wait for it for ever (seen on musl: the child's `notify` never
/// returned). sigchan starts its thread with `pthread_create`, so the child's `notify` starts
/// it, receives and exits every time. The child uses only sigchan, a channel and raw calls,
/// as the README's fork paragraph asks; `alarm` ends a hung child with SIGALRM.
#[test]
#[cfg_attr(
    sigchan_qemu,
    ignore = "qemu-user 7.2 aborts when a forked child of a threaded process starts a thread"
)]
fn notify_in_a_child_forked_while_threads_start_and_end_never_hangs() {
    isolated(|| {
        let done = Arc::new(AtomicBool::new(false));
        let churners: Vec<_> = (0..2)
            .map(|_| {
                let done = done.clone();
                std::thread::spawn(move || {
                    while !done.load(Relaxed) {
                        std::thread::spawn(|| {}).join().unwrap();
                    }
                })
            })
            .collect();
        for round in 0..2_000 {
            // SAFETY: the child makes raw calls and sigchan calls only, then _exits.
            let pid = unsafe { libc::fork() };
            assert!(pid >= 0, "fork failed");
            if pid == 0 {
                // SAFETY: raw calls in the child.
                unsafe { libc::alarm(60) };
                let (tx, rx) = bounded::<Signal>(1);
                let code = if sigchan::notify(&tx, &[SIGUSR1]).is_err() {
                    1
                } else {
                    // SAFETY: signals this process.
                    unsafe { libc::kill(libc::getpid(), libc::SIGUSR1) };
                    match rx.recv_timeout(RECV) {
                        Ok(_) => 0,
                        Err(_) => 2,
                    }
                };
                // SAFETY: ends the child without the parent's cleanup.
                unsafe { libc::_exit(code) };
            }
            let out = wait_pid(pid, false);
            assert!(
                out.exit_code() == Some(0),
                "round {round}: the child's notify did not return and receive: {out:?}"
            );
        }
        done.store(true, Relaxed);
        for c in churners {
            c.join().unwrap();
        }
    });
}
