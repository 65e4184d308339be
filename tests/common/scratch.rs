//! Scratch directories for tests: a unique name each (`mkdtemp`), so nothing another run or
//! another test left behind is ever used, removed with everything in them when dropped.
//! Shared by the integration tests (`common::ScratchDir`) and start_server's unit tests.

use std::ffi::{CString, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// A fresh directory of its own for one test. `keep` hands the path over instead, for a
/// helper that removes it itself once the test has passed.
pub struct ScratchDir(Option<PathBuf>);

impl ScratchDir {
    /// A new directory in the system's temporary directory, its name starting with `prefix`.
    pub fn new(prefix: &str) -> ScratchDir {
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
        ScratchDir(Some(OsString::from_vec(bytes).into()))
    }

    pub fn path(&self) -> &Path {
        self.0.as_deref().expect("kept")
    }

    /// The path, no longer removed on drop.
    #[allow(dead_code)] // not every test binary keeps one
    pub fn keep(mut self) -> PathBuf {
        self.0.take().expect("kept once")
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        if let Some(dir) = self.0.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
