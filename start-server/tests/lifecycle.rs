//! start_server's life with real workers: a worker that dies is replaced, SIGTERM drains and
//! exits, SIGINT twice forces, a broken release never replaces a working one, workers start
//! with a clean signal state and only their sockets, and --restart, --stop, --daemonize,
//! --log-file and --path work as in Server::Starter.

mod harness;

use harness::common::process_status_mask;
use harness::{get, get_unix, read_status, run, scratch, worker, StartServer, HANG};
use std::time::Duration;

fn worker_args<'a>(worker: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "--port=127.0.0.1:0",
        "--interval=0.3",
        "--status-file=status",
        "--pid-file=pid",
    ];
    args.extend_from_slice(extra);
    args.extend(["--", worker]);
    args
}

#[test]
fn a_worker_that_dies_on_its_own_is_replaced() {
    let dir = scratch("dies");
    let worker = worker();
    let mut ss = StartServer::start(&dir, &worker_args(&worker, &[]));
    let port = ss.port();
    let first = ss.wait_only(1, HANG);
    assert_eq!(get(port, "/").unwrap().generation, 1);
    // SAFETY: kill to a worker of our start_server.
    assert_eq!(unsafe { libc::kill(first, libc::SIGKILL) }, 0);
    ss.expect_line(&format!("worker {first} died unexpectedly"), HANG);
    let second = ss.wait_only(2, HANG);
    assert_ne!(first, second);
    assert_eq!(get(port, "/").unwrap().generation, 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn sigterm_lets_accepted_requests_finish_then_exits_0() {
    let dir = scratch("term");
    let worker = worker();
    let mut ss = StartServer::start(&dir, &worker_args(&worker, &[]));
    let port = ss.port();
    ss.wait_only(1, HANG);
    let slow = std::thread::spawn(move || get(port, "/slow?ms=1500"));
    // Give the request time to be accepted (not asserted: the response below is).
    std::thread::sleep(Duration::from_millis(300));
    ss.signal(libc::SIGTERM);
    let response = slow
        .join()
        .unwrap()
        .expect("the accepted request was cut off");
    assert_eq!(response.generation, 1);
    let status = ss.wait(HANG);
    assert!(status.success(), "start_server exited with {status}");
    ss.expect_line("received SIGTERM, sending SIGTERM to all workers", HANG);
    ss.expect_line("drained: served 1", HANG);
    assert!(!dir.join("status").exists() && !dir.join("pid").exists());
    assert!(get(port, "/").is_err(), "still accepting after exit");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_second_sigint_kills_a_worker_that_ignores_sigterm() {
    let dir = scratch("int");
    let stubborn = "trap '' TERM INT; echo ready > ready; exec sleep 60";
    let mut ss = StartServer::start(
        &dir,
        &[
            "--port=127.0.0.1:0",
            "--interval=0.2",
            "--status-file=status",
            "--",
            "/bin/sh",
            "-c",
            stubborn,
        ],
    );
    ss.wait_only(1, HANG);
    ss.signal(libc::SIGINT);
    ss.expect_line("received SIGINT, sending SIGTERM to all workers", HANG);
    assert!(
        ss.child.try_wait().unwrap().is_none(),
        "exited with a worker alive"
    );
    ss.signal(libc::SIGINT);
    ss.expect_line("sending SIGKILL", HANG);
    let status = ss.wait(HANG);
    assert!(status.success(), "start_server exited with {status}");
    ss.expect_line("signal: 9 (SIGKILL)", HANG);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_broken_release_never_replaces_the_running_generation() {
    let dir = scratch("broken");
    std::fs::create_dir(dir.join("env")).unwrap();
    let worker = worker();
    let mut ss = StartServer::start(&dir, &worker_args(&worker, &["--envdir=env"]));
    let port = ss.port();
    let first = ss.wait_only(1, HANG);
    // The next release fails at start (exit 3); the envdir is read before each start.
    std::fs::write(dir.join("env/HTTP_WORKER_FAIL_AT_START"), "1\n").unwrap();
    ss.signal(libc::SIGHUP);
    ss.expect_line("seems to have failed to start, exit status: 3", HANG);
    ss.expect_line("seems to have failed to start, exit status: 3", HANG);
    assert_eq!(
        read_status(&dir.join("status"))
            .into_iter()
            .collect::<Vec<_>>(),
        [(1, first)]
    );
    assert_eq!(
        get(port, "/").unwrap().generation,
        1,
        "the old generation stopped serving"
    );
    // Fixed: an empty file removes the variable; the next retry comes up and takes over.
    std::fs::write(dir.join("env/HTTP_WORKER_FAIL_AT_START"), "").unwrap();
    let status = ss.wait_status(HANG, |s| s.len() == 1 && !s.contains_key(&1));
    let generation = *status.keys().next().unwrap();
    assert!(
        generation >= 3,
        "at least one failed start between: {status:?}"
    );
    assert_eq!(get(port, "/").unwrap().generation, generation);
    ss.expect_line(&format!("old worker {first} died, exit status: 0"), HANG);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn workers_start_with_a_clean_signal_state_and_only_their_sockets() {
    let dir = scratch("clean");
    // start_server runs sigchan::init (every signal blocked in its threads) and holds a pid
    // file, a status file and copies of the sockets: the worker must see none of that.
    let probe = "echo \"$SERVER_STARTER_PORT $SERVER_STARTER_GENERATION\" > env; exec sleep 60";
    let mut ss = StartServer::start(
        &dir,
        &[
            "--port=127.0.0.1:0",
            "--path=app.sock",
            "--interval=0.2",
            "--status-file=status",
            "--pid-file=pid",
            "--",
            "/bin/sh",
            "-c",
            probe,
        ],
    );
    let port = ss.port();
    let pid = ss.wait_only(1, HANG);
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    // Look at the worker once it is `sleep`: what the shell passed on at exec.
    let proc = format!("/proc/{pid}");
    let mut tries = 0;
    while std::fs::read_to_string(format!("{proc}/comm"))
        .unwrap()
        .trim()
        != "sleep"
    {
        tries += 1;
        assert!(tries < 500, "the worker never reached sleep");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        process_status_mask(pid, "SigBlk"),
        0,
        "signals blocked in the worker"
    );
    // What start_server was given (Running undid what the test runner inherited), less
    // SIGPIPE, which Rust's runtime ignores in start_server and std gives back its default
    // in the child. The C library's reserved signals (32..SIGRTMIN) are its own business.
    let sigpipe = 1u64 << (libc::SIGPIPE - 1);
    let libc_reserved: u64 = (32..libc::SIGRTMIN()).fold(0, |m, n| m | 1 << (n - 1));
    assert_eq!(
        process_status_mask(pid, "SigIgn") & !libc_reserved,
        process_status_mask(ss.pid(), "SigIgn") & !sigpipe & !libc_reserved,
        "ignored in the worker"
    );
    assert_eq!(read("env"), format!("127.0.0.1:{port}=3;app.sock=4 1\n"));
    // 3 and 4 are the sockets; nothing else start_server holds, or was itself given (the
    // harness's pipes), reaches the worker.
    let mut fds: Vec<i32> = std::fs::read_dir(format!("{proc}/fd"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_str().unwrap().parse().unwrap())
        .collect();
    fds.sort_unstable();
    assert_eq!(fds, [0, 1, 2, 3, 4]);
    for fd in [3, 4] {
        let target = std::fs::read_link(format!("{proc}/fd/{fd}")).unwrap();
        assert!(
            target.to_string_lossy().starts_with("socket:["),
            "fd {fd} is {target:?}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn signal_options_choose_what_workers_receive() {
    let dir = scratch("signals");
    let worker = worker();
    let mut ss = StartServer::start(
        &dir,
        &worker_args(&worker, &["--signal-on-hup=USR1", "--signal-on-term=INT"]),
    );
    ss.port();
    let first = ss.wait_only(1, HANG);
    ss.signal(libc::SIGHUP);
    // http_worker does not handle SIGUSR1: the default action ends it, by that signal.
    ss.expect_line(
        &format!("old worker {first} died, signal: 10 (SIGUSR1)"),
        HANG,
    );
    let second = ss.wait_only(2, HANG);
    ss.signal(libc::SIGTERM);
    ss.expect_line("received SIGTERM, sending SIGINT to all workers", HANG);
    assert!(ss.wait(HANG).success());
    ss.expect_line(
        &format!("pid {second} stopped accepting after SIGINT"),
        HANG,
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn restart_and_stop_commands_drive_a_running_start_server() {
    let dir = scratch("commands");
    let worker = worker();
    let mut ss = StartServer::start(&dir, &worker_args(&worker, &[]));
    let port = ss.port();
    ss.wait_only(1, HANG);
    let (status, err) = run(
        &dir,
        &["--restart", "--pid-file=pid", "--status-file=status"],
    );
    assert!(status.success(), "--restart failed: {err}");
    assert_eq!(
        ss.status().keys().copied().collect::<Vec<_>>(),
        [2],
        "--restart returned early"
    );
    assert_eq!(get(port, "/").unwrap().generation, 2);
    let (status, err) = run(&dir, &["--stop", "--pid-file=pid"]);
    assert!(status.success(), "--stop failed: {err}");
    // --stop returns once start_server released its pid file, as it exits.
    assert!(ss.wait(HANG).success());
    assert!(!dir.join("pid").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn daemonize_with_a_log_file_and_a_unix_socket() {
    let dir = scratch("daemon");
    let worker = worker();
    let (status, err) = run(
        &dir,
        &[
            "--path=app.sock",
            "--daemonize",
            "--log-file=app.log",
            "--interval=0.2",
            "--status-file=status",
            "--pid-file=pid",
            "--",
            &worker,
        ],
    );
    assert!(status.success(), "{err}");
    let sock = dir.join("app.sock");
    let mut got = None;
    for _ in 0..200 {
        if let Ok(r) = get_unix(&sock, "/") {
            got = Some(r);
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    let response = got.expect("no answer on the unix socket");
    assert_eq!(response.generation, 1);
    let daemon: i32 = std::fs::read_to_string(dir.join("pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let (status, err) = run(&dir, &["--stop", "--pid-file=pid"]);
    assert!(status.success(), "--stop failed: {err}");
    // Gone, or a zombie its new parent has not reaped yet.
    let state = std::fs::read_to_string(format!("/proc/{daemon}/stat")).unwrap_or_default();
    let state = state.rsplit(") ").next().unwrap_or("").chars().next();
    assert!(
        matches!(state, None | Some('Z')),
        "the daemon is still running: {state:?}"
    );
    let log = std::fs::read_to_string(dir.join("app.log")).unwrap();
    for line in [
        "starting new worker",
        "http_worker: generation 1",
        "drained",
        "exiting",
    ] {
        assert!(log.contains(line), "{line:?} missing from the log:\n{log}");
    }
    assert!(!sock.exists(), "the socket file outlived start_server");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_log_command_that_exits_does_not_take_start_server_down() {
    let dir = scratch("deadlog");
    // `true` reads nothing and exits: every log line after that meets EPIPE.
    let mut ss = StartServer::start(
        &dir,
        &[
            "--port=127.0.0.1:0",
            "--log-file=| true",
            "--interval=0.2",
            "--status-file=status",
            "--",
            "/bin/sh",
            "-c",
            "exec sleep 60",
        ],
    );
    ss.wait_only(1, HANG);
    for generation in 2..=3 {
        ss.signal(libc::SIGHUP);
        ss.wait_only(generation, HANG);
    }
    ss.signal(libc::SIGTERM);
    assert!(ss.wait(HANG).success());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The worker is a real binary started directly (no shell, whose exec could hide what the
/// worker inherits): it starts with nothing blocked and dies by a TERM sent to it alone,
/// and start_server replaces it.
#[test]
fn a_real_binary_worker_starts_unmasked_and_dies_by_term() {
    let dir = scratch("real-binary");
    let mut ss = StartServer::start(
        &dir,
        &[
            "--port=127.0.0.1:0",
            "--interval=0.2",
            "--status-file=status",
            "--pid-file=pid",
            "--",
            "/bin/sleep",
            "600",
        ],
    );
    let pid = ss.wait_only(1, HANG);
    // Read it once it runs `sleep`: what it got at exec, not the forked child before it.
    let deadline = std::time::Instant::now() + HANG;
    while std::fs::read_to_string(format!("/proc/{pid}/comm")).map_or(true, |c| c.trim() != "sleep")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the worker never ran sleep"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let blocked = process_status_mask(pid, "SigBlk");
    let server_blocked = process_status_mask(ss.pid(), "SigBlk");
    assert_ne!(
        server_blocked & (1 << (libc::SIGTERM - 1)),
        0,
        "start_server itself runs in init mode"
    );
    assert_eq!(blocked, 0, "the worker inherited blocked signals");
    // SAFETY: signalling the worker start_server started for this test.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    ss.expect_line(
        &format!("worker {pid} died unexpectedly with signal: 15"),
        HANG,
    );
    let next = ss.wait_only(2, HANG);
    assert_ne!(next, pid);
    std::fs::remove_dir_all(&dir).unwrap();
}
