//! End to end: `tokio_server` as a real process with clients on loopback. SIGHUP reloads the
//! configuration (new requests see it), SIGTERM drains (every accepted request completes,
//! new connections are refused, exit 0), and a second SIGINT during the drain kills it.
//! Not under qemu-user (`sigchan_qemu`): the binary is built for the host there.
#![cfg(not(sigchan_qemu))]

#[path = "../../../tests/common/mod.rs"]
mod common;
use common::example::{Output, Running};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::ExitStatusExt;
use std::process::Command;
use std::time::Duration;

/// Deadline for what must happen: only a hang reaches it.
const HANG: Duration = Duration::from_secs(180);

fn start(config: &std::path::Path) -> (Running, SocketAddr) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tokio_server"));
    cmd.args(["127.0.0.1:0"]).arg(config);
    let mut server = Running::spawn(cmd, Output::Stdout);
    let line = server.expect_line("listening on", HANG);
    let addr = line.split_whitespace().nth(2).unwrap().parse().unwrap();
    (server, addr)
}

/// GET `path`; the body of a complete 200 response, or `None` if the connection was refused
/// or the response was cut.
fn get(addr: SocketAddr, path: &str) -> Option<String> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).ok()?;
    s.set_read_timeout(Some(HANG)).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))?
        .parse()
        .ok()?;
    (head.starts_with("HTTP/1.1 200 OK") && body.len() == len && body.ends_with("done\n"))
        .then(|| body.to_owned())
}

/// The server's config file, in a directory of the test's own (removed when it is dropped).
fn config_file(name: &str, greeting: &str) -> (common::ScratchDir, std::path::PathBuf) {
    let dir = common::ScratchDir::new(&format!("sigchan-tokio-{name}"));
    let path = dir.path().join("greeting.txt");
    std::fs::write(&path, greeting).unwrap();
    (dir, path)
}

#[test]
fn hup_reloads_and_term_drains_every_accepted_request() {
    let (_dir, config) = config_file("drain", "hello");
    let (mut server, addr) = start(&config);
    assert_eq!(get(addr, "/").unwrap(), "hello (generation 1)\ndone\n");

    std::fs::write(&config, "bonjour").unwrap();
    server.signal(libc::SIGHUP);
    let line = server.expect_line("reloaded generation 2", HANG);
    assert!(line.contains("asked by pid"), "{line}");
    assert_eq!(get(addr, "/").unwrap(), "bonjour (generation 2)\ndone\n");

    // Five slow requests in flight when TERM arrives.
    let slow: Vec<_> = (0..5)
        .map(|_| std::thread::spawn(move || get(addr, "/slow?ms=1500")))
        .collect();
    for _ in 0..5 {
        server.expect_line("request /slow?ms=1500", HANG);
    }
    server.signal(libc::SIGTERM);
    let draining = server.expect_line("draining after SIGTERM", HANG);
    assert!(draining.ends_with("5 in flight"), "{draining}");
    server.expect_line("stopped accepting", HANG);
    assert_eq!(get(addr, "/"), None, "a connection after the drain began");
    for s in slow {
        assert_eq!(
            s.join().unwrap().as_deref(),
            Some("bonjour (generation 2)\ndone\n"),
            "an accepted request must complete"
        );
    }
    server.expect_line("accepted 7, served 7", HANG);
    let status = server.wait(HANG);
    assert_eq!(status.code(), Some(0), "{status:?}");
}

#[test]
fn a_second_int_during_the_drain_kills_it() {
    let (_dir, config) = config_file("second-int", "hello");
    let (mut server, addr) = start(&config);
    let stuck = std::thread::spawn(move || get(addr, "/slow?ms=60000"));
    server.expect_line("request /slow?ms=60000", HANG);
    server.signal(libc::SIGINT);
    server.expect_line("draining after SIGINT, 1 in flight", HANG);
    server.signal(libc::SIGINT);
    let status = server.wait(HANG);
    assert_eq!(status.signal(), Some(libc::SIGINT), "{status:?}");
    assert_eq!(
        stuck.join().unwrap(),
        None,
        "the stuck request was cut by the exit"
    );
}
