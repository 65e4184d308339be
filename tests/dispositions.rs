//! ignore, ignored, reset: Go's scenarios and the bugs Go still has (#46321, job control).
//! Each test runs in a forked child.

mod common;
use common::*;
use crossbeam_channel::{bounded, unbounded};
use sigchan::{Signal, SIGCONT, SIGHUP, SIGINT, SIGTSTP, SIGUSR1, SIGUSR2, SIGWINCH};

#[test]
fn ignore_sets_sig_ign_seen_by_the_kernel() {
    isolated(|| {
        assert!(!sigchan::ignored(SIGHUP));
        sigchan::ignore(&[SIGHUP]).unwrap();
        assert!(sigchan::ignored(SIGHUP));
        assert_eq!(kernel_action(SIGHUP.as_raw()).handler, libc::SIG_IGN);
        assert_ne!(
            proc_status_mask("SigIgn", None) & bit(SIGHUP),
            0,
            "/proc/self/status SigIgn"
        );
        raise_process(SIGHUP); // default action would terminate
    });
}

#[test]
fn ignore_removes_the_signal_from_every_channel() {
    isolated(|| {
        let (a, ra) = unbounded::<Signal>();
        let (b, rb) = unbounded::<Signal>();
        sigchan::notify(&a, &[SIGWINCH, SIGUSR1]).unwrap();
        sigchan::notify(&b, &[SIGWINCH]).unwrap();
        sigchan::ignore(&[SIGWINCH]).unwrap();
        raise_process(SIGWINCH);
        raise_process(SIGUSR1);
        assert_eq!(expect_signal(&ra, "USR1 still subscribed"), SIGUSR1);
        assert!(
            ra.try_recv().is_err() && rb.try_recv().is_err(),
            "WINCH delivered after ignore"
        );
        assert!(sigchan::ignored(SIGWINCH));
    });
}

#[test]
fn ignore_of_everything_spares_uncatchable_and_reserved() {
    isolated(|| {
        let reserved: Vec<_> = (32..libc::SIGRTMIN())
            .map(|s| (s, kernel_action(s).handler))
            .collect();
        sigchan::ignore(&[]).unwrap();
        for sig in sigchan::SignalSet::catchable() {
            assert!(sigchan::ignored(sig), "{sig}");
        }
        assert!(!sigchan::ignored(sigchan::SIGKILL));
        for &(sig, before) in &reserved {
            assert_eq!(
                kernel_action(sig).handler,
                before,
                "glibc's {sig} was changed"
            );
        }
        sigchan::reset(&[]).unwrap();
        assert!(!sigchan::ignored(SIGUSR2));
        assert!(
            sigchan::ignored(sigchan::SIGPIPE),
            "Rust's runtime had SIGPIPE ignored"
        );
    });
}

#[test]
fn ignored_reports_an_inherited_sig_ign() {
    // `nohup` starts programs with SIGHUP ignored; a forked child inherits it the same way.
    isolated(|| {
        set_disposition(SIGHUP.as_raw(), libc::SIG_IGN);
        let grandchild = spawn_forked(|| {
            assert!(sigchan::ignored(SIGHUP));
            let (tx, rx) = bounded::<Signal>(1);
            sigchan::notify(&tx, &[SIGHUP]).unwrap();
            assert!(
                !sigchan::ignored(SIGHUP),
                "notify catches an inherited SIG_IGN"
            );
            raise_process(SIGHUP);
            assert_eq!(expect_signal(&rx, "HUP"), SIGHUP);
            sigchan::stop(&tx);
            assert!(
                sigchan::ignored(SIGHUP),
                "stop brings the inherited SIG_IGN back"
            );
            sigchan::reset(&[SIGHUP]).unwrap();
            assert!(sigchan::ignored(SIGHUP), "reset is nohup-aware");
        });
        wait_pid(grandchild, false).assert_success();
    });
}

#[test]
fn reset_undoes_ignore() {
    // Go #46321: Reset after Ignore left the signal ignored.
    isolated(|| {
        sigchan::ignore(&[SIGUSR1]).unwrap();
        sigchan::reset(&[SIGUSR1]).unwrap();
        assert!(!sigchan::ignored(SIGUSR1));
        assert_eq!(kernel_action(SIGUSR1.as_raw()).handler, libc::SIG_DFL);
        let (tx, rx) = bounded::<Signal>(1);
        sigchan::notify(&tx, &[SIGUSR1]).unwrap();
        sigchan::ignore(&[SIGUSR1]).unwrap();
        sigchan::reset(&[SIGUSR1]).unwrap();
        assert_eq!(kernel_action(SIGUSR1.as_raw()).handler, libc::SIG_DFL);
        sigchan::notify(&tx, &[SIGUSR1]).unwrap();
        raise_process(SIGUSR1);
        assert_eq!(
            expect_signal(&rx, "USR1 after ignore+reset+notify"),
            SIGUSR1
        );
    });
}

#[test]
fn reset_removes_the_signal_from_every_channel() {
    isolated(|| {
        let (tx, rx) = unbounded::<Signal>();
        sigchan::notify(&tx, &[SIGWINCH, SIGUSR2]).unwrap();
        sigchan::reset(&[SIGWINCH]).unwrap();
        assert_eq!(kernel_action(SIGWINCH.as_raw()).handler, libc::SIG_DFL);
        raise_process(SIGWINCH);
        raise_process(SIGUSR2);
        assert_eq!(expect_signal(&rx, "USR2"), SIGUSR2);
        assert!(rx.try_recv().is_err());
    });
}

#[test]
fn reset_leaves_untouched_signals_alone() {
    extern "C" fn other(_: libc::c_int) {}
    isolated(|| {
        set_disposition(SIGUSR2.as_raw(), other as *const () as usize);
        sigchan::reset(&[SIGUSR2]).unwrap();
        assert_eq!(
            kernel_action(SIGUSR2.as_raw()).handler,
            other as *const () as usize
        );
    });
}

#[test]
fn reset_gives_job_control_signals_their_real_default() {
    // Go keeps its own handler for TSTP/TTIN/TTOU/CONT after Reset; the process then never
    // stops on Ctrl-Z. Here the grandchild must really stop.
    isolated(|| {
        let stopped = spawn_forked(|| {
            // A process group of its own whose parent is in the session: not orphaned, so
            // the kernel does not discard SIGTSTP.
            // SAFETY: setpgid on ourselves.
            unsafe { libc::setpgid(0, 0) };
            let (tx, rx) = bounded::<Signal>(1);
            sigchan::notify(&tx, &[SIGTSTP]).unwrap();
            raise_process(SIGTSTP);
            assert_eq!(expect_signal(&rx, "TSTP while notified"), SIGTSTP);
            sigchan::reset(&[SIGTSTP]).unwrap();
            assert_eq!(kernel_action(SIGTSTP.as_raw()).handler, libc::SIG_DFL);
            raise_process(SIGTSTP);
        });
        let out = wait_pid(stopped, true);
        assert!(
            libc::WIFSTOPPED(out.status),
            "not stopped: {:#x} (timed out: {})",
            out.status,
            out.timed_out
        );
        assert_eq!(libc::WSTOPSIG(out.status), libc::SIGTSTP);
        // SAFETY: our own grandchild.
        unsafe { libc::kill(stopped, libc::SIGKILL) };
        wait_pid(stopped, false);
    });
}

#[test]
fn sigcont_is_delivered() {
    isolated(|| {
        let (tx, rx) = bounded::<Signal>(1);
        sigchan::notify(&tx, &[SIGCONT]).unwrap();
        raise_process(SIGCONT);
        assert_eq!(expect_signal(&rx, "CONT"), SIGCONT);
    });
}

#[test]
fn ignored_signals_stay_ignored_across_exec() {
    isolated(|| {
        sigchan::ignore(&[SIGINT]).unwrap();
        let out = std::process::Command::new("/bin/sh")
            .args(["-c", "grep SigIgn /proc/self/status"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let mask = u64::from_str_radix(text.split_whitespace().nth(1).unwrap(), 16).unwrap();
        assert_ne!(mask & bit(SIGINT), 0, "child's SigIgn: {text}");
    });
}
