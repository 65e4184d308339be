//! Starting a worker: the server program with the listening sockets at descriptors 3, 4, ...,
//! SERVER_STARTER_PORT and SERVER_STARTER_GENERATION set, and the envdir's variables.
//! Reaping: every child that has ended, without blocking.

use crate::listen::FIRST_FD;
use sigchan::process::CommandExt as _;
use std::ffi::OsString;
use std::io;
use std::os::fd::RawFd;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Command;

/// Everything needed to start one more generation.
pub struct Launcher {
    pub program: Vec<OsString>,
    pub dir: Option<PathBuf>,
    /// Our descriptors of the listening sockets, in the order of SERVER_STARTER_PORT.
    pub fds: Vec<RawFd>,
    pub port_env: String,
}

impl Launcher {
    /// Starts generation `generation` with `env` (from the envdir; `None` unsets) added.
    /// An error means the program could not be run at all (exec failed: not found, not
    /// executable), reported by std's spawn before it returns.
    pub fn spawn(&self, generation: u64, env: &[(OsString, Option<OsString>)]) -> io::Result<i32> {
        let mut cmd = Command::new(&self.program[0]);
        cmd.args(&self.program[1..])
            .env("SERVER_STARTER_PORT", &self.port_env)
            .env("SERVER_STARTER_GENERATION", generation.to_string())
            // systemd's socket is start_server's to notify, not the workers'.
            .env_remove("NOTIFY_SOCKET");
        for (name, value) in env {
            match value {
                Some(v) => cmd.env(name, v),
                None => cmd.env_remove(name),
            };
        }
        if let Some(dir) = &self.dir {
            // Checked here so the error names the directory, not the program.
            if let Err(e) = std::fs::read_dir(dir) {
                return Err(io::Error::new(
                    e.kind(),
                    format!("cannot change to directory {}: {e}", dir.display()),
                ));
            }
            cmd.current_dir(dir);
        }
        let fds = self.fds.clone();
        // start_server runs sigchan::init: every thread blocks the asynchronous signals, and
        // std passes the spawning thread's mask to the child. The worker must start with the
        // mask and dispositions it would have had without sigchan, or it could not be
        // stopped with TERM.
        cmd.restore_signals();
        let first_free = FIRST_FD + fds.len() as RawFd;
        // SAFETY: the closure runs in the forked child before exec and only calls dup2 and
        // close_range (or fcntl), which are async-signal-safe; `fds` was allocated before
        // the fork and is only read.
        unsafe {
            cmd.pre_exec(move || {
                for (target, &fd) in (FIRST_FD..).zip(fds.iter()) {
                    // dup2 leaves the copy without FD_CLOEXEC: it survives the exec. Our own
                    // descriptors are all above the target range (listen::bind_all).
                    if libc::dup2(fd, target) < 0 {
                        return Err(io::Error::last_os_error());
                    }
                }
                close_on_exec_from(first_free);
                Ok(())
            });
        }
        let child = cmd.spawn().map_err(|e| {
            let program = self.program[0].to_string_lossy();
            io::Error::new(e.kind(), format!("cannot run {program}: {e}"))
        })?;
        // The child is reaped by sigchan's reaper of every child, never through this handle.
        Ok(child.id() as i32)
    }
}

/// Marks every descriptor from `first` up close-on-exec, so the worker gets only 0-2 and its
/// sockets: not what start_server inherited (`7>file` in the shell that started it).
/// Marked rather than closed: std's own pipe that reports a failed exec is among them.
/// Async-signal-safe: one syscall (a loop of `fcntl` on kernels before 5.11).
fn close_on_exec_from(first: RawFd) {
    const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
    // SAFETY: close_range with the CLOEXEC flag only sets flags on our own descriptors.
    let r = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            first as libc::c_uint,
            libc::c_uint::MAX,
            CLOSE_RANGE_CLOEXEC,
        )
    };
    if r != 0 {
        for fd in first..4096 {
            // SAFETY: fcntl on a descriptor number: EBADF for one that is not open.
            unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
        }
    }
}
