//! End to end: `examples/graceful_shutdown.rs` with real clients on loopback while SIGTERM
//! arrives (every accepted request gets a complete response, nothing is accepted after the
//! signal, exit 0), and a second SIGINT that kills it during the drain.
//! Not under qemu-user (`sigchan_qemu`): the example binaries are built for the host there;
//! the arch-specific layers are covered by the rest of the suite.
#![cfg(not(sigchan_qemu))]

mod common;
use common::example::Running;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// Deadline for what must happen: only a hang reaches it.
const HANG: Duration = Duration::from_secs(180);

#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// Status 200 and exactly Content-Length bytes of body.
    Complete,
    /// Connection refused, or reset / closed before a single byte of response.
    NotAccepted,
    /// Some bytes of a response but not all: what graceful shutdown must never produce.
    Partial(String),
}

/// One request: connect, send, read to EOF, classify.
fn request(addr: SocketAddr, path: &str) -> Outcome {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(5)) else {
        return Outcome::NotAccepted;
    };
    s.set_read_timeout(Some(HANG)).unwrap();
    if write!(s, "GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").is_err() {
        return Outcome::NotAccepted;
    }
    let mut buf = Vec::new();
    let read = s.read_to_end(&mut buf);
    if buf.is_empty() {
        return Outcome::NotAccepted;
    }
    let text = String::from_utf8_lossy(&buf).into_owned();
    let complete = read.is_ok()
        && text.starts_with("HTTP/1.1 200 OK\r\n")
        && text.split_once("\r\n\r\n").is_some_and(|(head, body)| {
            head.lines()
                .find_map(|l| l.strip_prefix("Content-Length: "))
                .and_then(|n| n.parse::<usize>().ok())
                == Some(body.len())
                && body.ends_with("done\n")
        });
    if complete {
        Outcome::Complete
    } else {
        Outcome::Partial(text)
    }
}

fn start() -> (Running, SocketAddr) {
    let mut server = Running::start("graceful_shutdown", &["127.0.0.1:0"]);
    let line = server.expect_line("listening on", HANG);
    let addr = line.split_whitespace().nth(2).unwrap().parse().unwrap();
    (server, addr)
}

#[test]
fn sigterm_drains_every_accepted_request_and_exits_zero() {
    let (mut server, addr) = start();
    // 60 slow requests started 5 ms apart; SIGTERM lands while about half have started.
    let clients: Vec<_> = (0..60)
        .map(|i| {
            std::thread::sleep(Duration::from_millis(5));
            std::thread::spawn(move || {
                let outcome = request(addr, &format!("/slow?ms={}", 200 + i % 5 * 50));
                (outcome, Instant::now())
            })
        })
        .take(30)
        .collect();
    let signalled = Instant::now();
    server.signal(libc::SIGTERM);
    let late: Vec<_> = (30..60)
        .map(|_| {
            std::thread::sleep(Duration::from_millis(5));
            std::thread::spawn(move || (request(addr, "/slow?ms=200"), Instant::now()))
        })
        .collect();
    server.expect_line("stopped accepting after SIGTERM", HANG);
    // The listening socket is shut: new connections are refused from now on.
    for _ in 0..5 {
        assert_eq!(request(addr, "/"), Outcome::NotAccepted);
    }
    let summary = server.expect_line("accepted", HANG);
    let status = server.wait(HANG);
    assert!(status.success(), "exit status {status}");

    let results: Vec<(Outcome, Instant)> = clients
        .into_iter()
        .chain(late)
        .map(|c| c.join().unwrap())
        .collect();
    let complete = results
        .iter()
        .filter(|(o, _)| *o == Outcome::Complete)
        .count();
    let partial: Vec<_> = results
        .iter()
        .filter(|(o, _)| matches!(o, Outcome::Partial(_)))
        .collect();
    assert!(partial.is_empty(), "partial responses: {partial:?}");
    let finished_after_signal = results
        .iter()
        .filter(|(o, t)| *o == Outcome::Complete && *t > signalled)
        .count();
    // The server's own count: every request it accepted, it served.
    let nums: Vec<usize> = summary
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    assert_eq!(nums.len(), 2, "{summary}");
    assert_eq!(nums[0], nums[1], "accepted vs served: {summary}");
    assert_eq!(complete, nums[1], "complete responses vs served: {summary}");
    assert!(
        finished_after_signal > 0,
        "no request was in flight at the signal"
    );
    eprintln!(
        "60 clients: {complete} complete ({finished_after_signal} finished after SIGTERM), \
         {} not accepted, 0 partial; server: {summary}",
        results.len() - complete
    );
}

#[test]
fn a_second_sigint_during_the_drain_kills_at_once() {
    let (mut server, addr) = start();
    let slow = std::thread::spawn(move || request(addr, "/slow?ms=8000"));
    // Give the request time to be accepted, then ask for a graceful stop.
    std::thread::sleep(Duration::from_millis(300));
    server.signal(libc::SIGINT);
    server.expect_line("stopped accepting after SIGINT", HANG);
    server.signal(libc::SIGINT);
    // Death by SIGINT (not the drain's exit 0) is what shows the second signal forced it.
    let status = server.wait(HANG);
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(libc::SIGINT),
        "{status}"
    );
    // The killed server's request was cut off: never a complete response.
    assert_ne!(slow.join().unwrap(), Outcome::Complete);
}
