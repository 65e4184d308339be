//! Running start_server end to end: a scratch directory per test, start_server with its
//! stderr (its log) read line by line with deadlines, the status file, HTTP requests.
#![allow(dead_code)] // each test binary uses part of it

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::ops::{Deref, DerefMut};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// sigchan's own test helpers: running programs (`common::example`) and /proc readers.
#[path = "../../../tests/common/mod.rs"]
pub mod common;

use common::example::{self, Output, Running};

pub mod attacker;

/// The one deadline for "this must happen": long enough that only a hang reaches it, so a
/// machine loaded many times over gives a slow pass, not a failure.
pub const HANG: Duration = Duration::from_secs(180);

/// Polls `cond` every 20 ms until it holds, failing with `what` after `HANG`.
#[track_caller]
pub fn until(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < HANG, "{what}: not within {HANG:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// What a worker's `GET /env/NAME` answers: `NAME=value`, or `NAME=(unset)`.
pub fn worker_env(port: u16, name: &str) -> String {
    get(port, &format!("/env/{name}")).unwrap().body
}

/// The start_server binary under test.
pub fn start_server_bin() -> &'static str {
    env!("CARGO_BIN_EXE_start_server")
}

/// The http_worker example, built by `cargo test` (or on demand).
pub fn worker() -> String {
    example::example_path("http_worker")
        .to_string_lossy()
        .into_owned()
}

/// A fresh, empty directory for one test, its name unique (never one another run left);
/// the test removes it once it has passed (`StartServer::finish`).
pub fn scratch(name: &str) -> PathBuf {
    common::ScratchDir::new(&format!("start-server-{name}")).keep()
}

/// A running start_server, its stderr (the log, workers' lines included) read through
/// `Running`; stopped with SIGTERM (so no worker outlives the test) if the test ends early.
pub struct StartServer {
    run: Running,
    pub dir: PathBuf,
}

impl Deref for StartServer {
    type Target = Running;
    fn deref(&self) -> &Running {
        &self.run
    }
}

impl DerefMut for StartServer {
    fn deref_mut(&mut self) -> &mut Running {
        &mut self.run
    }
}

impl StartServer {
    /// Starts start_server in `dir` with `args`.
    pub fn start(dir: &Path, args: &[&str]) -> StartServer {
        let mut cmd = Command::new(start_server_bin());
        cmd.args(args);
        StartServer::start_command(dir, cmd)
    }

    /// Runs `cmd` (start_server, maybe behind a shell that sets up its environment) in
    /// `dir`, reading its stderr.
    pub fn start_command(dir: &Path, mut cmd: Command) -> StartServer {
        cmd.current_dir(dir);
        StartServer {
            run: Running::spawn(cmd, Output::Stderr),
            dir: dir.to_owned(),
        }
    }

    /// The TCP port start_server bound (from "listening on HOST:PORT").
    pub fn port(&mut self) -> u16 {
        let line = self.expect_line("listening on 127.0.0.1:", HANG);
        let rest = line.split("127.0.0.1:").nth(1).unwrap();
        rest.split_whitespace().next().unwrap().parse().unwrap()
    }

    /// `generation -> pid` from the status file (empty if there is none).
    pub fn status(&self) -> BTreeMap<u64, i32> {
        read_status(&self.dir.join("status"))
    }

    /// Waits (at most `within`) until the status file satisfies `ok`; returns it.
    #[track_caller]
    pub fn wait_status(
        &mut self,
        within: Duration,
        ok: impl Fn(&BTreeMap<u64, i32>) -> bool,
    ) -> BTreeMap<u64, i32> {
        let deadline = Instant::now() + within;
        loop {
            let status = self.status();
            if ok(&status) {
                return status;
            }
            if Instant::now() > deadline {
                self.drain();
                panic!(
                    "status file still {status:?} after {within:?}; log:\n{}",
                    self.seen.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends SIGTERM, checks start_server exits 0, and removes its scratch directory.
    #[track_caller]
    pub fn finish(mut self) {
        self.signal(libc::SIGTERM);
        let status = self.wait(HANG);
        assert!(
            status.success(),
            "start_server exited with {status}:\n{}",
            self.seen.join("\n")
        );
        std::fs::remove_dir_all(&self.dir).unwrap();
    }

    /// Waits until generation `generation` is the only one running; returns its pid.
    #[track_caller]
    pub fn wait_only(&mut self, generation: u64, within: Duration) -> i32 {
        let status = self.wait_status(within, |s| s.len() == 1 && s.contains_key(&generation));
        status[&generation]
    }
}

impl Drop for StartServer {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            // SIGTERM first: start_server passes it on, so no worker outlives the test;
            // Running's own drop kills start_server if it is still there.
            self.signal(libc::SIGTERM);
            let deadline = Instant::now() + HANG;
            while Instant::now() < deadline && self.child.try_wait().ok().flatten().is_none() {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

pub fn read_status(path: &Path) -> BTreeMap<u64, i32> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(g, p)| (g.parse().unwrap(), p.parse().unwrap()))
        .collect()
}

/// A complete HTTP response from http_worker.
#[derive(Debug)]
pub struct Response {
    pub generation: u64,
    pub body: String,
}

fn exchange(mut conn: impl Read + Write, path: &str) -> io::Result<Response> {
    write!(conn, "GET {path} HTTP/1.1\r\nHost: test\r\n\r\n")?;
    let mut raw = String::new();
    conn.read_to_string(&mut raw)?;
    let bad = |why: &str| io::Error::new(io::ErrorKind::InvalidData, format!("{why}: {raw:?}"));
    let (head, body) = raw
        .split_once("\r\n\r\n")
        .ok_or_else(|| bad("no header end"))?;
    if !head.starts_with("HTTP/1.1 200 ") {
        return Err(bad("not 200"));
    }
    let length: usize = header(head, "Content-Length").ok_or_else(|| bad("no length"))?;
    if body.len() != length {
        return Err(bad("short body"));
    }
    let generation = header(head, "X-Generation").ok_or_else(|| bad("no generation"))?;
    Ok(Response {
        generation,
        body: body.to_owned(),
    })
}

fn header<T: std::str::FromStr>(head: &str, name: &str) -> Option<T> {
    head.lines()
        .filter_map(|l| l.split_once(": "))
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.trim().parse().ok())
}

/// One request over TCP to 127.0.0.1:`port`.
pub fn get(port: u16, path: &str) -> io::Result<Response> {
    let addr = ([127, 0, 0, 1], port).into();
    let conn = TcpStream::connect_timeout(&addr, HANG)?;
    conn.set_read_timeout(Some(HANG))?;
    conn.set_write_timeout(Some(HANG))?;
    exchange(conn, path)
}

/// One request over the unix socket at `path`.
pub fn get_unix(socket: &Path, path: &str) -> io::Result<Response> {
    let conn = UnixStream::connect(socket)?;
    conn.set_read_timeout(Some(HANG))?;
    exchange(conn, path)
}

/// Runs start_server to completion (for the commands and the errors): status and stderr.
pub fn run(dir: &Path, args: &[&str]) -> (ExitStatus, String) {
    use std::os::unix::process::CommandExt;
    // In a process group of its own: should a bad pid file ever make it signal its own
    // group (`kill(0, ...)`), the test runner is not in it.
    let out = Command::new(start_server_bin())
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .process_group(0)
        .output()
        .unwrap();
    (
        out.status,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
