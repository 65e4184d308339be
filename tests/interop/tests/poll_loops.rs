//! sigchan's fd receivers in real poll loops, registered beside sockets: mio (edge-triggered
//! epoll) with signal-hook on the same signal, `polling` (oneshot), and the mio echo
//! example end to end against real clients. Each in-process case runs in a forked child.

#[path = "../../common/mod.rs"]
mod common;
use common::example::Running;
use common::*;
use mio::net::TcpListener;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use sigchan::fd::{InfoFd, SignalFd};
use sigchan::{SIGHUP, SIGTERM, SIGUSR1};
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const LISTENER: Token = Token(0);
const SIGNALS: Token = Token(1);

/// Polls `poll` until an event of `token` comes, failing after `RECV`. EINTR (a handler ran
/// on this thread) just polls again.
#[track_caller]
fn next_event(poll: &mut Poll, events: &mut Events, token: Token) {
    let start = Instant::now();
    loop {
        assert!(
            start.elapsed() < RECV,
            "no event for {token:?} within {RECV:?}"
        );
        match poll.poll(events, Some(Duration::from_millis(100))) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => panic!("poll: {e}"),
        }
        if events.iter().any(|e| e.token() == token) {
            return;
        }
    }
}

#[test]
fn mio_wakes_for_signals_beside_a_socket_and_signal_hook_still_receives() {
    isolated(|| {
        // signal-hook first, sigchan after: each gets every USR1.
        let hooked = Arc::new(AtomicBool::new(false));
        signal_hook::flag::register(libc::SIGUSR1, hooked.clone()).unwrap();
        let mut signals = SignalFd::new(&[SIGHUP, SIGUSR1]).unwrap();
        let mut poll = Poll::new().unwrap();
        let mut listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)
            .unwrap();
        poll.registry()
            .register(
                &mut SourceFd(&signals.as_raw_fd()),
                SIGNALS,
                Interest::READABLE,
            )
            .unwrap();
        let mut events = Events::with_capacity(16);

        let _client = std::net::TcpStream::connect(addr).unwrap();
        next_event(&mut poll, &mut events, LISTENER);
        assert!(listener.accept().is_ok());

        // From another thread, as a supervisor's kill would come.
        std::thread::spawn(|| raise_process(SIGHUP)).join().unwrap();
        next_event(&mut poll, &mut events, SIGNALS);
        assert_eq!(signals.try_iter().collect::<Vec<_>>(), vec![SIGHUP]);

        raise_process(SIGUSR1);
        next_event(&mut poll, &mut events, SIGNALS);
        assert_eq!(signals.try_iter().collect::<Vec<_>>(), vec![SIGUSR1]);
        wait_until("signal-hook's flag", || hooked.load(Ordering::SeqCst));

        // Edge-triggered: drained, nothing more comes until the next arrival.
        poll.poll(&mut events, Some(Duration::from_millis(50)))
            .or_else(|e| match e.kind() {
                std::io::ErrorKind::Interrupted => Ok(()),
                _ => Err(e),
            })
            .unwrap();
        assert!(events.iter().all(|e| e.token() != SIGNALS));
        raise_process(SIGHUP);
        next_event(&mut poll, &mut events, SIGNALS);
        assert_eq!(signals.try_recv(), Some(SIGHUP));
    });
}

#[test]
fn polling_wakes_for_signals_beside_a_socket() {
    isolated(|| {
        let mut signals = InfoFd::new(&[SIGTERM]).unwrap();
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.set_nonblocking(true).unwrap();
        let poller = polling::Poller::new().unwrap();
        // SAFETY: both sources outlive their registration (deleted below).
        unsafe {
            poller.add(&socket, polling::Event::readable(1)).unwrap();
            poller.add(&signals, polling::Event::readable(2)).unwrap();
        }
        let mut events = polling::Events::new();
        let wait_for = |events: &mut polling::Events, key: usize| {
            let start = Instant::now();
            loop {
                assert!(start.elapsed() < RECV, "no event for key {key}");
                events.clear();
                match poller.wait(events, Some(Duration::from_millis(100))) {
                    Ok(_) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => panic!("wait: {e}"),
                }
                if events.iter().any(|e| e.key == key) {
                    return;
                }
            }
        };
        let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        sender
            .send_to(b"ping", socket.local_addr().unwrap())
            .unwrap();
        wait_for(&mut events, 1);
        let mut buf = [0u8; 8];
        assert_eq!(socket.recv(&mut buf).unwrap(), 4);

        raise_process(SIGTERM);
        wait_for(&mut events, 2);
        let info = signals.try_recv().expect("TERM");
        assert_eq!(info.signal(), SIGTERM);
        assert_eq!(info.pid(), Some(std::process::id() as i32));
        assert_eq!(signals.try_recv(), None);
        // polling is oneshot: re-arm, and a second TERM wakes it again.
        poller
            .modify(&signals, polling::Event::readable(2))
            .unwrap();
        raise_process(SIGTERM);
        wait_for(&mut events, 2);
        assert_eq!(signals.try_recv().map(|i| i.signal()), Some(SIGTERM));
        poller.delete(&socket).unwrap();
        poller.delete(&signals).unwrap();
    });
}

/// Sends `line` to the echo server and reads back its echo (prefix included).
fn echo(stream: &mut std::net::TcpStream, line: &str, want: &str) {
    stream.write_all(line.as_bytes()).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    while got.len() < want.len() {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "closed after {:?}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(String::from_utf8_lossy(&got), want);
}

#[test]
#[cfg_attr(
    sigchan_qemu,
    ignore = "under qemu-user the example is built for the target and cannot be started directly (as tests/examples_*.rs)"
)]
fn the_mio_echo_server_reloads_on_hup_and_drains_on_term() {
    let dir = std::env::temp_dir().join(format!("sigchan-mio-echo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let prefix = dir.join("prefix");
    std::fs::write(&prefix, "a:").unwrap();
    let mut server = Running::start("mio_echo", &[prefix.to_str().unwrap()]);
    let first = server.expect_line("listening on", RECV);
    let addr = first.split_whitespace().nth(2).unwrap().to_string();
    let mut one = std::net::TcpStream::connect(&addr).unwrap();
    let mut two = std::net::TcpStream::connect(&addr).unwrap();
    for s in [&mut one, &mut two] {
        s.set_read_timeout(Some(RECV)).unwrap();
    }
    echo(&mut one, "x", "a:x");

    std::fs::write(&prefix, "b:").unwrap();
    server.signal(libc::SIGHUP);
    server.expect_line("reloaded: prefix \"b:\"", RECV);
    echo(&mut one, "y", "b:y");
    echo(&mut two, "z", "b:z");

    server.signal(libc::SIGTERM);
    server.expect_line("SIGTERM: draining 2 connection(s)", RECV);
    // Open connections are still served while draining; new ones are refused.
    echo(&mut two, "w", "b:w");
    assert!(
        std::net::TcpStream::connect(&addr).is_err(),
        "still accepting"
    );
    drop(one);
    drop(two);
    server.expect_line("drained, exiting", RECV);
    assert!(server.wait(RECV).success());
    let _ = std::fs::remove_dir_all(&dir);
}
