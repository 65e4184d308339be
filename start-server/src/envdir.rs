//! daemontools' envdir: one file per variable, its first line the value; an empty file
//! removes the variable. Read again before every start, so a restart picks up changes.
//!
//! It decides the environment of a worker start_server may run as root (`PATH`,
//! `LD_PRELOAD`), so it is read as carefully as a file we write: the directory and every
//! entry must be ours and writable by no one else, entries are opened without following
//! links or blocking, and only the first line is read, at most `MAX_VALUE` bytes of it.
//! Any entry that fails is an error that names it: the worker is then not started (on a
//! restart, the running generation keeps serving) rather than started without a variable.

use crate::safe_file::{self, Access};
use std::ffi::OsString;
use std::io::{self, Read};
use std::os::unix::ffi::OsStringExt;
use std::path::Path;

/// The longest value read; a longer first line is an error, not a 300 MB read.
pub const MAX_VALUE: usize = 64 * 1024;

/// The variables `dir` sets (`Some`) and removes (`None`), sorted by name.
pub fn load(dir: &Path) -> io::Result<Vec<(OsString, Option<OsString>)>> {
    let shown = dir.display();
    let fail = |e: io::Error| io::Error::new(e.kind(), format!("envdir {shown}: {e}"));
    let meta = std::fs::symlink_metadata(dir).map_err(fail)?;
    if !meta.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("envdir {shown} is not a directory"),
        ));
    }
    safe_file::must_be_ours(&meta, "envdir", dir)?;
    let mut vars = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(fail)? {
        let entry = entry.map_err(fail)?;
        let name = entry.file_name();
        let bytes = name.as_encoded_bytes();
        if bytes.contains(&b'=') || bytes.starts_with(b".") {
            continue;
        }
        let value = read_value(&entry.path())?;
        vars.push((name, value));
    }
    vars.sort();
    Ok(vars)
}

/// One entry: `None` if empty, else its first line, trailing blanks removed, NUL as newline.
fn read_value(path: &Path) -> io::Result<Option<OsString>> {
    let file = safe_file::open(path, Access::Read, 0o644, "envdir entry", false)?;
    let mut content = Vec::new();
    file.take(MAX_VALUE as u64 + 1).read_to_end(&mut content)?;
    if content.is_empty() {
        return Ok(None);
    }
    let first = content.split(|&b| b == b'\n').next().unwrap_or(&[]);
    if first.len() > MAX_VALUE {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "envdir entry {} has a first line longer than {MAX_VALUE} bytes",
                path.display()
            ),
        ));
    }
    let mut line = first.to_vec();
    while line.last().is_some_and(|&b| b == b' ' || b == b'\t') {
        line.pop();
    }
    // envdir's rule: a NUL in the file stands for a newline in the value.
    for b in &mut line {
        if *b == 0 {
            *b = b'\n';
        }
    }
    Ok(Some(OsString::from_vec(line)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_line_trimmed_empty_unsets_hidden_skipped() {
        let scratch = crate::scratch::ScratchDir::new("ss-envdir");
        let dir = scratch.path().to_path_buf();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(dir.join("A"), "one \t\nsecond line\n").unwrap();
        std::fs::write(dir.join("B"), "").unwrap();
        std::fs::write(dir.join("C"), b"x\0y").unwrap();
        std::fs::write(dir.join(".hidden"), "z").unwrap();
        let vars = load(&dir).unwrap();
        let some = |s: &str| Some(OsString::from(s));
        assert_eq!(
            vars,
            [
                ("A".into(), some("one")),
                ("B".into(), None),
                ("C".into(), some("x\ny")),
            ]
        );
    }

    #[test]
    fn long_values_links_and_loose_entries_are_errors_that_name_the_entry() {
        use std::os::unix::fs::PermissionsExt;
        let scratch = crate::scratch::ScratchDir::new("ss-envdir-bad");
        let dir = scratch.path().to_path_buf();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(dir.join("OK"), "fine").unwrap();
        std::fs::write(dir.join("BIG"), vec![b'x'; MAX_VALUE + 10]).unwrap();
        let err = load(&dir).unwrap_err().to_string();
        assert!(err.contains("BIG") && err.contains("longer than"), "{err}");
        std::fs::remove_file(dir.join("BIG")).unwrap();
        std::os::unix::fs::symlink("/etc/hostname", dir.join("LINK")).unwrap();
        let err = load(&dir).unwrap_err().to_string();
        assert!(
            err.contains("LINK") && err.contains("symbolic link"),
            "{err}"
        );
        std::fs::remove_file(dir.join("LINK")).unwrap();
        std::fs::write(dir.join("LOOSE"), "x").unwrap();
        std::fs::set_permissions(dir.join("LOOSE"), std::fs::Permissions::from_mode(0o666))
            .unwrap();
        let err = load(&dir).unwrap_err().to_string();
        assert!(err.contains("LOOSE") && err.contains("writable"), "{err}");
        std::fs::remove_file(dir.join("LOOSE")).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let err = load(&dir).unwrap_err().to_string();
        assert!(err.contains("refusing"), "{err}");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(load(&dir).unwrap().len(), 1);
    }
}
