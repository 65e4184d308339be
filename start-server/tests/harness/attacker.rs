//! A second local user for the attack tests: created once with `useradd` (no home, no
//! login shell), commands run as it with `runuser`, and shared directories it can write to
//! (mode 1777, like /tmp), where start_server, as root, is told to put its files.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Once;

/// The attacker's user name.
pub const NAME: &str = "ss-attacker";

/// Creates the user if it does not exist yet (once per test binary; several binaries may
/// race on /etc/passwd's lock, so a failed `useradd` is retried while the user is missing).
pub fn ensure() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: geteuid has no preconditions.
        assert_eq!(
            unsafe { libc::geteuid() },
            0,
            "the attack tests need root (they create and act as a second user)"
        );
        for _ in 0..50 {
            if uid().is_some() {
                return;
            }
            let _ = Command::new(sbin("useradd"))
                .args([
                    "--system",
                    "--no-create-home",
                    "--shell",
                    "/usr/sbin/nologin",
                    NAME,
                ])
                .status();
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        assert!(
            uid().is_some(),
            "cannot create the user {NAME} (are the tests running as root?)"
        );
    });
}

/// An administration tool: in /usr/sbin or /sbin, which an ordinary user's PATH may lack.
fn sbin(tool: &str) -> PathBuf {
    ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        .iter()
        .map(|d| Path::new(d).join(tool))
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("{tool} not found in /usr/sbin, /sbin, /usr/bin or /bin"))
}

/// The attacker's uid, if the user exists.
pub fn uid() -> Option<u32> {
    let out = Command::new("id").args(["-u", NAME]).output().ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

/// Runs `script` with `sh -c` as the attacker, in `dir`; panics if it fails.
#[track_caller]
pub fn run(dir: &Path, script: &str) {
    ensure();
    let out = Command::new(sbin("runuser"))
        .args(["-u", NAME, "--", "/bin/sh", "-c", script])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "as {NAME}: {script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A fresh directory everyone may create files in (sticky, like /tmp).
pub fn shared_dir(name: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    ensure();
    let dir = super::scratch(name);
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o1777)).unwrap();
    dir
}

/// A file only root can read, holding `content`: what an attack would overwrite or read.
pub fn root_only_file(dir: &Path, name: &str, content: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}
