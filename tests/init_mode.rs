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
