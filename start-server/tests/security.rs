//! start_server as root against a second local user and hostile workers: each test runs
//! the attack (a user made with `useradd`, acting through `runuser`, planting files in a
//! directory everyone may write to, as /tmp is) and shows it fails. See the README's
//! security section.

mod harness;

use harness::{
    attacker, get, get_unix, read_status, run, scratch, start_server_bin, worker, StartServer, HANG,
};
use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// A root process an attack would like to see signalled.
struct Victim(Child);

impl Victim {
    fn start() -> Victim {
        Victim(Command::new("sleep").arg("600").spawn().unwrap())
    }
    fn pid(&self) -> u32 {
        self.0.id()
    }
    /// Still running a moment after the attack (a signal, if any, would have been sent
    /// before start_server exited).
    #[track_caller]
    fn assert_alive(&mut self) {
        std::thread::sleep(Duration::from_millis(100));
        assert!(
            self.0.try_wait().unwrap().is_none(),
            "the victim was signalled"
        );
    }
}

impl Drop for Victim {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[track_caller]
fn fails_with(dir: &Path, args: &[&str], needle: &str) -> String {
    let (status, err) = run(dir, args);
    assert_eq!(status.code(), Some(1), "{args:?}: {status}, stderr:\n{err}");
    assert!(err.contains(needle), "{args:?}: no {needle:?} in:\n{err}");
    err
}

/// A TCP port, a short interval and a status file, `extra`, then `program` as the worker.
fn args_for<'a>(extra: &[&'a str], program: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "--port=127.0.0.1:0",
        "--interval=0.2",
        "--status-file=status",
    ];
    args.extend_from_slice(extra);
    args.push("--");
    args.extend_from_slice(program);
    args
}

/// `args_for` with `/bin/sleep 600` as the worker.
fn serve_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    args_for(extra, &["/bin/sleep", "600"])
}

/// Waits until `cond` holds, failing after HANG.
#[track_caller]
fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + HANG;
    while !cond() {
        assert!(Instant::now() < deadline, "{what}: not within {HANG:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

// ---- High 1: --stop / --restart signal only a proven, running start_server ----

#[test]
#[ignore = "needs root: acts as a second user (useradd, runuser); .ci/run runs it as root"]
fn stop_and_restart_refuse_a_pid_file_another_user_wrote() {
    let dir = attacker::shared_dir("sec-foreign-pid");
    let mut victim = Victim::start();
    attacker::run(&dir, &format!("echo {} > app.pid", victim.pid()));
    fails_with(&dir, &["--stop", "--pid-file=app.pid"], "owned by uid");
    fails_with(
        &dir,
        &["--restart", "--pid-file=app.pid", "--status-file=status"],
        "owned by uid",
    );
    victim.assert_alive();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn stop_signals_nothing_for_a_stale_file_a_non_pid_or_a_pid_that_does_not_hold_the_lock() {
    let dir = scratch("sec-stale-pid");
    let mut victim = Victim::start();
    let pid_file = dir.join("app.pid");
    // Stale: nobody holds the lock (its start_server is gone; the pid is someone else's).
    std::fs::write(&pid_file, format!("{}\n", victim.pid())).unwrap();
    fails_with(&dir, &["--stop", "--pid-file=app.pid"], "stale");
    // Locked (by this test) but not a pid: -1 would be every process, 0 our group, 1 init.
    let held = File::open(&pid_file).unwrap();
    // SAFETY: flock on our own descriptor; released when `held` is dropped. Exclusive, as
    // start_server holds it.
    assert_eq!(unsafe { libc::flock(held.as_raw_fd(), libc::LOCK_EX) }, 0);
    for bad in ["0", "1", "-1", " 12", "12abc", ""] {
        std::fs::write(&pid_file, format!("{bad}\n")).unwrap();
        fails_with(
            &dir,
            &["--stop", "--pid-file=app.pid"],
            "does not hold a pid",
        );
    }
    // Locked, a real pid, but not the process that holds the file: a reused pid.
    std::fs::write(&pid_file, format!("{}\n", victim.pid())).unwrap();
    fails_with(&dir, &["--stop", "--pid-file=app.pid"], "does not hold");
    drop(held);
    victim.assert_alive();
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---- High 2: the pid file is neither adopted nor followed ----

#[test]
#[ignore = "needs root: acts as a second user (useradd, runuser); .ci/run runs it as root"]
fn a_pid_file_another_user_created_first_is_refused_before_anything_is_bound() {
    let dir = attacker::shared_dir("sec-adopt-pid");
    attacker::run(&dir, "echo 1 > app.pid; chmod 666 app.pid");
    let args = serve_args(&["--pid-file=app.pid", "--path=app.sock"]);
    fails_with(&dir, &args, "owned by uid");
    assert_eq!(std::fs::read_to_string(dir.join("app.pid")).unwrap(), "1\n");
    assert!(
        !dir.join("app.sock").exists(),
        "bound before the pid file was checked"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
#[ignore = "needs root: acts as a second user (useradd, runuser); .ci/run runs it as root"]
fn a_symlink_planted_at_the_pid_file_is_not_followed() {
    let dir = attacker::shared_dir("sec-link-pid");
    let secret = attacker::root_only_file(&dir, "secret", "root's data\n");
    attacker::run(&dir, "ln -s secret app.pid");
    fails_with(&dir, &serve_args(&["--pid-file=app.pid"]), "symbolic link");
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), "root's data\n");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_pid_file_is_created_0644_whatever_the_umask() {
    for umask in ["000", "077"] {
        let dir = scratch(&format!("sec-umask-{umask}"));
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c")
            .arg(format!("umask {umask}; exec \"$0\" \"$@\""))
            .arg(harness::start_server_bin())
            .args(serve_args(&["--pid-file=app.pid"]));
        let mut ss = StartServer::start_command(&dir, cmd);
        ss.wait_only(1, HANG);
        let mode = std::fs::metadata(dir.join("app.pid")).unwrap().mode() & 0o7777;
        assert_eq!(mode, 0o644, "umask {umask}");
        let status_mode = std::fs::metadata(dir.join("status")).unwrap().mode() & 0o7777;
        assert_eq!(status_mode, 0o644, "umask {umask}");
        ss.finish();
    }
}

// ---- Medium 3: log and status files ----

#[test]
#[ignore = "needs root: acts as a second user (useradd, runuser); .ci/run runs it as root"]
fn a_log_file_symlink_to_a_root_only_file_is_not_followed() {
    let dir = attacker::shared_dir("sec-link-log");
    let secret = attacker::root_only_file(&dir, "secret", "root's data\n");
    attacker::run(&dir, "ln -s secret app.log");
    fails_with(&dir, &serve_args(&["--log-file=app.log"]), "symbolic link");
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), "root's data\n");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
#[ignore = "needs root: acts as a second user (useradd, runuser); .ci/run runs it as root"]
fn a_fifo_planted_at_the_log_file_neither_blocks_startup_nor_receives_lines() {
    let dir = attacker::shared_dir("sec-fifo-log");
    // No reader: opening it for writing would block for ever without O_NONBLOCK.
    attacker::run(&dir, "mkfifo app.log");
    let mut ss = StartServer::start(&dir, &serve_args(&["--log-file=app.log"]));
    let status = ss.wait(HANG);
    assert_eq!(status.code(), Some(1), "{:?}", ss.seen);
    assert!(ss.seen.iter().any(|l| l.contains("FIFO")), "{:?}", ss.seen);
    // A reader waiting: the open would succeed, and it would get every log line.
    attacker::run(
        &dir,
        "(cat app.log > stolen 2>/dev/null </dev/null &) ; sleep 0.3",
    );
    fails_with(
        &dir,
        &serve_args(&["--log-file=app.log"]),
        "not a regular file",
    );
    wait_for("the reader's end", || {
        std::fs::metadata(dir.join("stolen")).is_ok()
    });
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(std::fs::read_to_string(dir.join("stolen")).unwrap(), "");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The status file used to be written through `<status>.<pid>`: predictable, and written
/// with a plain (link-following) write. The attacker plants links for the pids to come.
/// start_server runs as PID 1 of a PID namespace of its own, so those pids are known in
/// advance whatever else the machine is starting meanwhile.
#[test]
#[ignore = "needs root: acts as a second user (useradd, runuser) and makes a PID namespace; .ci/run runs it as root"]
fn links_planted_for_predictable_status_temp_names_are_not_followed() {
    let dir = attacker::shared_dir("sec-status-tmp");
    let secret = attacker::root_only_file(&dir, "secret", "root's data\n");
    // start_server is 1; its workers and their children come after it.
    attacker::run(
        &dir,
        "for p in $(seq 1 64); do ln -s secret status.$p; done",
    );
    let mut cmd = Command::new("unshare");
    cmd.args(["--pid", "--fork", "--kill-child", start_server_bin()])
        .args(serve_args(&[]));
    let mut ss = StartServer::start_command(&dir, cmd);
    let unshare = ss.pid();
    let mut server = 0;
    wait_for("start_server under unshare", || {
        server = std::fs::read_to_string(format!("/proc/{unshare}/task/{unshare}/children"))
            .unwrap_or_default()
            .split_whitespace()
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        server != 0
    });
    let status_of_server = std::fs::read_to_string(format!("/proc/{server}/status")).unwrap();
    let nspid = status_of_server
        .lines()
        .find_map(|l| l.strip_prefix("NSpid:"))
        .unwrap();
    assert_eq!(
        nspid.split_whitespace().last(),
        Some("1"),
        "start_server is PID 1 of its namespace: the attack is set up ({nspid})"
    );
    let pid = ss.wait_only(1, HANG);
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), "root's data\n");
    let status = dir.join("status");
    assert!(!std::fs::symlink_metadata(&status)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(read_status(&status).get(&1), Some(&pid));
    // SAFETY: signals our own grandchild (unshare passes nothing on).
    assert_eq!(unsafe { libc::kill(server, libc::SIGTERM) }, 0);
    let exit = ss.wait(HANG);
    assert!(exit.success(), "start_server under unshare: {exit}");
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---- Medium 4: unix sockets of other instances ----

fn socket_args<'a>(extra: &[&'a str], worker: &'a str) -> Vec<&'a str> {
    let mut args = vec!["--path=app.sock", "--interval=0.2"];
    if !extra.iter().any(|a| a.starts_with("--status-file")) {
        args.push("--status-file=status");
    }
    args.extend_from_slice(extra);
    args.extend(["--", worker]);
    args
}

#[test]
fn a_second_instance_does_not_delete_the_first_ones_socket() {
    let dir = scratch("sec-second");
    let worker = worker();
    let mut first = StartServer::start(&dir, &socket_args(&["--pid-file=pid"], &worker));
    first.wait_only(1, HANG);
    let err = fails_with(
        &dir,
        &socket_args(&["--pid-file=pid", "--status-file=status2"], &worker),
        "locked by another start_server",
    );
    assert!(!err.contains("removing"), "{err}");
    assert_eq!(get_unix(&dir.join("app.sock"), "/").unwrap().generation, 1);
    first.signal(libc::SIGTERM);
    assert!(first.wait(HANG).success());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_exiting_instance_leaves_a_socket_that_is_no_longer_its_own() {
    let dir = scratch("sec-not-ours");
    let mut args = socket_args(&[], "/bin/sleep");
    args.push("600");
    let mut ss = StartServer::start(&dir, &args);
    ss.wait_only(1, HANG);
    let sock = dir.join("app.sock");
    std::fs::remove_file(&sock).unwrap();
    let other = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    ss.signal(libc::SIGTERM);
    assert!(ss.wait(HANG).success());
    assert!(
        sock.exists(),
        "start_server removed a socket it did not bind"
    );
    std::os::unix::net::UnixStream::connect(&sock).unwrap();
    drop(other);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_stale_socket_is_replaced_and_a_live_foreign_one_is_kept() {
    let dir = scratch("sec-stale-sock");
    let sock = dir.join("app.sock");
    let live = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let mut args = socket_args(&[], "/bin/sleep");
    args.push("600");
    fails_with(&dir, &args, "another process listens on");
    std::os::unix::net::UnixStream::connect(&sock).unwrap();
    drop(live); // the file stays: a stale socket now
    assert!(sock.exists());
    let mut ss = StartServer::start(&dir, &args);
    ss.expect_line("removing stale socket file", HANG);
    ss.wait_only(1, HANG);
    ss.finish();
}

// ---- Medium 5: the `| cmd` logger ----

#[test]
fn workers_outlive_their_log_command_which_is_restarted() {
    let dir = scratch("sec-logger");
    // The log command takes three lines and exits; the worker writes a line every 50 ms.
    let mut ss = StartServer::start(
        &dir,
        &args_for(
            &["--log-file=| head -n 3 >> out"],
            &["/bin/sh", "-c", "while :; do echo tick; sleep 0.05; done"],
        ),
    );
    let pid = ss.wait_only(1, HANG);
    // Three lifetimes of the log command: it was restarted twice.
    wait_for("nine lines through three log commands", || {
        std::fs::read_to_string(dir.join("out")).is_ok_and(|t| t.lines().count() >= 9)
    });
    assert_eq!(
        read_status(&dir.join("status")),
        [(1, pid)].into_iter().collect(),
        "the worker died with its log command"
    );
    ss.finish();
}

/// The session a process belongs to (field 6 of /proc/PID/stat).
fn session(pid: i32) -> i32 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let rest = stat.rsplit_once(") ").unwrap().1;
    rest.split_whitespace().nth(3).unwrap().parse().unwrap()
}

/// Children of `parent` (by PPid in /proc).
fn children_of(parent: i32) -> Vec<i32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/status")).is_ok_and(|s| {
                s.lines()
                    .any(|l| l.starts_with("PPid:") && l[5..].trim() == parent.to_string())
            })
        })
        .collect()
}

#[test]
fn with_daemonize_the_log_command_runs_in_the_daemons_session() {
    let dir = scratch("sec-logger-session");
    let (status, err) = run(
        &dir,
        &args_for(
            &["--pid-file=pid", "--daemonize", "--log-file=| cat >> out"],
            &["/bin/sleep", "600"],
        ),
    );
    assert!(status.success(), "{err}");
    wait_for("the daemon's pid", || {
        std::fs::read_to_string(dir.join("pid")).is_ok_and(|t| t.ends_with('\n'))
    });
    let daemon: i32 = std::fs::read_to_string(dir.join("pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    wait_for("worker and log command started", || {
        children_of(daemon).len() >= 2
    });
    let worker = read_status(&dir.join("status"))
        .values()
        .copied()
        .next()
        .unwrap_or(0);
    let logger = children_of(daemon)
        .into_iter()
        .find(|&p| p != worker)
        .expect("a log command");
    assert_eq!(
        session(logger),
        session(daemon),
        "log command outside the daemon's session"
    );
    assert_ne!(session(daemon), session(std::process::id() as i32));
    let (status, err) = run(&dir, &["--stop", "--pid-file=pid"]);
    assert!(status.success(), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---- Medium 6: the envdir ----

/// A worker that records its APP_MODE and LD_PRELOAD per generation, then sleeps.
const ENV_WORKER: &str =
    "echo \"$APP_MODE $LD_PRELOAD\" > env.$SERVER_STARTER_GENERATION; exec sleep 600";

fn envdir_args(envdir: &str) -> Vec<String> {
    [
        "--port=127.0.0.1:0",
        "--interval=0.2",
        "--status-file=status",
        &format!("--envdir={envdir}"),
        "--",
        "/bin/sh",
        "-c",
        ENV_WORKER,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[test]
fn a_bad_envdir_entry_fails_the_restart_and_the_running_generation_keeps_serving() {
    let dir = scratch("sec-envdir-entry");
    let env = dir.join("env");
    std::fs::create_dir(&env).unwrap();
    std::fs::set_permissions(&env, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(env.join("APP_MODE"), "production\n").unwrap();
    let args = envdir_args("env");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut ss = StartServer::start(&dir, &args);
    let first = ss.wait_only(1, HANG);
    wait_for("generation 1's environment", || dir.join("env.1").exists());
    assert_eq!(
        std::fs::read_to_string(dir.join("env.1")).unwrap(),
        "production \n"
    );
    // An entry that cannot be trusted (a link) and one that is too long for a value.
    std::os::unix::fs::symlink("/etc/hostname", env.join("BAD")).unwrap();
    ss.signal(libc::SIGHUP);
    ss.expect_line("envdir entry", HANG);
    ss.expect_line("keeps serving", HANG);
    std::fs::remove_file(env.join("BAD")).unwrap();
    // 300 MB of one line, sparse: read whole, it cost 310 MB on every event.
    let huge = File::create(env.join("HUGE")).unwrap();
    huge.set_len(300 << 20).unwrap();
    ss.signal(libc::SIGHUP);
    ss.expect_line("longer than", HANG);
    let hwm_kb: u64 = std::fs::read_to_string(format!("/proc/{}/status", ss.pid()))
        .unwrap()
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap();
    assert!(hwm_kb < 64 * 1024, "start_server's peak memory {hwm_kb} kB");
    assert_eq!(
        read_status(&dir.join("status")),
        [(1, first)].into_iter().collect()
    );
    std::fs::remove_file(env.join("HUGE")).unwrap();
    // Fixed: the next restart goes through with the variables.
    ss.signal(libc::SIGHUP);
    let next = ss.wait_status(HANG, |s| s.len() == 1 && !s.contains_key(&1));
    let gen = *next.keys().next().unwrap();
    wait_for("the new generation's environment", || {
        dir.join(format!("env.{gen}")).exists()
    });
    assert_eq!(
        std::fs::read_to_string(dir.join(format!("env.{gen}"))).unwrap(),
        "production \n"
    );
    ss.finish();
}

#[test]
#[ignore = "needs root: acts as a second user (useradd, runuser); .ci/run runs it as root"]
fn an_envdir_another_user_can_write_is_refused() {
    let dir = attacker::shared_dir("sec-envdir-open");
    let env = dir.join("env");
    std::fs::create_dir(&env).unwrap();
    std::fs::set_permissions(&env, std::fs::Permissions::from_mode(0o1777)).unwrap();
    attacker::run(&env, "echo /tmp/evil.so > LD_PRELOAD");
    let args = envdir_args("env");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    fails_with(&dir, &args, "writable by everyone");
    assert!(
        !dir.join("env.1").exists(),
        "a worker ran with the attacker's LD_PRELOAD"
    );
    // The directory fixed, the attacker's entry is still refused.
    std::fs::set_permissions(&env, std::fs::Permissions::from_mode(0o755)).unwrap();
    fails_with(&dir, &args, "owned by uid");
    assert!(!dir.join("env.1").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---- Medium 7: restarts that pile up ----

#[test]
fn an_auto_restart_interval_of_zero_is_refused() {
    let dir = scratch("sec-auto-zero");
    let args = serve_args(&["--enable-auto-restart", "--auto-restart-interval=0"]);
    fails_with(&dir, &args, "too short");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn workers_that_ignore_term_are_killed_and_never_pile_up() {
    let dir = scratch("sec-pileup");
    let mut ss = StartServer::start(
        &dir,
        &[
            "--port=127.0.0.1:0",
            "--interval=0.1",
            "--status-file=status",
            "--enable-auto-restart",
            "--auto-restart-interval=1",
            "--kill-old-timeout=2",
            "--",
            "/bin/sh",
            "-c",
            "trap '' TERM; exec sleep 600",
        ],
    );
    ss.wait_only(1, HANG);
    let mut most = 0;
    for _ in 0..3 {
        ss.expect_line("sending SIGKILL", HANG);
        most = most.max(read_status(&dir.join("status")).len());
    }
    // The current generation, one starting, and at most MAX_OLD (4) old ones.
    assert!(most <= 6, "{most} generations alive");
    ss.signal(libc::SIGINT);
    ss.signal(libc::SIGINT);
    assert!(ss.wait(HANG).success());
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---- Low ----

#[test]
fn descriptors_start_server_inherited_do_not_reach_workers() {
    use std::os::unix::process::CommandExt;
    let dir = scratch("sec-fds");
    let leaked = File::create(dir.join("leaked")).unwrap();
    let leaked_fd = leaked.as_raw_fd();
    let mut cmd = Command::new(harness::start_server_bin());
    cmd.args(serve_args(&["--path=app.sock"]));
    // SAFETY: dup2 in the child before exec: fd 7 without close-on-exec, as `7>file` does.
    unsafe {
        cmd.pre_exec(move || {
            if libc::dup2(leaked_fd, 7) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut ss = StartServer::start_command(&dir, cmd);
    let pid = ss.wait_only(1, HANG);
    let server_fds = std::fs::read_link(format!("/proc/{}/fd/7", ss.pid())).unwrap();
    assert!(server_fds.ends_with("leaked"), "the test did not leak fd 7");
    wait_for("the worker runs sleep", || {
        std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "sleep")
    });
    let mut fds: Vec<i32> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_str().unwrap().parse().unwrap())
        .collect();
    fds.sort_unstable();
    assert_eq!(fds, [0, 1, 2, 3, 4], "only stdio and the two sockets");
    ss.finish();
}

#[test]
fn a_worker_that_shuts_the_listener_down_does_not_break_the_port() {
    let dir = scratch("sec-shutdown");
    let worker = worker();
    // Generation 1 shuts the shared socket down (as a standalone server may on SIGTERM)
    // and idles; later generations are the real server.
    let script = format!(
        "if [ \"$SERVER_STARTER_GENERATION\" = 1 ]; then exec perl -MSocket -e \
         'open(my $s, \"+<&=\", 3) or die \"fd 3: $!\"; shutdown($s, 2) or die \"shutdown: $!\"; exec \"sleep\", \"600\"'; \
         else exec {worker}; fi"
    );
    let mut ss = StartServer::start(&dir, &args_for(&[], &["/bin/sh", "-c", &script]));
    let port = ss.port();
    ss.wait_only(1, HANG);
    wait_for("generation 1 shut the listener down", || {
        get(port, "/").is_err()
    });
    ss.signal(libc::SIGHUP);
    ss.expect_line("no longer listens", HANG);
    ss.wait_only(2, HANG);
    assert_eq!(get(port, "/").unwrap().generation, 2);
    ss.finish();
}

#[test]
fn double_forked_children_of_workers_stay_with_start_server() {
    let dir = scratch("sec-subreaper");
    let mut ss = StartServer::start(
        &dir,
        &args_for(&[], &["/bin/sh", "-c", "(sleep 599 &); exec sleep 600"]),
    );
    let worker_pid = ss.wait_only(1, HANG);
    let mut orphan = None;
    wait_for("the double-forked sleep", || {
        orphan = children_of(ss.pid()).into_iter().find(|&p| p != worker_pid);
        orphan.is_some()
    });
    let orphan = orphan.unwrap();
    let cmdline = std::fs::read_to_string(format!("/proc/{orphan}/cmdline")).unwrap();
    assert_eq!(cmdline, "sleep\x00599\x00", "the orphan");
    // It is ours to reap: when it ends, no zombie is left behind.
    // SAFETY: killing the orphan this test's worker made.
    unsafe { libc::kill(orphan, libc::SIGKILL) };
    wait_for("the orphan reaped", || {
        !Path::new(&format!("/proc/{orphan}")).exists()
    });
    ss.finish();
}

#[test]
fn separators_in_path_and_a_missing_dir_are_named() {
    let dir = scratch("sec-args");
    for path in ["--path=a;b.sock", "--path=a=b.sock"] {
        fails_with(&dir, &[path, "--", "/bin/true"], "SERVER_STARTER_PORT");
    }
    fails_with(
        &dir,
        &[
            "--port=127.0.0.1:0",
            "--dir=/nonexistent",
            "--",
            "/bin/true",
        ],
        "cannot change to directory /nonexistent",
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
