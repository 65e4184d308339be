//! `--log-file` (a file, or a command's stdin) and `--daemonize`. Both run before
//! sigchan::init starts the signal thread: forking is only simple while there is one thread.

use crate::logger;
use crate::safe_file::{self, Access};
use std::io;
use std::os::fd::{AsRawFd, IntoRawFd, RawFd};
use std::path::Path;

/// Mode of a log file start_server creates: the log may hold what workers print.
const LOG_MODE: u32 = 0o640;

/// Opens the log: `| cmd args` makes the pipe a relay will feed to `sh -c 'cmd args'`
/// (see `logger`); anything else is a file opened for appending, without following a link
/// or blocking on a FIFO, and only if it is ours (see `safe_file`; `/dev/null` is allowed).
/// Returns the descriptor to send stdout and stderr to. `detached`: --daemonize follows.
pub fn open_log(spec: &str, detached: bool) -> io::Result<(RawFd, Option<logger::Pending>)> {
    if let Some(cmd) = spec.trim_start().strip_prefix('|') {
        let (fd, pending) = logger::pipe(cmd, detached)?;
        return Ok((fd, Some(pending)));
    }
    let file = safe_file::open(Path::new(spec), Access::Append, LOG_MODE, "log file", true)?;
    Ok((file.into_raw_fd(), None))
}

/// Points stdout and stderr (ours, and so every worker's) at `fd`, then closes `fd`.
pub fn redirect_output(fd: RawFd) -> io::Result<()> {
    for target in [libc::STDOUT_FILENO, libc::STDERR_FILENO] {
        // SAFETY: dup2 onto the standard descriptors; fd is open and ours.
        if unsafe { libc::dup2(fd, target) } < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    // SAFETY: fd was ours to close; the standard descriptors now hold the log.
    unsafe { libc::close(fd) };
    Ok(())
}

/// Detaches: fork (the parent exits 0), setsid, fork again (no controlling terminal can be
/// reacquired), stdin from /dev/null. Must be called while the process has one thread.
pub fn daemonize() -> io::Result<()> {
    for step in 0..2 {
        // SAFETY: one thread runs (checked by the caller's order: before sigchan::init), so
        // the child is a complete copy. The parent leaves with _exit: no destructor runs, so
        // it removes none of the files and sockets the child now owns.
        match unsafe { libc::fork() } {
            -1 => return Err(io::Error::last_os_error()),
            0 => {}
            // SAFETY: _exit ends the parent at once, without running Rust destructors.
            _ => unsafe { libc::_exit(0) },
        }
        // SAFETY: setsid has no memory effects; it fails only for a group leader, which a
        // freshly forked child is not.
        if step == 0 && unsafe { libc::setsid() } < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    let null = std::fs::File::open("/dev/null")?;
    // SAFETY: dup2 onto stdin from a descriptor we own.
    if unsafe { libc::dup2(null.as_raw_fd(), libc::STDIN_FILENO) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
