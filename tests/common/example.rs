//! Running the example programs end to end: locate (or build) the binary, start it with its
//! stdout piped, read its lines with a deadline, signal it, and wait for it with a deadline.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// The example binary `name`: `cargo test` builds every example next to the test binaries;
/// when only one test target was built (`cargo test --test x`), the one there may be missing
/// or older than its source, so build the example into a target dir of its own (a nested
/// cargo on the same target dir would wait for the outer one's lock).
pub fn example_path(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    let built = profile_dir.join("examples").join(name);
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(format!("{name}.rs"));
    let modified = |p: &std::path::Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if modified(&built).is_some() && modified(&built) >= modified(&source) {
        return built;
    }
    let target = profile_dir.parent().unwrap().join("e2e-examples");
    let status = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--all-features", "--example", name])
        .arg("--target-dir")
        .arg(&target)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .unwrap();
    assert!(status.success(), "building example {name} failed");
    target.join("debug").join("examples").join(name)
}

/// A running example: its stdout lines arrive on a channel from a reader thread.
pub struct Running {
    pub child: Child,
    lines: Receiver<String>,
    pub seen: Vec<String>,
}

impl Running {
    pub fn start(name: &str, args: &[&str]) -> Running {
        let mut child = Command::new(example_path(name))
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Running {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Waits (at most `within`) for a line containing `needle`; returns it.
    #[track_caller]
    pub fn expect_line(&mut self, needle: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {
                    panic!(
                        "no line with {needle:?} within {within:?}; saw {:?}",
                        self.seen
                    )
                }
            }
        }
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: kill to our own child.
        assert_eq!(unsafe { libc::kill(self.pid(), sig) }, 0);
    }

    /// Waits at most `within` for the process to end; kills it and fails if it does not.
    #[track_caller]
    pub fn wait(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("did not exit within {within:?}; saw {:?}", self.seen);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
