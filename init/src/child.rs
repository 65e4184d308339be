//! Starting the main child: where it runs (`Placement`), the terminal hand-off, and the
//! signal state a plain process would have (sigchan's `restore_signals`, plus SIG_DFL for
//! what init ignored for itself).

use crate::config::{Config, Personality, Placement};
use sigchan::process::CommandExt as _;
use std::io;
use std::os::unix::process::CommandExt as _;
use std::process::Command;

/// Gives up the controlling terminal so the child's new session can take it (dumb-init's
/// setsid mode). Returns whether init led the terminal's session: the kernel then sends
/// SIGHUP and SIGCONT to init's process group, which init must not forward.
pub fn give_up_tty() -> Option<bool> {
    // SAFETY: ioctl TIOCNOTTY on stdin takes no argument; it fails harmlessly on a non-tty.
    if unsafe { libc::ioctl(libc::STDIN_FILENO, libc::TIOCNOTTY) } == -1 {
        return None;
    }
    // SAFETY: getsid(0) and getpid() take no pointers.
    Some(unsafe { libc::getsid(0) == libc::getpid() })
}

/// Starts the main child. The error is the `exec`'s (or the fork's).
pub fn spawn(cfg: &Config) -> io::Result<u32> {
    let mut cmd = Command::new(&cfg.command[0]);
    cmd.args(&cfg.command[1..]);
    let placement = cfg.placement;
    let reset_tty_signals = cfg.ignore_tty_signals;
    // SAFETY: runs in the child between fork and exec: only async-signal-safe calls
    // (setpgid, tcsetpgrp, setsid, ioctl, sigaction through libc::signal).
    unsafe {
        cmd.pre_exec(move || {
            match placement {
                Placement::Inherit => {}
                Placement::OwnGroup => {
                    libc::setpgid(0, 0);
                    // The new group becomes the terminal's foreground group; TTOU is still
                    // blocked here (init mode), so a background caller is not stopped.
                    // Without a terminal (ENOTTY) there is nothing to hand over.
                    libc::tcsetpgrp(libc::STDIN_FILENO, libc::getpgrp());
                }
                Placement::OwnSession => {
                    if libc::setsid() == -1 {
                        return Err(io::Error::last_os_error());
                    }
                    // Take the terminal init gave up, if there is one.
                    libc::ioctl(libc::STDIN_FILENO, libc::TIOCSCTTY, 0);
                }
            }
            if reset_tty_signals {
                libc::signal(libc::SIGTTIN, libc::SIG_DFL);
                libc::signal(libc::SIGTTOU, libc::SIG_DFL);
            }
            Ok(())
        });
    }
    // After the placement: the block init mode set stays until here, so the hand-off above
    // cannot be interrupted by the very signals it causes.
    cmd.restore_signals();
    Ok(cmd.spawn()?.id())
}

/// The exit code for a command that could not be run, and the message, per personality.
pub fn exec_failure(cfg: &Config, err: &io::Error) -> (i32, String) {
    let program = cfg.command[0].to_string_lossy();
    let reason = io::Error::from_raw_os_error(err.raw_os_error().unwrap_or(0));
    // Without the " (os error N)" std appends.
    let reason = reason.to_string();
    let reason = reason
        .split(" (os error")
        .next()
        .unwrap_or_default()
        .to_owned();
    let shell_code = match err.raw_os_error() {
        Some(libc::ENOENT) => 127,
        Some(libc::EACCES) | Some(libc::ENOEXEC) => 126,
        _ => 1,
    };
    match cfg.personality {
        Personality::Tini => (shell_code, format!("exec {program} failed: {reason}")),
        Personality::DumbInit => (2, format!("{program}: {reason}")),
        Personality::Native => (shell_code, format!("cannot run {program}: {reason}")),
    }
}
