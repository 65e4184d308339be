//! The pid file (start_server's pid, locked while it runs) and the status file (one
//! `generation:pid` line per live worker, replaced atomically), both removed at exit.

use crate::log::say;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// The pid file, held with an exclusive `flock` for as long as start_server runs:
/// `--stop` waits on that lock, and a second start_server on the same file is refused.
pub struct PidFile {
    path: PathBuf,
    _file: File,
}

impl PidFile {
    pub fn create(path: &Path) -> io::Result<PidFile> {
        let shown = path.display();
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| io::Error::new(e.kind(), format!("cannot open pid file {shown}: {e}")))?;
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
        writeln!(file, "{}", std::process::id())?;
        Ok(PidFile {
            path: path.to_owned(),
            _file: file,
        })
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        // Removed while still locked, so no one sees a stale pid; the lock goes with the file.
        if let Err(e) = std::fs::remove_file(&self.path) {
            say!("start_server: cannot remove {}: {e}", self.path.display());
        }
    }
}

/// The status file: rewritten through a temporary file and a rename, so a reader never
/// sees half of it.
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
        let mut tmp = self.path.clone().into_os_string();
        tmp.push(format!(".{}", std::process::id()));
        let text: String = workers
            .iter()
            .map(|(g, pid)| format!("{g}:{pid}\n"))
            .collect();
        std::fs::write(&tmp, text)?;
        self.written = true;
        std::fs::rename(&tmp, &self.path)
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

/// The pid a pid file names.
pub fn read_pid(path: &Path) -> io::Result<i32> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot read {}: {e}", path.display())))?;
    text.trim().parse().map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} does not hold a pid: {:?}", path.display(), text.trim()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_file_is_exclusive_and_removed_status_file_round_trips() {
        let dir = std::env::temp_dir().join(format!("ss-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pid_path = dir.join("app.pid");
        let held = PidFile::create(&pid_path).unwrap();
        assert_eq!(read_pid(&pid_path).unwrap(), std::process::id() as i32);
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
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
