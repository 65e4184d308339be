//! start_server under systemd's two interfaces, with the real tools and no systemd as PID 1:
//! readiness notification to a `NOTIFY_SOCKET` datagram socket this test owns (every
//! message, in order), and socket activation by Debian's `systemd-socket-activate`
//! (requests answered on the socket it passed, a HUP keeps the port).

mod harness;

use harness::{get, scratch, until, worker, worker_env, StartServer, HANG};
use std::os::unix::net::UnixDatagram;
use std::process::Command;

/// The next datagram's lines, waiting at most `HANG`.
#[track_caller]
fn next_message(sock: &UnixDatagram, what: &str) -> Vec<String> {
    sock.set_read_timeout(Some(HANG)).unwrap();
    let mut buf = [0u8; 4096];
    let n = sock
        .recv(&mut buf)
        .unwrap_or_else(|e| panic!("no {what} notification within {HANG:?}: {e}"));
    String::from_utf8_lossy(&buf[..n])
        .lines()
        .map(str::to_owned)
        .collect()
}

fn has(msg: &[String], line: &str) -> bool {
    msg.iter().any(|l| l == line)
}

fn value<'a>(msg: &'a [String], key: &str) -> Option<&'a str> {
    msg.iter()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
}

/// `Type=notify-reload`'s conversation: READY=1 once generation 1 serves; on HUP
/// RELOADING=1 with MONOTONIC_USEC, then READY=1 when generation 2 serves; STOPPING=1 on
/// TERM. The workers never see NOTIFY_SOCKET.
#[test]
fn notify_socket_hears_ready_reloading_ready_stopping_in_order() {
    let dir = scratch("notify");
    let sock_path = dir.join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    let worker = worker();
    let mut cmd = Command::new(harness::start_server_bin());
    cmd.env("NOTIFY_SOCKET", &sock_path).args([
        "--port=127.0.0.1:0",
        "--interval=0.3",
        "--status-file=status",
        "--",
        &worker,
    ]);
    let mut ss = StartServer::start_command(&dir, cmd);
    let port = ss.port();

    let ready = next_message(&sock, "READY");
    assert!(has(&ready, "READY=1"), "{ready:?}");
    let first = ss.status()[&1];
    assert_eq!(
        value(&ready, "STATUS"),
        Some(format!("generation 1 (pid {first}) serving").as_str())
    );
    assert_eq!(get(port, "/").unwrap().generation, 1);

    ss.signal(libc::SIGHUP);
    let reloading = next_message(&sock, "RELOADING");
    assert!(has(&reloading, "RELOADING=1"), "{reloading:?}");
    let usec: u64 = value(&reloading, "MONOTONIC_USEC")
        .expect("MONOTONIC_USEC with RELOADING=1")
        .parse()
        .unwrap();
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into a live local.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    let now_usec = now.tv_sec as u64 * 1_000_000 + now.tv_nsec as u64 / 1000;
    assert!(usec <= now_usec, "MONOTONIC_USEC {usec} is in the future");

    let ready = next_message(&sock, "READY after the reload");
    assert!(has(&ready, "READY=1"), "{ready:?}");
    let status = ss.wait_status(HANG, |s| s.contains_key(&2));
    assert_eq!(
        value(&ready, "STATUS"),
        Some(format!("generation 2 (pid {}) serving", status[&2]).as_str())
    );
    // The new generation serves (the old one drains and stops).
    until("generation 2 answering", || {
        get(port, "/").unwrap().generation == 2
    });
    let env = worker_env(port, "NOTIFY_SOCKET");
    assert!(
        env.contains("NOTIFY_SOCKET=(unset)"),
        "a worker saw NOTIFY_SOCKET: {env}"
    );

    ss.signal(libc::SIGTERM);
    let stopping = next_message(&sock, "STOPPING");
    assert!(has(&stopping, "STOPPING=1"), "{stopping:?}");
    assert!(ss.wait(HANG).success());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Without NOTIFY_SOCKET nothing is sent and nothing is logged about systemd.
#[test]
fn without_systemd_nothing_is_said_about_it() {
    let dir = scratch("no-systemd");
    let worker = worker();
    let mut ss = StartServer::start(
        &dir,
        &["--port=127.0.0.1:0", "--interval=0.3", "--", &worker],
    );
    let port = ss.port();
    until("a worker answering", || get(port, "/").is_ok());
    ss.signal(libc::SIGTERM);
    assert!(ss.wait(HANG).success());
    assert!(
        !ss.seen.iter().any(|l| l.contains("systemd")),
        "{:?}",
        ss.seen
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Socket activation by Debian's `systemd-socket-activate`: it listens, and on the first
/// connection execs start_server with LISTEN_FDS=1; start_server serves on that socket
/// (the waiting connection included) instead of binding, names it by its address in
/// SERVER_STARTER_PORT, and keeps it across a HUP.
#[test]
#[ignore = "needs Debian's systemd-socket-activate (package systemd): .ci/run installs it"]
fn systemd_socket_activate_starts_it_on_its_socket_and_a_hup_keeps_the_port() {
    let tool = "/usr/bin/systemd-socket-activate";
    assert!(
        std::path::Path::new(tool).exists(),
        "{tool} not found: install Debian's systemd package (.ci/run does)"
    );
    let dir = scratch("socket-activate");
    let worker = worker();
    // A port free a moment ago; systemd-socket-activate fails at once if it was taken.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let mut cmd = Command::new(tool);
    cmd.args([
        "-l",
        &listen,
        "--",
        harness::start_server_bin(),
        "--interval=0.3",
        "--status-file=status",
        "--",
        &worker,
    ]);
    let mut ss = StartServer::start_command(&dir, cmd);
    ss.expect_line(&format!("Listening on {listen}"), HANG);
    // This connection makes it exec start_server; the worker answers it from the backlog.
    assert_eq!(get(port, "/").unwrap().generation, 1);
    ss.expect_line("socket activation: descriptor 3", HANG);
    ss.expect_line(
        &format!("listening on {listen} (descriptor 3 in workers)"),
        HANG,
    );
    let port_env = worker_env(port, "SERVER_STARTER_PORT");
    assert!(port_env.contains(&format!("{listen}=3")), "{port_env}");
    let listen_env = worker_env(port, "LISTEN_FDS");
    assert!(
        listen_env.contains("LISTEN_FDS=(unset)"),
        "a worker saw LISTEN_FDS: {listen_env}"
    );

    ss.signal(libc::SIGHUP);
    ss.wait_status(HANG, |s| s.keys().eq([2].iter()));
    assert_eq!(get(port, "/").unwrap().generation, 2);
    ss.signal(libc::SIGTERM);
    assert!(ss.wait(HANG).success());
    std::fs::remove_dir_all(&dir).unwrap();
}
