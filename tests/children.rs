//! Children of a sigchan process start with the signal state they would have had without
//! sigchan: `process::CommandExt::restore_signals` (std and tokio), `child_mask` for
//! `posix_spawn`, `restore_signals_in_child` for raw fork + exec. Each test runs in a forked
//! child, which starts real `sleep` processes and checks their `/proc/PID/status`.

mod common;
use common::*;
use crossbeam_channel::unbounded;
use sigchan::process::CommandExt;
use sigchan::{Signal, SIGHUP, SIGTERM, SIGUSR2};
use std::os::unix::process::{CommandExt as _, ExitStatusExt};
use std::process::Command;

const BLOCKED_BY_INIT: [Signal; 4] = [SIGTERM, sigchan::SIGINT, SIGHUP, sigchan::SIGQUIT];

/// Sends TERM to `child` and checks it died of it.
#[track_caller]
fn term_kills(mut child: std::process::Child) {
    // SAFETY: our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    assert_eq!(child.wait().unwrap().signal(), Some(libc::SIGTERM));
}

/// Sends TERM to `pid` (our child) and returns how it ended.
fn term_and_wait(pid: i32) -> Outcome {
    // SAFETY: our own child.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    wait_pid(pid, false)
}

/// The reproduction, before and after: a plain `Command` child of an init() process
/// starts with TERM & co. blocked and runs through SIGTERM; with `restore_signals` it starts
/// with an empty mask and dies by TERM.
#[test]
fn a_plain_command_inherits_init_mask_and_restore_signals_clears_it() {
    let out = run_in_child(|| {
        sigchan::init().unwrap();
        let mut plain = Command::new("sleep").arg("30").spawn().unwrap();
        let before = exec_status(plain.id() as i32, "SigBlk");
        for sig in BLOCKED_BY_INIT {
            assert_ne!(
                before & bit(sig),
                0,
                "std stopped passing the mask on: {sig}"
            );
        }
        // SAFETY: our own child.
        unsafe { libc::kill(plain.id() as i32, libc::SIGTERM) };
        pause_briefly();
        assert!(plain.try_wait().unwrap().is_none(), "TERM was not blocked");
        plain.kill().unwrap();
        plain.wait().unwrap();

        let restored = Command::new("sleep")
            .arg("30")
            .restore_signals()
            .spawn()
            .unwrap();
        let after = exec_status(restored.id() as i32, "SigBlk");
        assert_eq!(after, 0);
        term_kills(restored);
        write_stderr(&format!("SigBlk before {before:016x} after {after:016x}\n"));
    });
    out.assert_success();
    eprintln!("{}", out.stderr);
}

/// Dispositions: what sigchan caught goes back to what it was before sigchan (an inherited
/// SIG_IGN stays ignored, as `nohup` expects; otherwise the default); what the program
/// ignored with `sigchan::ignore` stays ignored; a block the program made itself stays.
#[test]
fn restore_signals_gives_the_child_the_dispositions_it_would_have_had() {
    isolated(|| {
        set_disposition(libc::SIGHUP, libc::SIG_IGN); // as under nohup
        thread_mask(libc::SIG_BLOCK, sigchan::SIGWINCH); // the program's own block
        sigchan::init().unwrap();
        let (tx, _rx) = unbounded::<Signal>();
        sigchan::notify(&tx, &[SIGHUP, SIGTERM, sigchan::SIGUSR1]).unwrap();
        sigchan::ignore(&[SIGUSR2]).unwrap();
        let mut child = Command::new("sleep")
            .arg("30")
            .restore_signals()
            .spawn()
            .unwrap();
        let pid = child.id() as i32;
        let ignored = exec_status(pid, "SigIgn");
        assert_ne!(ignored & bit(SIGHUP), 0, "inherited SIG_IGN lost");
        assert_ne!(ignored & bit(SIGUSR2), 0, "sigchan::ignore lost");
        assert_eq!(ignored & bit(SIGTERM), 0);
        assert_eq!(ignored & bit(sigchan::SIGUSR1), 0);
        assert_eq!(process_status_mask(pid, "SigCgt"), 0);
        assert_eq!(
            process_status_mask(pid, "SigBlk"),
            bit(sigchan::SIGWINCH),
            "only the program's own block"
        );
        child.kill().unwrap();
        child.wait().unwrap();
        // The parent is untouched.
        assert_ne!(kernel_action(libc::SIGTERM).handler, libc::SIG_DFL);
        assert_ne!(proc_status_mask("SigBlk", Some(gettid())) & bit(SIGTERM), 0);
    });
}

/// `CommandExt::exec` replaces a masked process: with `restore_signals` the new program
/// starts unmasked.
#[test]
fn command_exec_with_restore_signals_starts_unmasked() {
    isolated(|| {
        for restore in [false, true] {
            let pid = spawn_forked(move || {
                sigchan::init().unwrap(); // the forked child masks itself again
                let mut cmd = Command::new("sleep");
                cmd.arg("30");
                if restore {
                    cmd.restore_signals();
                }
                let err = cmd.exec();
                panic!("exec failed: {err}");
            });
            let blocked = exec_status(pid, "SigBlk");
            if restore {
                assert_eq!(blocked, 0);
                term_and_wait(pid).assert_killed_by(libc::SIGTERM);
            } else {
                assert_ne!(blocked & bit(SIGTERM), 0);
                // SAFETY: our own child.
                unsafe { libc::kill(pid, libc::SIGKILL) };
                wait_pid(pid, false);
            }
        }
    });
}

/// `posix_spawn` with `POSIX_SPAWN_SETSIGMASK` and `child_mask()`: the mask is restored. The
/// dispositions are not all: `posix_spawn` cannot set `SIG_IGN`, so a signal sigchan catches
/// starts at the default even where it would have been ignored without sigchan (HUP under
/// `nohup`, USR2 the program ignored itself before subscribing); `Command` with
/// `restore_signals` keeps both ignored (the documented alternative).
#[test]
fn posix_spawn_with_child_mask_starts_unmasked() {
    isolated(|| {
        set_disposition(libc::SIGHUP, libc::SIG_IGN); // as under nohup
        set_disposition(libc::SIGUSR2, libc::SIG_IGN); // the program's own
        sigchan::init().unwrap();
        let (tx, _rx) = unbounded::<Signal>();
        sigchan::notify(&tx, &[SIGHUP, SIGUSR2]).unwrap();
        let both = bit(SIGHUP) | bit(SIGUSR2);
        let spawn = |set_mask: bool| -> i32 {
            let prog = std::ffi::CString::new("/bin/sleep").unwrap();
            let arg = std::ffi::CString::new("30").unwrap();
            let argv: [*const libc::c_char; 3] = [prog.as_ptr(), arg.as_ptr(), std::ptr::null()];
            let env: [*const libc::c_char; 1] = [std::ptr::null()];
            let mask = sigchan::process::child_mask();
            let mut pid = 0;
            // SAFETY: attr is initialised before use and destroyed after; argv and env are
            // null-terminated arrays of C strings that outlive the call.
            unsafe {
                let mut attr: libc::posix_spawnattr_t = std::mem::zeroed();
                libc::posix_spawnattr_init(&mut attr);
                if set_mask {
                    libc::posix_spawnattr_setsigmask(&mut attr, &mask);
                    libc::posix_spawnattr_setflags(&mut attr, libc::POSIX_SPAWN_SETSIGMASK as _);
                }
                let r = libc::posix_spawn(
                    &mut pid,
                    prog.as_ptr(),
                    std::ptr::null(),
                    &attr,
                    argv.as_ptr() as _,
                    env.as_ptr() as _,
                );
                libc::posix_spawnattr_destroy(&mut attr);
                assert_eq!(r, 0);
            }
            pid
        };
        let masked = spawn(false);
        assert_ne!(exec_status(masked, "SigBlk") & bit(SIGTERM), 0);
        // SAFETY: our own child.
        unsafe { libc::kill(masked, libc::SIGKILL) };
        wait_pid(masked, false);
        let clean = spawn(true);
        assert_eq!(exec_status(clean, "SigBlk"), 0);
        assert_eq!(
            exec_status(clean, "SigIgn") & both,
            0,
            "posix_spawn keeps no SIG_IGN under a handler (the documented limit)"
        );
        term_and_wait(clean).assert_killed_by(libc::SIGTERM);
        let mut restored = Command::new("sleep")
            .arg("30")
            .restore_signals()
            .spawn()
            .unwrap();
        let ignored = exec_status(restored.id() as i32, "SigIgn");
        assert_eq!(
            ignored & both,
            both,
            "Command keeps what would have been ignored"
        );
        restored.kill().unwrap();
        restored.wait().unwrap();
    });
}

/// A raw fork (no fork handlers run) from a masked thread, then exec: the recipe with
/// `restore_signals_in_child` between them gives an unmasked, default-disposition program.
#[test]
fn raw_fork_then_restore_signals_in_child_then_exec() {
    isolated(|| {
        sigchan::init().unwrap();
        let (tx, _rx) = unbounded::<Signal>();
        sigchan::notify(&tx, &[SIGTERM]).unwrap();
        let prog = std::ffi::CString::new("/bin/sleep").unwrap();
        let arg = std::ffi::CString::new("30").unwrap();
        let argv: [*const libc::c_char; 3] = [prog.as_ptr(), arg.as_ptr(), std::ptr::null()];
        let pid = raw_fork_syscall();
        // SAFETY: the child makes only async-signal-safe calls before exec or _exit.
        unsafe {
            if pid == 0 {
                if sigchan::process::restore_signals_in_child().is_ok() {
                    libc::execv(prog.as_ptr(), argv.as_ptr());
                }
                libc::_exit(127);
            }
        }
        assert!(pid > 0);
        assert_eq!(exec_status(pid, "SigBlk"), 0);
        term_and_wait(pid).assert_killed_by(libc::SIGTERM);
    });
}

/// Without init, in the default mode, a plain child is already clean: the caller's
/// threads never block anything.
#[test]
fn without_init_a_plain_command_child_is_unmasked() {
    isolated(|| {
        let (tx, _rx) = unbounded::<Signal>();
        sigchan::notify(&tx, &[SIGTERM]).unwrap();
        let child = Command::new("sleep").arg("30").spawn().unwrap();
        assert_eq!(exec_status(child.id() as i32, "SigBlk"), 0);
        term_kills(child);
    });
}
