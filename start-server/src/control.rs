//! `--restart` and `--stop`: commands for a start_server that is already running, found
//! through its pid file, which is trusted only as far as `files::read_running` proves it.

use crate::files::{read_generations, read_running};
use crate::log::say;
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::time::Duration;

const POLL: Duration = Duration::from_millis(100);

fn send(pid: i32, sig: i32, name: &str) -> io::Result<()> {
    // SAFETY: kill only sends a signal.
    if unsafe { libc::kill(pid, sig) } != 0 {
        let e = io::Error::last_os_error();
        return Err(io::Error::new(
            e.kind(),
            format!("cannot send {name} to start_server (pid {pid}): {e}"),
        ));
    }
    Ok(())
}

fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    unsafe { libc::kill(pid, 0) == 0 }
}

/// Sends SIGHUP and waits until the status file lists a single generation newer than every
/// one listed before (Server::Starter waits for exactly the next number, which never comes
/// when a new worker had to be started twice).
pub fn restart(pid_file: &Path, status_file: &Path) -> io::Result<()> {
    let pid = read_running(pid_file)?.pid;
    let before = read_generations(status_file).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("cannot read {}: {e}", status_file.display()),
        )
    })?;
    let newest = *before.last().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("no live worker listed in {}", status_file.display()),
        )
    })?;
    send(pid, libc::SIGHUP, "SIGHUP")?;
    loop {
        std::thread::sleep(POLL);
        if !alive(pid) {
            return Err(io::Error::other(format!(
                "start_server (pid {pid}) exited before the restart completed"
            )));
        }
        // Missing for an instant is normal: the file is replaced by a rename.
        if let Ok(gens) = read_generations(status_file) {
            if gens.len() == 1 && gens[0] > newest {
                say!(
                    "start_server: generation {} is the only one running",
                    gens[0]
                );
                return Ok(());
            }
        }
    }
}

/// Sends SIGTERM and waits until start_server has exited: it holds a lock on its pid file
/// for as long as it runs, so taking that lock is the wait.
pub fn stop(pid_file: &Path) -> io::Result<()> {
    let running = read_running(pid_file)?;
    let (pid, file) = (running.pid, running.file);
    say!(
        "stop_server (pid:{}) stopping now (pid:{pid})...",
        std::process::id()
    );
    send(pid, libc::SIGTERM, "SIGTERM")?;
    // SAFETY: flock on a descriptor we own; blocks until start_server releases it at exit.
    while unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
    // The lock goes at close, a moment before the process is gone: wait that moment out.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !exited(pid) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    say!("start_server (pid:{pid}) has exited");
    Ok(())
}

/// Gone, or a zombie (its parent, maybe init after --daemonize, has not reaped it yet).
fn exited(pid: i32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return true;
    };
    // The state follows the command name, which is in parentheses and may hold spaces.
    stat.rsplit_once(") ")
        .is_some_and(|(_, rest)| rest.starts_with(['Z', 'X']))
}
