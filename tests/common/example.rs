//! Running programs end to end: locate (or build) an example binary, start a program with
//! one output piped, read its lines with a deadline, signal it, and wait for it with a deadline.
//! Also start_server's tests (`start-server/tests/harness/`) run start_server through it.

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

/// Which output of a running program its lines are read from.
pub enum Output {
    Stdout,
    Stderr,
}

/// A running program (an example, or start_server): the lines of one of its outputs arrive
/// on a channel from a reader thread; `expect_line` finds them in order.
pub struct Running {
    pub child: Child,
    lines: Receiver<String>,
    /// Every line read so far; `expect_line` searches from `cursor` on.
    pub seen: Vec<String>,
    cursor: usize,
}

impl Running {
    /// Starts the example `name` and reads its stdout.
    pub fn start(name: &str, args: &[&str]) -> Running {
        let mut cmd = Command::new(example_path(name));
        cmd.args(args);
        Running::spawn(cmd, Output::Stdout)
    }

    /// Starts `cmd` and reads `output`.
    pub fn spawn(mut cmd: Command, output: Output) -> Running {
        use std::os::unix::process::CommandExt;
        // SAFETY: the closure only makes sigaction calls (async-signal-safe) in the child.
        unsafe {
            cmd.pre_exec(|| {
                super::undo_inherited_ignores();
                Ok(())
            });
        }
        match output {
            Output::Stdout => cmd.stdout(Stdio::piped()),
            Output::Stderr => cmd.stderr(Stdio::piped()),
        };
        let mut child = cmd.spawn().unwrap();
        let out: Box<dyn std::io::Read + Send> = match output {
            Output::Stdout => Box::new(child.stdout.take().unwrap()),
            Output::Stderr => Box::new(child.stderr.take().unwrap()),
        };
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
            cursor: 0,
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Waits (at most `within`) for a line containing `needle` after the last line this
    /// returned; returns it. Asking twice for the same text finds two lines.
    #[track_caller]
    pub fn expect_line(&mut self, needle: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            if let Some(at) = self.seen[self.cursor..]
                .iter()
                .position(|l| l.contains(needle))
            {
                self.cursor += at + 1;
                return self.seen[self.cursor - 1].clone();
            }
            self.cursor = self.seen.len();
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {
                    panic!(
                        "no line with {needle:?} within {within:?}; saw:\n{}",
                        self.seen.join("\n")
                    )
                }
            }
        }
    }

    /// The next line after the cursor, waiting at most `within`; `None` if none came.
    pub fn try_line(&mut self, within: Duration) -> Option<String> {
        if self.cursor == self.seen.len() {
            self.seen.push(self.lines.recv_timeout(within).ok()?);
        }
        self.cursor += 1;
        Some(self.seen[self.cursor - 1].clone())
    }

    /// Waits until the lines read so far, in any order (before the cursor too), satisfy
    /// `done`; the deadline only catches a hang (`wait_until`'s).
    #[track_caller]
    pub fn wait_for_lines(&mut self, what: &str, mut done: impl FnMut(&[String]) -> bool) {
        super::wait_until(what, || {
            self.drain();
            done(&self.seen)
        });
    }

    /// Reads every line available now, without waiting.
    pub fn drain(&mut self) {
        while let Ok(line) = self.lines.try_recv() {
            self.seen.push(line);
        }
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: kill to our own child.
        assert_eq!(unsafe { libc::kill(self.pid(), sig) }, 0);
    }

    /// Waits at most `within` for the process to end, then reads the rest of its output (what
    /// its own children still write included, up to 2 s of silence); kills it and fails if it
    /// does not end.
    #[track_caller]
    pub fn wait(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(2)) {
                    self.seen.push(line);
                }
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                self.drain();
                panic!(
                    "did not exit within {within:?}; saw:\n{}",
                    self.seen.join("\n")
                );
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
