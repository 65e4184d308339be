//! Opening the files start_server creates, appends to or trusts, as root, possibly in a
//! directory other users can write to (`/tmp`, a shared run directory).
//!
//! Every open here: never follows a symbolic link (`O_NOFOLLOW`: a link planted at the path
//! would make root write through it), never blocks (`O_NONBLOCK`: a FIFO planted at the
//! path would hang startup until another user opened it, then receive what we write), and
//! then checks what was opened (`fstat` on the descriptor, not the path): a regular file
//! owned by our effective uid that no one else may write (`/dev/null` where allowed). A file
//! start_server creates gets an explicit mode, whatever the umask. A file that fails a
//! check is refused with a message that says why, and is left untouched.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// How a file is opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Read only; never created.
    Read,
    /// Read and write, created if missing (the pid file).
    ReadWrite,
    /// Appended to, created if missing (the log file).
    Append,
}

/// Opens `path` as described in the module docs. `what` names the file in errors ("pid
/// file", "log file"); `mode` is given to a file this call creates; `dev_null` also accepts
/// `/dev/null` (a character device nobody can abuse).
pub fn open(
    path: &Path,
    access: Access,
    mode: u32,
    what: &str,
    dev_null: bool,
) -> io::Result<File> {
    let shown = path.display();
    let flags = libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC;
    let options = |create_new: bool| {
        let mut o = OpenOptions::new();
        match access {
            Access::Read => o.read(true),
            Access::ReadWrite => o.read(true).write(true),
            Access::Append => o.append(true),
        };
        if access != Access::Read {
            o.create_new(create_new);
        }
        o.mode(mode).custom_flags(flags);
        o
    };
    let fail = |e: io::Error| io::Error::new(e.kind(), format!("{what} {shown}: {}", explain(&e)));
    // Exclusive creation first, so we know whether the file is ours to set the mode of.
    let (file, created) = match options(true).open(path) {
        Ok(f) => (f, access != Access::Read),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            (options(false).open(path).map_err(fail)?, false)
        }
        Err(e) => return Err(fail(e)),
    };
    if created {
        // The umask may have taken bits away (or a caller's umask 0 added none): set it.
        file.set_permissions(std::fs::Permissions::from_mode(mode))?;
    } else {
        check(&file, path, what, dev_null)?;
    }
    clear_nonblock(&file)?;
    Ok(file)
}

/// Checks an opened file: a regular file owned by our euid, writable by nobody else.
pub fn check(file: &File, path: &Path, what: &str, dev_null: bool) -> io::Result<()> {
    let meta = file.metadata()?;
    if dev_null && is_dev_null(&meta) {
        return Ok(());
    }
    if !meta.file_type().is_file() {
        let why = format!("is not a regular file ({})", kind_name(&meta));
        return Err(refused(what, path, &why));
    }
    must_be_ours(&meta, what, path)
}

/// The owner and mode rule alone (for a file or a directory): owned by our effective uid,
/// not writable by group or others.
pub fn must_be_ours(meta: &std::fs::Metadata, what: &str, path: &Path) -> io::Result<()> {
    // SAFETY: geteuid cannot fail.
    let euid = unsafe { libc::geteuid() };
    if meta.uid() != euid {
        let why = format!("is owned by uid {}, not by us (uid {euid})", meta.uid());
        return Err(refused(what, path, &why));
    }
    if meta.mode() & 0o022 != 0 {
        let who = if meta.mode() & 0o002 != 0 {
            "everyone"
        } else {
            "its group"
        };
        let why = format!("is writable by {who} (mode {:o})", meta.mode() & 0o7777);
        return Err(refused(what, path, &why));
    }
    Ok(())
}

/// The error for a file that failed a check: what it is, where, why.
fn refused(what: &str, path: &Path, why: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        format!("{what} {} {why}; refusing to use it", path.display()),
    )
}

fn is_dev_null(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    meta.file_type().is_char_device() && meta.rdev() == libc::makedev(1, 3)
}

fn kind_name(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else {
        "not a file"
    }
}

/// The error of a refused open, said plainly.
fn explain(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::ELOOP) => "is a symbolic link; not following it".into(),
        // O_WRONLY|O_NONBLOCK on a FIFO nobody reads.
        Some(libc::ENXIO) => "is a FIFO (or a device without a reader); not writing to it".into(),
        _ => e.to_string(),
    }
}

fn clear_nonblock(file: &File) -> io::Result<()> {
    // SAFETY: F_GETFL/F_SETFL on a descriptor we own.
    unsafe {
        let fl = libc::fcntl(file.as_raw_fd(), libc::F_GETFL);
        if fl < 0 || libc::fcntl(file.as_raw_fd(), libc::F_SETFL, fl & !libc::O_NONBLOCK) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Writes `contents` to `path` atomically: into a new file with an unpredictable name in the
/// same directory (created exclusively, so nothing planted there is followed or reused),
/// then renamed over `path` (a rename replaces a link itself, never its target).
pub fn replace(path: &Path, contents: &[u8], mode: u32) -> io::Result<()> {
    use std::io::Write;
    for _ in 0..16 {
        let tmp = temp_name(path)?;
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&tmp);
        let mut file = match file {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        };
        let written = file
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .and_then(|()| file.write_all(contents))
            .and_then(|()| std::fs::rename(&tmp, path));
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        return written;
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("cannot create a temporary file beside {}", path.display()),
    ))
}

/// `<path>.<16 random hex digits>`, from the kernel's random source.
fn temp_name(path: &Path) -> io::Result<PathBuf> {
    let mut bytes = [0u8; 8];
    // SAFETY: getrandom fills at most the buffer's length.
    let n = unsafe { libc::getrandom(bytes.as_mut_ptr().cast(), bytes.len(), 0) };
    if n != bytes.len() as isize {
        return Err(io::Error::last_os_error());
    }
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{:016x}", u64::from_ne_bytes(bytes)));
    Ok(PathBuf::from(name))
}

/// The device and inode of an open file: what a later check compares with.
pub fn identity(meta: &std::fs::Metadata) -> (u64, u64) {
    (meta.dev(), meta.ino())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> crate::scratch::ScratchDir {
        crate::scratch::ScratchDir::new(&format!("ss-safe-{name}"))
    }

    #[test]
    fn links_fifos_and_loose_modes_are_refused_and_left_alone() {
        let scratch = scratch("refuse");
        let dir = scratch.path();
        let target = dir.join("target");
        std::fs::write(&target, "keep").unwrap();
        std::os::unix::fs::symlink(&target, dir.join("link")).unwrap();
        let err = open(&dir.join("link"), Access::Append, 0o644, "log file", false).unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        let fifo = dir.join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo with a valid path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o666) }, 0);
        let err = open(&fifo, Access::Append, 0o644, "log file", false).unwrap_err();
        assert!(err.to_string().contains("FIFO"), "{err}");
        let loose = dir.join("loose");
        std::fs::write(&loose, "x").unwrap();
        std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o666)).unwrap();
        let err = open(&loose, Access::ReadWrite, 0o644, "pid file", false).unwrap_err();
        assert!(err.to_string().contains("writable by everyone"), "{err}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
        assert!(open(
            Path::new("/dev/null"),
            Access::Append,
            0o644,
            "log file",
            true
        )
        .is_ok());
    }

    #[test]
    fn created_files_get_the_mode_asked_for_whatever_the_umask() {
        let scratch = scratch("mode");
        let dir = scratch.path();
        // SAFETY: umask only swaps the mask; restored below (tests in this binary do not
        // depend on it).
        let saved = unsafe { libc::umask(0o077) };
        let f = open(
            &dir.join("pid"),
            Access::ReadWrite,
            0o644,
            "pid file",
            false,
        )
        .unwrap();
        // SAFETY: as above.
        unsafe { libc::umask(saved) };
        assert_eq!(f.metadata().unwrap().mode() & 0o7777, 0o644);
        replace(&dir.join("status"), b"1:2\n", 0o644).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.join("status")).unwrap(),
            "1:2\n"
        );
        let names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "no temporary file left: {names:?}");
    }
}
