//! Starting the main child: the signals init blocks for itself first, where the child runs
//! (`Placement`), the terminal hand-off, and the signal state the child starts with (each
//! personality's: tini gives back exactly what init was started with, dumb-init resets
//! everything to defaults).

use crate::config::{Config, Personality, Placement};
use sigchan::SignalSet;
use std::io;
use std::os::unix::process::CommandExt as _;
use std::process::Command;

/// init's signal state as its parent left it, before init changed anything: what a tini
/// child gets back.
pub struct StartSignals {
    mask: libc::sigset_t,
    /// SIGPIPE was ignored (the binary has no Rust `main`, so std did not ignore it for us).
    pipe_ignored: bool,
}

impl StartSignals {
    /// Reads the mask and SIGPIPE's disposition. Call it first.
    pub fn capture() -> StartSignals {
        // SAFETY: sigset_t is plain data; an all-zero one is empty.
        let mut mask: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: a null new set only reads the mask into a live local.
        unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), &mut mask) };
        // SAFETY: as above, zeroed plain data; sigaction with a null new action only reads.
        let mut pipe: libc::sigaction = unsafe { std::mem::zeroed() };
        // SAFETY: see above.
        unsafe { libc::sigaction(libc::SIGPIPE, std::ptr::null(), &mut pipe) };
        StartSignals {
            mask,
            pipe_ignored: pipe.sa_sigaction == libc::SIG_IGN,
        }
    }
}

/// The signals init keeps blocked in its own thread from its first instruction to its last,
/// as tini does: every one sigchan can catch but the faults (which must reach the thread
/// that caused them), as a kernel set. Signals that arrive before sigchan forwards them stay
/// pending, and sigchan's thread (which unblocks the forwarded ones) takes them as soon as it
/// runs.
fn init_blocked() -> u64 {
    SignalSet::catchable()
        .iter()
        .filter(|s| !s.is_synchronous())
        .fold(0, |m, s| m | 1 << (s.as_raw() - 1))
}

/// Blocks `init_blocked()` in the calling (only) thread. The raw system call: musl's
/// `sigaddset` refuses signal 34, which the musl build claims (`sigchan::claim_reserved`).
pub fn block_signals() -> io::Result<()> {
    let set = init_blocked();
    // SAFETY: a live 8-byte kernel sigset; the old mask is not needed (StartSignals has it).
    let r = unsafe {
        libc::syscall(
            libc::SYS_rt_sigprocmask,
            libc::SIG_BLOCK,
            &set as *const u64,
            std::ptr::null_mut::<u64>(),
            8usize,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Gives up the controlling terminal so the child's new session can take it (dumb-init's
/// setsid mode). Returns whether init led the terminal's session: the kernel then sends
/// SIGHUP and SIGCONT to init's process group, which init must not forward.
pub fn give_up_tty() -> io::Result<bool> {
    // SAFETY: ioctl TIOCNOTTY on stdin takes no argument; it fails harmlessly on a non-tty.
    if unsafe { libc::ioctl(libc::STDIN_FILENO, libc::TIOCNOTTY) } == -1 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: getsid(0) and getpid() take no pointers.
    Ok(unsafe { libc::getsid(0) == libc::getpid() })
}

/// Takes the SIGHUP and SIGCONT the hand-off queued: the kernel sent them during the
/// `TIOCNOTTY`, and init blocks them, so they are pending now. Returns their numbers.
pub fn take_hand_off_signals() -> Vec<i32> {
    let mut taken = Vec::new();
    // SAFETY: a live local set and siginfo; a zero timeout never blocks.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGHUP);
        libc::sigaddset(&mut set, libc::SIGCONT);
        let now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        loop {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            let sig = libc::sigtimedwait(&set, &mut info, &now);
            if sig <= 0 {
                break;
            }
            taken.push(sig);
        }
    }
    taken
}

/// What the child says between its `fork` and `exec` (dumb-init `-v` prints these from the
/// child): formatted before the fork, since the child may only write.
struct ChildMessages {
    setsid_done: Option<Vec<u8>>,
    /// `(errno, line)` for the failures of `TIOCSCTTY` a container meets.
    no_tty: Vec<(i32, Vec<u8>)>,
}

impl ChildMessages {
    fn for_config(cfg: &Config) -> ChildMessages {
        let talk = cfg.personality == Personality::DumbInit
            && cfg.verbosity > 0
            && cfg.placement == Placement::OwnSession;
        if !talk {
            return ChildMessages {
                setsid_done: None,
                no_tty: Vec::new(),
            };
        }
        let no_tty = [
            libc::ENOTTY,
            libc::EPERM,
            libc::EINVAL,
            libc::EBADF,
            libc::EIO,
        ]
        .iter()
        .map(|&e| {
            let text = crate::log::strerror(e);
            let line =
                format!("[dumb-init] Unable to attach to controlling tty (errno={e} {text}).\n");
            (e, line.into_bytes())
        })
        .collect();
        ChildMessages {
            setsid_done: Some(b"[dumb-init] setsid complete.\n".to_vec()),
            no_tty,
        }
    }
}

/// Writes `line` to stderr with one raw call (async-signal-safe).
fn write_raw(line: &[u8]) {
    // SAFETY: a live buffer of its own length.
    unsafe { libc::write(libc::STDERR_FILENO, line.as_ptr().cast(), line.len()) };
}

/// Starts the main child. The error is the `exec`'s (or the fork's).
pub fn spawn(cfg: &Config, start: &StartSignals) -> io::Result<u32> {
    let mut cmd = Command::new(&cfg.command[0]);
    cmd.args(&cfg.command[1..]);
    let placement = cfg.placement;
    let defaults_for_all = cfg.personality == Personality::DumbInit;
    let (start_mask, pipe_ignored) = (start.mask, start.pipe_ignored);
    let messages = ChildMessages::for_config(cfg);
    // SAFETY: runs in the child between fork and exec: only async-signal-safe calls
    // (setpgid, tcsetpgrp, setsid, ioctl, write, sigaction through libc::signal,
    // pthread_sigmask) on data prepared before the fork.
    unsafe {
        cmd.pre_exec(move || {
            match placement {
                Placement::Inherit => {}
                Placement::OwnGroup => {
                    libc::setpgid(0, 0);
                    // The new group becomes the terminal's foreground group; TTOU is still
                    // blocked here, so a background caller is not stopped. Without a
                    // terminal (ENOTTY) there is nothing to hand over.
                    libc::tcsetpgrp(libc::STDIN_FILENO, libc::getpgrp());
                }
                Placement::OwnSession => {
                    if libc::setsid() == -1 {
                        return Err(io::Error::last_os_error());
                    }
                    // Take the terminal init gave up, if there is one.
                    if libc::ioctl(libc::STDIN_FILENO, libc::TIOCSCTTY, 0) == -1 {
                        let errno = *libc::__errno_location();
                        if let Some((_, line)) = messages.no_tty.iter().find(|(e, _)| *e == errno) {
                            write_raw(line);
                        }
                    }
                    if let Some(line) = &messages.setsid_done {
                        write_raw(line);
                    }
                }
            }
            // After the placement: init's block stays until here, so the hand-off above
            // cannot be interrupted by the very signals it causes. std has reset SIGPIPE
            // to the default already; this decides the rest.
            if defaults_for_all {
                // dumb-init: every signal at its default, none blocked.
                for sig in 1..=64 {
                    if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                        libc::signal(sig, libc::SIG_DFL);
                    }
                }
                let mut none: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut none);
                libc::pthread_sigmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
            } else {
                // tini: exactly what init was started with.
                if pipe_ignored {
                    libc::signal(libc::SIGPIPE, libc::SIG_IGN);
                }
                libc::pthread_sigmask(libc::SIG_SETMASK, &start_mask, std::ptr::null_mut());
            }
            Ok(())
        });
    }
    Ok(cmd.spawn()?.id())
}

/// The exit code for a command that could not be run, and the message, per personality.
pub fn exec_failure(cfg: &Config, err: &io::Error) -> (i32, String) {
    let program = cfg.command[0].to_string_lossy();
    let reason = crate::log::strerror(err.raw_os_error().unwrap_or(0));
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
