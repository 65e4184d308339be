//! `init()`: the masked process. Each test runs in a forked child.

mod common;
use common::*;
use crossbeam_channel::unbounded;
use sigchan::{Signal, SIGTERM, SIGUSR1};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[test]
fn workers_never_see_eintr_and_signals_still_arrive() {
    isolated(|| {
        sigchan::init().unwrap();
        let (tx, rx) = unbounded::<Signal>();
        sigchan::notify(&tx, &[SIGUSR1]).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let workers: Vec<_> = (0..3)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let blocked = proc_status_mask("SigBlk", Some(gettid()));
                    assert_ne!(blocked & bit(SIGUSR1), 0, "worker inherited no block");
                    let mut eintr = 0;
                    while !stop.load(Ordering::SeqCst) {
                        // poll(2) is never restarted after a handler: EINTR if one ran here.
                        // SAFETY: no fds, a 20 ms timeout.
                        if unsafe { libc::poll(std::ptr::null_mut(), 0, 20) } < 0 {
                            eintr += 1;
                        }
                    }
                    eintr
                })
            })
            .collect();
        for _ in 0..300 {
            raise_process(SIGUSR1);
            std::thread::yield_now();
        }
        assert_eq!(expect_signal(&rx, "USR1 in init mode"), SIGUSR1);
        stop.store(true, Ordering::SeqCst);
        for w in workers {
            assert_eq!(w.join().unwrap(), 0, "a worker saw EINTR");
        }
        wait_until("arrivals counted", || sigchan::stats(SIGUSR1).arrivals >= 1);
    });
}

#[test]
fn only_the_signal_thread_has_signals_unblocked() {
    isolated(|| {
        sigchan::init().unwrap();
        let me = proc_status_mask("SigBlk", Some(gettid()));
        for sig in [
            SIGTERM,
            SIGUSR1,
            sigchan::SIGINT,
            sigchan::SIGHUP,
            sigchan::SIGCHLD,
        ] {
            assert_ne!(me & bit(sig), 0, "{sig} not blocked in the caller");
        }
        for sync in [
            sigchan::SIGSEGV,
            sigchan::SIGBUS,
            sigchan::SIGFPE,
            sigchan::SIGILL,
            sigchan::SIGTRAP,
            sigchan::SIGSYS,
        ] {
            assert_eq!(me & bit(sync), 0, "{sync} must never be blocked");
        }
        for reserved in 32..libc::SIGRTMIN() {
            assert_eq!(
                me & (1 << (reserved - 1)),
                0,
                "glibc's {reserved} must never be blocked"
            );
        }
        let tid = std::fs::read_dir("/proc/self/task")
            .unwrap()
            .filter_map(|e| e.ok())
            .find(|e| {
                std::fs::read_to_string(e.path().join("comm")).is_ok_and(|c| c.trim() == "sigchan")
            })
            .map(|e| e.file_name().to_string_lossy().parse::<i32>().unwrap())
            .expect("a sigchan thread");
        let theirs = proc_status_mask("SigBlk", Some(tid));
        assert_eq!(
            theirs & bit(SIGTERM),
            0,
            "the signal thread must take unsubscribed TERM"
        );
    });
}

#[test]
fn unsubscribed_term_still_terminates_in_init_mode() {
    let out = run_in_child(|| {
        sigchan::init().unwrap();
        raise_process(SIGTERM);
        std::thread::sleep(std::time::Duration::from_secs(5));
        write_stderr("survived SIGTERM in init mode\n");
    });
    out.assert_killed_by(libc::SIGTERM);
}

#[test]
fn term_still_terminates_when_only_other_signals_are_notified() {
    let out = run_in_child(|| {
        sigchan::init().unwrap();
        let (tx, _rx) = unbounded::<Signal>();
        sigchan::notify(&tx, &[SIGUSR1]).unwrap();
        sigchan::stop(&tx);
        raise_process(SIGTERM);
        std::thread::sleep(std::time::Duration::from_secs(5));
        write_stderr("survived SIGTERM in init mode\n");
    });
    out.assert_killed_by(libc::SIGTERM);
}

#[test]
fn init_is_idempotent_and_keeps_signals_the_caller_had_blocked() {
    isolated(|| {
        // The program blocks USR2 for its own sigwait before init: it must stay blocked.
        thread_mask(libc::SIG_BLOCK, sigchan::SIGUSR2);
        sigchan::init().unwrap();
        sigchan::init().unwrap();
        assert_eq!(thread_names().iter().filter(|n| *n == "sigchan").count(), 1);
        raise_process(sigchan::SIGUSR2);
        assert_ne!(
            proc_status_mask("ShdPnd", None) & bit(sigchan::SIGUSR2),
            0,
            "USR2 should stay pending"
        );
    });
}

/// The signals `init` blocked on `thread`, as they stand in its `/proc` status.
fn pending_on(tid: i32) -> u64 {
    proc_status_mask("SigPnd", Some(tid))
}

/// Runs `f` on a new worker thread (which inherits init's block) and returns its tid and a
/// sender that ends it.
fn worker() -> (
    i32,
    crossbeam_channel::Sender<()>,
    std::thread::JoinHandle<()>,
) {
    let (tid_tx, tid_rx) = crossbeam_channel::bounded(1);
    let (end_tx, end_rx) = crossbeam_channel::bounded::<()>(1);
    let h = std::thread::spawn(move || {
        tid_tx.send(gettid()).unwrap();
        let _ = end_rx.recv();
    });
    (tid_rx.recv().unwrap(), end_tx, h)
}

#[test]
fn raise_reaches_subscribers_in_init_mode_where_libc_raise_stays_stuck() {
    isolated(|| {
        sigchan::init().unwrap();
        let (tx, rx) = unbounded::<Signal>();
        sigchan::notify(&tx, &[SIGUSR1]).unwrap();
        // libc::raise is thread-directed: on this masked thread it stays pending for ever.
        // SAFETY: raise on our own thread.
        unsafe { libc::raise(libc::SIGUSR1) };
        assert_ne!(
            pending_on(gettid()) & bit(SIGUSR1),
            0,
            "libc::raise is stuck"
        );
        assert!(rx.try_recv().is_err());
        // sigchan::raise unblocks it for the call: the pending one and the new one are
        // taken here (the kernel merges two pending USR1), and delivered.
        sigchan::raise(SIGUSR1).unwrap();
        assert_eq!(expect_signal(&rx, "USR1 from sigchan::raise"), SIGUSR1);
        assert_eq!(pending_on(gettid()) & bit(SIGUSR1), 0);
        // The block is back.
        assert_ne!(proc_status_mask("SigBlk", Some(gettid())) & bit(SIGUSR1), 0);
    });
}

#[test]
fn raise_of_an_unsubscribed_term_terminates_in_init_mode() {
    let out = run_in_child(|| {
        sigchan::init().unwrap();
        let (tx, _rx) = unbounded::<Signal>();
        sigchan::notify(&tx, &[SIGUSR1]).unwrap();
        sigchan::raise(SIGTERM).unwrap();
        write_stderr("survived sigchan::raise(SIGTERM)\n");
    });
    out.assert_killed_by(libc::SIGTERM);
}

#[test]
fn raise_of_an_unsubscribed_term_terminates_in_default_mode() {
    let out = run_in_child(|| {
        sigchan::raise(SIGTERM).unwrap();
        write_stderr("survived sigchan::raise(SIGTERM)\n");
    });
    out.assert_killed_by(libc::SIGTERM);
}

#[test]
fn raise_refuses_reserved_signals_and_keeps_a_block_the_program_made() {
    isolated(|| {
        let reserved = Signal::new(32).unwrap();
        assert!(matches!(
            sigchan::raise(reserved),
            Err(sigchan::Error::Reserved(_))
        ));
        // Blocked by the program itself: raise leaves it pending, as libc::raise does.
        thread_mask(libc::SIG_BLOCK, sigchan::SIGUSR2);
        sigchan::init().unwrap();
        sigchan::raise(sigchan::SIGUSR2).unwrap();
        assert_ne!(pending_on(gettid()) & bit(sigchan::SIGUSR2), 0);
    });
}

/// `pthread_kill` and `tgkill` at a worker: only that thread can take the signal, and it
/// blocks it, so it stays pending there (documented in `init`); the documented alternatives
/// (`kill` to the process, `sigchan::raise` on the worker) reach the subscriber.
#[test]
fn signals_aimed_at_a_masked_worker_stay_pending_and_the_alternatives_deliver() {
    isolated(|| {
        sigchan::init().unwrap();
        let (tx, rx) = unbounded::<Signal>();
        sigchan::notify(&tx, &[SIGUSR1, sigchan::SIGUSR2]).unwrap();
        let (tid, end, h) = worker();
        raise_thread(tid, SIGUSR1); // tgkill
        let (ptx, prx) = crossbeam_channel::bounded(1);
        let (pk_end, pk_ended) = crossbeam_channel::bounded::<()>(1);
        let pk = std::thread::spawn(move || {
            ptx.send(gettid()).unwrap();
            let _ = pk_ended.recv();
        });
        let pk_tid = prx.recv().unwrap();
        // The pthread_t from std's handle (a pointer on musl, an integer on glibc).
        let pthread = std::os::unix::thread::JoinHandleExt::as_pthread_t(&pk);
        // SAFETY: the thread waits on pk_ended, alive until pk_end is dropped below.
        assert_eq!(
            unsafe { libc::pthread_kill(pthread as libc::pthread_t, libc::SIGUSR2) },
            0
        );
        wait_until("USR1 pending on the tgkill'd worker", || {
            pending_on(tid) & bit(SIGUSR1) != 0
        });
        wait_until("USR2 pending on the pthread_kill'd worker", || {
            pending_on(pk_tid) & bit(sigchan::SIGUSR2) != 0
        });
        assert!(
            rx.try_recv().is_err(),
            "a thread-directed signal was delivered"
        );
        // Alternatives: kill to the process; sigchan::raise on a worker itself.
        raise_process(SIGUSR1);
        assert_eq!(expect_signal(&rx, "kill to the process"), SIGUSR1);
        std::thread::spawn(|| sigchan::raise(sigchan::SIGUSR2).unwrap())
            .join()
            .unwrap();
        assert_eq!(
            expect_signal(&rx, "sigchan::raise on a worker"),
            sigchan::SIGUSR2
        );
        drop(pk_end);
        pk.join().unwrap();
        drop(end);
        h.join().unwrap();
    });
}

/// A timer aimed at a masked worker with SIGEV_THREAD_ID stays pending there; the same
/// timer with SIGEV_SIGNAL (process-directed) is delivered.
#[test]
#[cfg_attr(
    sigchan_qemu,
    ignore = "qemu-user 7.2 does not leave a SIGEV_THREAD_ID timer signal pending on the named guest thread"
)]
fn a_thread_id_timer_at_a_worker_stays_pending_and_a_process_timer_delivers() {
    isolated(|| {
        sigchan::init().unwrap();
        let rt = Signal::rtmin(5).unwrap();
        let (tx, rx) = unbounded::<Signal>();
        sigchan::notify(&tx, &[rt]).unwrap();
        let (tid, end, h) = worker();
        let fire = |notify: i32, tid: i32| {
            // SAFETY: a zeroed sigevent filled for timer_create; the timer is armed once
            // for 1 ms and deleted after it fired.
            unsafe {
                let mut ev: libc::sigevent = std::mem::zeroed();
                ev.sigev_notify = notify;
                ev.sigev_signo = rt.as_raw();
                ev.sigev_notify_thread_id = tid;
                let mut timer: libc::timer_t = std::mem::zeroed();
                assert_eq!(
                    libc::timer_create(libc::CLOCK_MONOTONIC, &mut ev, &mut timer),
                    0
                );
                let spec = libc::itimerspec {
                    it_interval: libc::timespec {
                        tv_sec: 0,
                        tv_nsec: 0,
                    },
                    it_value: libc::timespec {
                        tv_sec: 0,
                        tv_nsec: 1_000_000,
                    },
                };
                assert_eq!(
                    libc::timer_settime(timer, 0, &spec, std::ptr::null_mut()),
                    0
                );
                timer
            }
        };
        let t1 = fire(libc::SIGEV_THREAD_ID, tid);
        wait_until("the timer signal pending on the worker", || {
            pending_on(tid) & bit(rt) != 0
        });
        assert!(rx.try_recv().is_err());
        let t2 = fire(libc::SIGEV_SIGNAL, 0);
        assert_eq!(expect_signal(&rx, "SIGEV_SIGNAL timer"), rt);
        // SAFETY: deleting the timers made above.
        unsafe {
            libc::timer_delete(t1);
            libc::timer_delete(t2);
        }
        drop(end);
        h.join().unwrap();
    });
}

/// SIGPIPE is raised on the writing thread: init does not block it, so a write to a broken
/// pipe from a worker reaches a SIGPIPE subscriber and nothing is left pending.
#[test]
fn sigpipe_from_a_worker_write_is_delivered_in_init_mode() {
    isolated(|| {
        sigchan::init().unwrap();
        assert_eq!(
            proc_status_mask("SigBlk", Some(gettid())) & bit(sigchan::SIGPIPE),
            0
        );
        let (tx, rx) = unbounded::<Signal>();
        sigchan::notify(&tx, &[sigchan::SIGPIPE]).unwrap();
        std::thread::spawn(|| {
            let mut fds = [0; 2];
            // SAFETY: a pipe whose read end we close, then a write that fails with EPIPE.
            unsafe {
                assert_eq!(libc::pipe(fds.as_mut_ptr()), 0);
                libc::close(fds[0]);
                let r = libc::write(fds[1], b"x".as_ptr().cast(), 1);
                assert_eq!(r, -1);
                libc::close(fds[1]);
            }
        })
        .join()
        .unwrap();
        assert_eq!(
            expect_signal(&rx, "SIGPIPE from a worker"),
            sigchan::SIGPIPE
        );
        assert_eq!(proc_status_mask("ShdPnd", None) & bit(sigchan::SIGPIPE), 0);
    });
}

/// With SIGPIPE at its default (a program that wants to die on a broken pipe, like `head`
/// users expect), a worker's write kills the process in init mode as it would without it.
#[test]
fn sigpipe_at_its_default_still_kills_in_init_mode() {
    let out = run_in_child(|| {
        set_disposition(libc::SIGPIPE, libc::SIG_DFL);
        sigchan::init().unwrap();
        std::thread::spawn(|| {
            let mut fds = [0; 2];
            // SAFETY: as above.
            unsafe {
                libc::pipe(fds.as_mut_ptr());
                libc::close(fds[0]);
                libc::write(fds[1], b"x".as_ptr().cast(), 1);
            }
        })
        .join()
        .unwrap();
        write_stderr("survived a broken pipe\n");
    });
    out.assert_killed_by(libc::SIGPIPE);
}

#[test]
#[cfg_attr(
    sigchan_qemu,
    ignore = "qemu-user 7.2 keeps its own host threads and host signal masks in /proc/self/task, not the guest's: seen counting a thread that is not there"
)]
fn init_after_threads_started_is_refused_and_changes_nothing() {
    isolated(|| {
        let (end, ended) = crossbeam_channel::bounded::<()>(0);
        let others: Vec<_> = (0..2)
            .map(|_| {
                let ended = ended.clone();
                std::thread::spawn(move || {
                    let _ = ended.recv();
                })
            })
            .collect();
        let before = proc_status_mask("SigBlk", Some(gettid()));
        match sigchan::init() {
            Err(sigchan::Error::TooLate { threads }) => assert_eq!(threads, 2),
            other => panic!("expected TooLate, got {other:?}"),
        }
        let msg = sigchan::init().unwrap_err().to_string();
        assert!(msg.contains("2 other thread(s)"), "{msg}");
        assert_eq!(proc_status_mask("SigBlk", Some(gettid())), before);
        assert!(!thread_names().iter().any(|n| n == "sigchan"));
        drop(end);
        for t in others {
            t.join().unwrap();
        }
        // Once they are gone, init works (sigchan's own thread is never counted).
        let (tx, _rx) = unbounded::<Signal>();
        sigchan::notify(&tx, &[SIGUSR1]).unwrap();
        sigchan::init().unwrap();
        // And a repeat call from a thread started after init is harmless.
        std::thread::spawn(|| sigchan::init().unwrap())
            .join()
            .unwrap();
    });
}

/// A helper thread that already blocks every signal (as careful libraries' threads do, and
/// as qemu-user's own thread does) cannot take a signal: it does not make `init` too late.
#[test]
#[cfg_attr(
    sigchan_qemu,
    ignore = "qemu-user 7.2 keeps its own host threads and host signal masks in /proc/self/task, not the guest's: seen counting a thread that is not there"
)]
fn a_helper_thread_that_blocks_every_signal_does_not_make_init_too_late() {
    isolated(|| {
        let (ready_tx, ready_rx) = crossbeam_channel::bounded(1);
        let (end, ended) = crossbeam_channel::bounded::<()>(0);
        let helper = std::thread::spawn(move || {
            // SAFETY: a full sigset, applied to this thread only.
            unsafe {
                let mut all: libc::sigset_t = std::mem::zeroed();
                libc::sigfillset(&mut all);
                libc::pthread_sigmask(libc::SIG_BLOCK, &all, std::ptr::null_mut());
            }
            ready_tx.send(()).unwrap();
            let _ = ended.recv();
        });
        ready_rx.recv().unwrap();
        sigchan::init().unwrap();
        let (tx, rx) = unbounded::<Signal>();
        sigchan::notify(&tx, &[SIGUSR1]).unwrap();
        raise_process(SIGUSR1);
        assert_eq!(expect_signal(&rx, "USR1 with a blocking helper"), SIGUSR1);
        drop(end);
        helper.join().unwrap();
    });
}

/// In a new PID namespace that still sees the parent's `/proc` (`unshare --pid --fork`
/// without `--mount-proc`, some container runtimes), `gettid()` and `/proc/self/task` name
/// threads differently: `init` used to count its own caller as another thread and refuse
/// with `TooLate` (found running sigchan-init as PID 1).
#[test]
#[cfg_attr(
    sigchan_qemu,
    ignore = "qemu-user does not emulate unshare(CLONE_NEWPID)"
)]
#[cfg_attr(
    not(sigchan_qemu),
    ignore = "needs root: unshare(CLONE_NEWPID); .ci/run runs it as root"
)]
fn init_works_as_pid_1_of_a_namespace_with_the_parents_proc() {
    isolated(|| {
        // SAFETY: unshare with a flag: later children go into a new PID namespace.
        let r = unsafe { libc::unshare(libc::CLONE_NEWPID) };
        assert_eq!(
            r,
            0,
            "unshare(CLONE_NEWPID) (needs root): {}",
            std::io::Error::last_os_error()
        );
        let out = run_in_child(|| {
            assert_eq!(std::process::id(), 1, "PID 1 of the new namespace");
            sigchan::init().expect("init as PID 1 with the parent's /proc");
            let (tx, rx) = unbounded::<Signal>();
            sigchan::notify(&tx, &[SIGUSR1]).unwrap();
            raise_process(SIGUSR1);
            assert_eq!(expect_signal(&rx, "USR1 as PID 1"), SIGUSR1);
        });
        out.assert_success();
    });
}
