//! Bad input gets a clear message, exit status 1, and leaves nothing behind: unknown
//! options, a missing program, a port in use, a pid file another start_server holds, a
//! --path that is not a socket, --restart and --stop with no server.

mod harness;

use harness::{run, scratch, worker, StartServer, HANG};
use std::net::TcpListener;

#[track_caller]
fn fails_with(dir: &std::path::Path, args: &[&str], needle: &str) -> String {
    let (status, err) = run(dir, args);
    assert_eq!(status.code(), Some(1), "{args:?}: {status}, stderr:\n{err}");
    assert!(
        err.contains(needle),
        "{args:?}: no {needle:?} in stderr:\n{err}"
    );
    err
}

fn entries(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn bad_options_are_named() {
    let dir = scratch("options");
    fails_with(&dir, &["--bogus", "--", "x"], "--bogus");
    fails_with(
        &dir,
        &["--port=http", "--", "x"],
        "'http' is not PORT, HOST:PORT or [IPV6]:PORT",
    );
    fails_with(
        &dir,
        &["--port=1", "--signal-on-hup=NOPE", "--", "x"],
        "'NOPE' is not a signal",
    );
    fails_with(
        &dir,
        &["--port=1", "--interval=soon", "--", "x"],
        "not a number of seconds",
    );
    fails_with(&dir, &["--", "x"], "either --port or --path is needed");
    fails_with(&dir, &["--port=1"], "server program not specified");
    fails_with(
        &dir,
        &["--port=1", "--restart", "--pid-file=p"],
        "--status-file",
    );
    let help = std::process::Command::new(harness::start_server_bin())
        .arg("--help")
        .output()
        .unwrap();
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("--signal-on-hup"));
    assert!(entries(&dir).is_empty(), "left behind: {:?}", entries(&dir));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_missing_program_is_an_error_and_cleans_up() {
    let dir = scratch("missing");
    fails_with(
        &dir,
        &[
            "--port=127.0.0.1:0",
            "--path=app.sock",
            "--pid-file=pid",
            "--status-file=status",
            "--",
            "./no-such-server",
        ],
        "cannot run ./no-such-server: No such file or directory",
    );
    assert!(entries(&dir).is_empty(), "left behind: {:?}", entries(&dir));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_port_in_use_is_an_error() {
    let dir = scratch("inuse");
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = format!("--port=127.0.0.1:{}", taken.local_addr().unwrap().port());
    let err = fails_with(
        &dir,
        &[&port, "--pid-file=pid", "--", "true"],
        "cannot bind 127.0.0.1:",
    );
    assert!(err.contains("in use"), "{err}");
    assert!(entries(&dir).is_empty(), "left behind: {:?}", entries(&dir));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_path_that_is_not_a_socket_is_kept() {
    let dir = scratch("notsock");
    std::fs::write(dir.join("app.sock"), "precious").unwrap();
    fails_with(
        &dir,
        &["--path=app.sock", "--", "true"],
        "exists and is not a socket",
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("app.sock")).unwrap(),
        "precious"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_second_start_server_on_the_same_pid_file_is_refused() {
    let dir = scratch("twice");
    let worker = worker();
    let mut first = StartServer::start(
        &dir,
        &[
            "--port=127.0.0.1:0",
            "--interval=0.2",
            "--status-file=status",
            "--pid-file=pid",
            "--",
            &worker,
        ],
    );
    first.wait_only(1, HANG);
    let pid_before = std::fs::read_to_string(dir.join("pid")).unwrap();
    let msg = format!("locked by another start_server (pid {})", first.pid());
    fails_with(
        &dir,
        &["--port=127.0.0.1:0", "--pid-file=pid", "--", &worker],
        &msg,
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("pid")).unwrap(),
        pid_before
    );
    assert!(first.child.try_wait().unwrap().is_none());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn restart_and_stop_without_a_server_fail_clearly() {
    let dir = scratch("noserver");
    fails_with(
        &dir,
        &["--stop", "--pid-file=pid"],
        "pid file pid: No such file",
    );
    // A pid file nobody holds is stale, whatever it says: nothing is signalled (the
    // checks of its owner, content and holder are in tests/security.rs).
    std::fs::write(dir.join("status"), "1:4195000\n").unwrap();
    for content in ["not a pid\n", "4194999\n"] {
        std::fs::write(dir.join("pid"), content).unwrap();
        fails_with(&dir, &["--stop", "--pid-file=pid"], "stale");
        fails_with(
            &dir,
            &["--restart", "--pid-file=pid", "--status-file=status"],
            "stale",
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
