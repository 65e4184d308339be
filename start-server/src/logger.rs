//! `--log-file="| cmd"`: the log command, kept alive by start_server.
//!
//! start_server's stdout and stderr, which every worker inherits, are the write end of a
//! pipe whose read end start_server itself holds for its whole life, so a worker never
//! loses its reader: no `EPIPE`, no `SIGPIPE`, no crash loop when the log command dies.
//! A relay thread copies the pipe into the log command's stdin and, when the command has
//! exited (its stdin gives `EPIPE`), starts it again: with a growing pause (up to 30 s)
//! while it keeps dying at once, and in start_server's session, so after `--daemonize`
//! no terminal hang-up reaches it. Lines that arrive while no log command runs are
//! dropped, never held back from the workers.

use sigchan::process::CommandExt as _;
use sigchan::reap::Holder;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

/// A log command that lived shorter than this is restarted after a pause.
const QUICK_DEATH: Duration = Duration::from_secs(1);
const MAX_PAUSE: Duration = Duration::from_secs(30);

/// The pipe set up before `--daemonize`; the relay starts after `sigchan::init` (it is a
/// thread, and init must come first).
pub struct Pending {
    cmd: String,
    read: File,
    /// Where the log command's own output goes: start_server's stderr from before the
    /// redirect (never the pipe: it would loop back into the log), or /dev/null (`None`)
    /// once detached by --daemonize.
    own_stderr: Option<OwnedFd>,
}

/// Makes the pipe and returns the descriptor that should become stdout and stderr. Called
/// before the redirect; `detached`: --daemonize will follow.
pub fn pipe(cmd: &str, detached: bool) -> io::Result<(RawFd, Pending)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills two descriptors; the read end is close-on-exec (workers must not
    // hold it), the write end becomes stdout/stderr through dup2, which clears that flag.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fds[0] is a fresh descriptor we own.
    let read = unsafe { File::from_raw_fd(fds[0]) };
    Ok((
        fds[1],
        Pending {
            cmd: cmd.trim().to_owned(),
            read,
            own_stderr: if detached { None } else { copy_of_stderr() },
        },
    ))
}

impl Pending {
    /// Starts the relay thread (after `sigchan::init`: it is a thread). It starts the log
    /// command under holds of start_server's reaper of every child (see `spawn`).
    pub fn start(self, reaper: Holder) -> io::Result<()> {
        std::thread::Builder::new()
            .name("log-relay".into())
            .spawn(move || relay(self.cmd, self.read, self.own_stderr, reaper))?;
        Ok(())
    }
}

/// A close-on-exec copy of our stderr as it is now.
fn copy_of_stderr() -> Option<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC on fd 2 returns a new descriptor we own, or -1.
    let fd = unsafe { libc::fcntl(libc::STDERR_FILENO, libc::F_DUPFD_CLOEXEC, 3) };
    // SAFETY: fd is fresh and ours.
    (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) })
}

struct Logger {
    child: Child,
    stdin: ChildStdin,
    started: Instant,
}

/// Starts the log command. Under a hold of the reaper: std reaps a child whose exec failed
/// itself, which must not race start_server's reaper of every child.
fn spawn(cmd: &str, own_stderr: &Option<OwnedFd>, reaper: &Holder) -> io::Result<Logger> {
    let _hold = reaper.hold();
    let out = || -> io::Result<Stdio> {
        Ok(match own_stderr {
            Some(fd) => Stdio::from(fd.try_clone()?),
            None => Stdio::null(),
        })
    };
    let mut child = Command::new("/bin/sh")
        .arg("-c")
        .arg(cmd)
        .stdin(Stdio::piped())
        .stdout(out()?)
        .stderr(out()?)
        .restore_signals()
        .spawn()?;
    let stdin = child.stdin.take().expect("stdin was piped");
    Ok(Logger {
        child,
        stdin,
        started: Instant::now(),
    })
}

fn relay(cmd: String, mut read: File, own_stderr: Option<OwnedFd>, reaper: Holder) {
    let mut logger: Option<Logger> = None;
    let mut pause = Duration::ZERO;
    let mut next_start = Instant::now();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match read.read(&mut buf) {
            Ok(0) => return, // every writer is gone: start_server is exiting
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return,
        };
        // One retry with a fresh log command if the current one has exited.
        for _ in 0..2 {
            if logger.is_none() && Instant::now() >= next_start {
                match spawn(&cmd, &own_stderr, &reaper) {
                    Ok(mut l) => {
                        if pause > Duration::ZERO {
                            let note = format!(
                                "start_server: log command restarted (pid {})\n",
                                l.child.id()
                            );
                            let _ = l.stdin.write_all(note.as_bytes());
                        }
                        logger = Some(l);
                    }
                    Err(e) => {
                        pause = (pause * 2).clamp(QUICK_DEATH, MAX_PAUSE);
                        next_start = Instant::now() + pause;
                        report(
                            &own_stderr,
                            &format!("start_server: cannot run log command {cmd}: {e}\n"),
                        );
                    }
                }
            }
            let Some(l) = logger.as_mut() else { break };
            if l.stdin.write_all(&buf[..n]).is_ok() {
                break;
            }
            // Exited. Reaped by start_server's reaper of every child; try_wait may find it
            // already gone, which is fine.
            let dead = logger.take().expect("checked above");
            let mut child = dead.child;
            let _ = child.try_wait();
            if dead.started.elapsed() < QUICK_DEATH {
                pause = (pause * 2).clamp(QUICK_DEATH, MAX_PAUSE);
                next_start = Instant::now() + pause;
            } else {
                pause = Duration::from_millis(1);
                next_start = Instant::now();
            }
        }
    }
}

/// A line for start_server's original stderr (never the pipe this thread drains: writing
/// there could block on ourselves). After --daemonize there is none: the line is dropped.
fn report(own_stderr: &Option<OwnedFd>, line: &str) {
    let Some(fd) = own_stderr else { return };
    if let Ok(dup) = fd.try_clone() {
        let _ = File::from(dup).write_all(line.as_bytes());
    }
}
