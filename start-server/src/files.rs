//! The pid file (start_server's pid, locked while it runs) and the status file (one
//! `generation:pid` line per live worker, replaced atomically), both removed at exit.

use crate::log::say;
use crate::safe_file::{self, Access};
use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// The mode of the pid and status files, whatever the umask: readable by all (`--stop`
/// may run as another user to find the pid), writable by start_server alone.
const MODE: u32 = 0o644;

/// The pid file, held with an exclusive `flock` for as long as start_server runs:
/// `--stop` waits on that lock, and a second start_server on the same file is refused.
/// Taken before anything else is bound or created, so a refused second instance touches
/// nothing of the first's.
pub struct PidFile {
    path: PathBuf,
    file: File,
    identity: (u64, u64),
}

impl PidFile {
    /// Opens (or creates, mode 0644) and locks the pid file, refusing a link, a FIFO, or a
    /// file someone else owns or may write (see `safe_file`). Its content is written later
    /// by [`write_pid`](Self::write_pid), once the final pid is known (after --daemonize).
    pub fn create(path: &Path) -> io::Result<PidFile> {
        let shown = path.display();
        let file = safe_file::open(path, Access::ReadWrite, MODE, "pid file", false)?;
        // SAFETY: flock on a descriptor we own.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            let holder = std::fs::read_to_string(path).unwrap_or_default();
            return Err(io::Error::new(
                io::ErrorKind::AddrInUse,
                format!(
                    "pid file {shown} is locked by another start_server (pid {})",
                    holder.trim()
                ),
            ));
        }
        file.set_len(0)?;
        let identity = safe_file::identity(&file.metadata()?);
        Ok(PidFile {
            path: path.to_owned(),
            file,
            identity,
        })
    }

    /// Writes our pid (the daemon's, after --daemonize).
    pub fn write_pid(&mut self) -> io::Result<()> {
        self.file.set_len(0)?;
        self.file.rewind()?;
        writeln!(self.file, "{}", std::process::id())
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        // Removed while still locked, so no one sees a stale pid; the lock goes with the file.
        // Only if the path still names our file: never someone else's.
        let same = std::fs::symlink_metadata(&self.path)
            .is_ok_and(|m| safe_file::identity(&m) == self.identity);
        if same {
            if let Err(e) = std::fs::remove_file(&self.path) {
                say!("start_server: cannot remove {}: {e}", self.path.display());
            }
        }
    }
}

/// The status file: rewritten through a fresh temporary file with an unpredictable name and
/// a rename, so a reader never sees half of it and nothing planted beside it is followed.
pub struct StatusFile {
    path: PathBuf,
    written: bool,
}

impl StatusFile {
    pub fn new(path: &Path) -> StatusFile {
        StatusFile {
            path: path.to_owned(),
            written: false,
        }
    }

    pub fn write(&mut self, workers: &[(u64, i32)]) -> io::Result<()> {
        let text: String = workers
            .iter()
            .map(|(g, pid)| format!("{g}:{pid}\n"))
            .collect();
        safe_file::replace(&self.path, text.as_bytes(), MODE)?;
        self.written = true;
        Ok(())
    }
}

impl Drop for StatusFile {
    fn drop(&mut self) {
        if self.written {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// The generations listed in a status file, ascending.
pub fn read_generations(path: &Path) -> io::Result<Vec<u64>> {
    let text = std::fs::read_to_string(path)?;
    let mut gens: Vec<u64> = text
        .lines()
        .filter_map(|l| l.split_once(':'))
        .filter_map(|(g, _)| g.trim().parse().ok())
        .collect();
    gens.sort_unstable();
    gens.dedup();
    Ok(gens)
}

/// A running start_server, as its pid file proves it: the pid to signal and the open pid
/// file, whose lock `--stop` waits on.
pub struct Running {
    pub pid: i32,
    pub file: File,
}

/// Finds the start_server a pid file names, trusting the file only as far as it can be
/// trusted (`--stop` and `--restart` send signals as root on its word):
/// - opened without following a link, a regular file owned by our euid, writable by no one
///   else (a file another user could write could aim our signal anywhere);
/// - locked: a live start_server holds its `flock`; a free lock means the file is stale
///   (its start_server is gone and the pid may belong to anyone now), and nothing is sent;
/// - its content is strictly a pid: decimal digits and a newline, greater than 1 (never
///   `-1`, every process, or `0`, our own group, or init);
/// - that process holds this very file open (`/proc/PID/fd`): it is the lock's holder, not
///   a process that reused a stale pid.
pub fn read_running(path: &Path) -> io::Result<Running> {
    let shown = path.display();
    let mut file = safe_file::open(path, Access::Read, MODE, "pid file", false)?;
    // SAFETY: flock on a descriptor we own; released at once if we got it.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_SH | libc::LOCK_NB) } == 0 {
        // SAFETY: as above.
        unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_UN) };
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("pid file {shown} is not locked: no start_server is running (stale file); nothing signalled"),
        ));
    }
    let mut text = String::new();
    Read::by_ref(&mut file).take(64).read_to_string(&mut text)?;
    let pid = parse_pid(&text).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{shown} does not hold a pid: {:?}; nothing signalled",
                text.trim_end()
            ),
        )
    })?;
    let identity = safe_file::identity(&file.metadata()?);
    if !holds_open(pid, identity) {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("process {pid} does not hold {shown} open, so it is not the start_server that locked it; nothing signalled"),
        ));
    }
    Ok(Running { pid, file })
}

/// A pid file's content: digits, at most one trailing newline, a value above 1.
pub fn parse_pid(text: &str) -> Option<i32> {
    let digits = text.strip_suffix('\n').unwrap_or(text);
    if digits.is_empty() || digits.len() > 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<i32>().ok().filter(|&pid| pid > 1)
}

/// True if process `pid` has a descriptor open on the file `identity` names.
fn holds_open(pid: i32, identity: (u64, u64)) -> bool {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.filter_map(Result::ok)
        .any(|fd| std::fs::metadata(fd.path()).is_ok_and(|m| safe_file::identity(&m) == identity))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_file_is_exclusive_and_removed_status_file_round_trips() {
        let scratch = crate::scratch::ScratchDir::new("ss-files");
        let dir = scratch.path().to_path_buf();
        let pid_path = dir.join("app.pid");
        let mut held = PidFile::create(&pid_path).unwrap();
        held.write_pid().unwrap();
        assert_eq!(
            read_running(&pid_path).unwrap().pid,
            std::process::id() as i32
        );
        let err = PidFile::create(&pid_path).err().unwrap().to_string();
        assert!(err.contains("locked by another start_server"), "{err}");
        drop(held);
        assert!(!pid_path.exists());

        let status_path = dir.join("app.status");
        let mut status = StatusFile::new(&status_path);
        status.write(&[(2, 20), (3, 30)]).unwrap();
        assert_eq!(
            std::fs::read_to_string(&status_path).unwrap(),
            "2:20\n3:30\n"
        );
        assert_eq!(read_generations(&status_path).unwrap(), [2, 3]);
        drop(status);
        assert!(!status_path.exists());
    }

    #[test]
    fn only_a_plain_pid_above_one_is_a_pid() {
        assert_eq!(parse_pid("1234\n"), Some(1234));
        assert_eq!(parse_pid("1234"), Some(1234));
        for bad in [
            "-1",
            "-1\n",
            "0",
            "1",
            "",
            "\n",
            " 12",
            "12 ",
            "+12",
            "12x",
            "99999999999",
            "12\n\n",
        ] {
            assert_eq!(parse_pid(bad), None, "{bad:?}");
        }
    }
}
