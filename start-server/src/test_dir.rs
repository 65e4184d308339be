//! Scratch directories for the unit tests: a unique name each (`mkdtemp`), so nothing another
//! run or test left behind is ever used, and removed with their contents when dropped.

use std::ffi::{CString, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

pub(crate) struct TestDir(PathBuf);

impl TestDir {
    /// A new directory in the system's temporary directory, its name starting with `prefix`.
    pub(crate) fn new(prefix: &str) -> TestDir {
        let template = std::env::temp_dir().join(format!("{prefix}-XXXXXX"));
        let mut bytes = CString::new(template.as_os_str().as_bytes())
            .unwrap()
            .into_bytes_with_nul();
        // SAFETY: a writable, NUL-terminated template ending in XXXXXX, as mkdtemp needs.
        let made = unsafe { libc::mkdtemp(bytes.as_mut_ptr().cast()) };
        assert!(
            !made.is_null(),
            "mkdtemp: {}",
            std::io::Error::last_os_error()
        );
        bytes.pop();
        TestDir(OsString::from_vec(bytes).into())
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
