//! sigchan-init as a real process, under each of its names, with a real child (the `probe`
//! example: a plain program that reports its signal state and every signal it gets, with
//! the sender). Each test starts its own init; every wait is bounded.
//! Not under qemu-user (`sigchan_qemu`): the binaries are built for the host there.
#![cfg(not(sigchan_qemu))]

#[path = "../../tests/common/mod.rs"]
mod common;
use common::example::{example_path, Output, Running};
use common::{wait_until, zombies_of};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// Deadline for what must happen: only a hang reaches it.
const HANG: Duration = Duration::from_secs(120);

/// sigchan-init under `name` (a symlink), so the name picks the personality. The links live
/// in one directory of this test binary's own (a unique name, never one another run left
/// behind), made once and removed when the test binary exits.
fn init_as(name: &str) -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    extern "C" fn remove_dir() {
        if let Some(dir) = DIR.get() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
    let dir = DIR.get_or_init(|| {
        // SAFETY: registers a plain extern "C" fn, run once at the binary's normal exit.
        unsafe { libc::atexit(remove_dir) };
        common::ScratchDir::new("sigchan-init-names").keep()
    });
    let link = dir.join(name);
    // Several tests of this binary ask at once: the first makes it, the others find it.
    match std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_sigchan-init"), &link) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => panic!("cannot link {}: {e}", link.display()),
    }
    link
}

fn probe() -> String {
    example_path("probe").to_string_lossy().into_owned()
}

/// Starts `program args` with stderr merged into stdout (through `exec`, so the pid is the
/// program's and its parent is this test).
fn start(program: &str, args: &[&str]) -> Running {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "exec \"$@\" 2>&1", "sh", program])
        .args(args);
    Running::spawn(cmd, Output::Stdout)
}

fn start_init(name: &str, args: &[&str]) -> Running {
    start(init_as(name).to_str().unwrap(), args)
}

/// Every signal an init can forward: all but KILL, STOP, CHLD and the C library's own
/// (32 and 33 on glibc, 32 to 34 on musl), minus `except`.
fn forwardable(except: &[i32]) -> Vec<i32> {
    let reserved = 32..libc::SIGRTMIN();
    (1..=64)
        .filter(|s| ![libc::SIGKILL, libc::SIGSTOP, libc::SIGCHLD].contains(s))
        .filter(|s| !reserved.contains(s))
        .filter(|s| !except.contains(s))
        .collect()
}

/// The probe's name for signal `n` (`SIGTERM`, `SIG40`).
fn probe_name(n: i32) -> String {
    match sigchan::Signal::new(n) {
        Ok(s) if n <= 31 => s.to_string(),
        _ => format!("SIG{n}"),
    }
}

fn kill(pid: i32, sig: i32) {
    // SAFETY: kill with integer arguments.
    assert_eq!(unsafe { libc::kill(pid, sig) }, 0, "kill({pid}, {sig})");
}

/// The `state ...` line's field `key`.
fn field(line: &str, key: &str) -> String {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no {key} in {line}"))
        .to_owned()
}

/// `/proc/PID/stat`'s state letter (R, S, T, Z...).
fn proc_state(pid: i32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 2..].chars().next()
}

/// Waits until `n` lines so far (in any order) contain `needle`, and checks there are no more.
#[track_caller]
fn count_lines(run: &mut Running, needle: &str, n: usize) {
    let count = |seen: &[String]| seen.iter().filter(|l| l.contains(needle)).count();
    run.wait_for_lines(&format!("{n} lines with {needle:?}"), |seen| {
        count(seen) >= n
    });
    assert_eq!(count(&run.seen), n, "more than {n} lines with {needle:?}");
}

/// Waits until some line so far (in any order) starts with `line`.
#[track_caller]
fn saw_line(run: &mut Running, line: &str) {
    run.wait_for_lines(line, |seen| seen.iter().any(|l| l.starts_with(line)));
}

/// Sends each signal of `sigs` to the init and expects the probe to report it, sent by
/// the init; `who` is "" for the child or "peer " for the other member of its group.
fn expect_each_forwarded(run: &mut Running, sigs: &[i32], who: &str) {
    for &sig in sigs {
        kill(run.pid(), sig);
        let line = run.expect_line(&format!("{who}got {} from", probe_name(sig)), HANG);
        assert!(
            line.ends_with(&format!("from {}", run.pid())),
            "{line}: not from the init"
        );
    }
}

#[test]
fn tini_forwards_every_forwardable_signal_to_the_child() {
    let mut run = start_init("tini", &["-s", "--", &probe(), "--exit-on", "64"]);
    run.expect_line("ready", HANG);
    // tini leaves TTIN/TTOU ignored for itself and forwards all the rest, job control too;
    // the last real-time signal ends the probe.
    let sigs = forwardable(&[libc::SIGTTIN, libc::SIGTTOU, 64]);
    expect_each_forwarded(&mut run, &sigs, "");
    kill(run.pid(), 64);
    assert_eq!(run.wait(HANG).code(), Some(0));
}

#[test]
fn dumb_init_forwards_to_the_whole_group_and_single_child_to_the_child() {
    let mut run = start_init(
        "dumb-init",
        &["--", &probe(), "--peer", "--exit-on", "SIGTERM"],
    );
    saw_line(&mut run, "ready");
    saw_line(&mut run, "peer ready");
    // Job-control signals are rewritten to STOP in setsid mode (tested below).
    let sigs = forwardable(&[libc::SIGTSTP, libc::SIGTTIN, libc::SIGTTOU, libc::SIGCONT]);
    expect_each_forwarded(&mut run, &sigs[..5], "peer ");
    kill(run.pid(), libc::SIGUSR1);
    saw_line(&mut run, "got SIGUSR1");
    saw_line(&mut run, "peer got SIGUSR1");
    kill(run.pid(), libc::SIGTERM);
    assert_eq!(run.wait(HANG).code(), Some(0), "the child exits 0 on TERM");

    let mut run = start_init(
        "dumb-init",
        &["-c", "--", &probe(), "--peer", "--exit-on", "SIGUSR2"],
    );
    saw_line(&mut run, "ready");
    saw_line(&mut run, "peer ready");
    kill(run.pid(), libc::SIGUSR1);
    run.expect_line("got SIGUSR1", HANG);
    kill(run.pid(), libc::SIGUSR2);
    assert_eq!(run.wait(HANG).code(), Some(0));
    assert!(
        !run.seen.iter().any(|l| l.starts_with("peer got")),
        "single-child mode signalled the group: {:?}",
        run.seen
    );
    // The peer is left behind in -c mode (dumb-init sends TERM to the child alone); it is
    // in this test's process group now, so end it by its pid.
    let peer = run
        .seen
        .iter()
        .find(|l| l.starts_with("peer state "))
        .map(|l| field(l, "pid"));
    if let Some(pid) = peer.and_then(|p| p.parse().ok()) {
        kill(pid, libc::SIGKILL);
    }
}

#[test]
fn rewrites_translate_and_drop() {
    // USR1 -> USR2, HUP dropped; dumb-init's numbers, sigchan-init's names.
    for (name, args) in [
        ("dumb-init", vec!["-r", "10:12", "-r", "1:0"]),
        ("sigchan-init", vec!["-r", "USR1:USR2", "-r", "SIGHUP:0"]),
    ] {
        let probe = probe();
        let mut all = args.clone();
        all.extend(["--", probe.as_str(), "--exit-on", "SIGWINCH"]);
        let mut run = start_init(name, &all);
        run.expect_line("ready", HANG);
        kill(run.pid(), libc::SIGUSR1);
        run.expect_line("got SIGUSR2", HANG);
        kill(run.pid(), libc::SIGHUP);
        kill(run.pid(), libc::SIGWINCH);
        assert_eq!(run.wait(HANG).code(), Some(0));
        assert!(
            !run.seen.iter().any(|l| l.contains("got SIGHUP")),
            "{name}: {:?}",
            run.seen
        );
        assert!(
            !run.seen.iter().any(|l| l.contains("got SIGUSR1")),
            "{name}: {:?}",
            run.seen
        );
    }
}

#[test]
fn job_control_stops_the_group_and_the_init_and_cont_resumes_them() {
    // dumb-init (setsid mode): TSTP is forwarded as STOP, then the init stops itself.
    let mut run = start_init("dumb-init", &["--", &probe(), "--exit-on", "SIGUSR1"]);
    let state = run.expect_line("state", HANG);
    let child: i32 = field(&state, "pid").parse().unwrap();
    run.expect_line("ready", HANG);
    kill(run.pid(), libc::SIGTSTP);
    wait_until("the child stopped", || proc_state(child) == Some('T'));
    wait_until("the init stopped itself", || {
        proc_state(run.pid()) == Some('T')
    });
    kill(run.pid(), libc::SIGCONT);
    run.expect_line("got SIGCONT", HANG);
    wait_until("the child running again", || proc_state(child) != Some('T'));
    kill(run.pid(), libc::SIGUSR1);
    assert_eq!(run.wait(HANG).code(), Some(0));

    // tini: TSTP is forwarded as TSTP (the probe catches it) and tini does not stop.
    let mut run = start_init("tini", &["-s", "--", &probe(), "--exit-on", "SIGUSR1"]);
    run.expect_line("ready", HANG);
    kill(run.pid(), libc::SIGTSTP);
    run.expect_line("got SIGTSTP", HANG);
    assert_ne!(proc_state(run.pid()), Some('T'));
    kill(run.pid(), libc::SIGUSR1);
    assert_eq!(run.wait(HANG).code(), Some(0));
}

#[test]
fn exit_codes_follow_the_child_and_e_remaps() {
    for name in ["tini", "dumb-init", "sigchan-init"] {
        let code = |args: &[&str]| {
            let mut all = vec![];
            if name == "tini" {
                all.push("-s");
            }
            all.push("--");
            all.extend_from_slice(args);
            start_init(name, &all).wait(HANG)
        };
        assert_eq!(code(&["sh", "-c", "exit 3"]).code(), Some(3), "{name}");
        assert_eq!(
            code(&["sh", "-c", "kill -TERM $$"]).code(),
            Some(143),
            "{name}"
        );
        assert_eq!(
            code(&["sh", "-c", "kill -KILL $$"]).code(),
            Some(137),
            "{name}"
        );
    }
    let remapped = start_init(
        "tini",
        &["-s", "-e", "143", "--", "sh", "-c", "kill -TERM $$"],
    );
    let mut remapped = remapped;
    assert_eq!(remapped.wait(HANG).code(), Some(0));
    let mut native = start_init("sigchan-init", &["-e", "3", "--", "sh", "-c", "exit 3"]);
    assert_eq!(native.wait(HANG).code(), Some(0));
}

/// A command that cannot run: each personality gives its program's exit code and message
/// shape (checked against Debian's programs by the next test).
#[test]
fn commands_that_cannot_run_get_each_programs_code_and_message() {
    for (name, cmd, code, shape) in CANNOT_RUN {
        let mut ours = start_init(name, &cannot_run_args(name, cmd));
        let status = ours.wait(HANG);
        assert_eq!(status.code(), Some(code), "{name} {cmd}: {:?}", ours.seen);
        assert!(
            ours.seen.iter().any(|l| l.contains(shape)),
            "{name} {cmd}: {:?}",
            ours.seen
        );
    }
}

/// The same cases with Debian's tini and dumb-init: the codes and shapes above are theirs.
#[test]
#[ignore = "needs Debian's tini and dumb-init: .ci/run installs them"]
fn debian_tini_and_dumb_init_give_the_same_codes_and_messages() {
    for (name, cmd, code, shape) in CANNOT_RUN {
        if name == "sigchan-init" {
            continue;
        }
        let mut theirs = start(debian(name).to_str().unwrap(), &cannot_run_args(name, cmd));
        assert_eq!(
            theirs.wait(HANG).code(),
            Some(code),
            "Debian's {name} {cmd}"
        );
        assert!(
            theirs.seen.iter().any(|l| l.contains(shape)),
            "{:?}",
            theirs.seen
        );
    }
}

/// Debian's `name` (tini, dumb-init), for the side-by-side tests; panics, naming the
/// package, where it is not installed.
fn debian(name: &str) -> PathBuf {
    let path = PathBuf::from(format!("/usr/bin/{name}"));
    assert!(
        path.exists(),
        "{} not found: install Debian's {name} package (.ci/run does)",
        path.display()
    );
    path
}

fn cannot_run_args<'a>(name: &str, cmd: &'a str) -> Vec<&'a str> {
    match name {
        "tini" => vec!["-s", cmd],
        _ => vec![cmd],
    }
}

/// Program, command that cannot run, exit code, a piece of the message.
const CANNOT_RUN: [(&str, &str, i32, &str); 6] = [
    ("tini", "/nonexistent", 127, "[FATAL tini ("),
    ("tini", "/etc/passwd", 126, "[FATAL tini ("),
    (
        "dumb-init",
        "/nonexistent",
        2,
        "[dumb-init] /nonexistent: No such file or directory",
    ),
    (
        "dumb-init",
        "/etc/passwd",
        2,
        "[dumb-init] /etc/passwd: Permission denied",
    ),
    (
        "sigchan-init",
        "/nonexistent",
        127,
        "sigchan-init: cannot run /nonexistent",
    ),
    (
        "sigchan-init",
        "/etc/passwd",
        126,
        "sigchan-init: cannot run /etc/passwd",
    ),
];

/// The child's signal state is a plain process's: nothing blocked, ignored or caught (read
/// by `grep` exec'd straight from `sh`, which changes none of it), whatever init blocked,
/// ignored (tini: TTIN/TTOU) or caught for itself; and it runs where the personality says.
#[test]
fn the_child_starts_as_a_plain_process() {
    for (name, extra) in [
        ("tini", vec!["-s"]),
        ("dumb-init", vec![]),
        ("sigchan-init", vec![]),
    ] {
        let mut args = extra.clone();
        args.extend([
            "--",
            "sh",
            "-c",
            "exec grep -E '^Sig(Blk|Ign|Cgt)' /proc/self/status",
        ]);
        let mut run = start_init(name, &args);
        assert_eq!(run.wait(HANG).code(), Some(0));
        // The same command started by this test directly: what a plain process gets here
        // (this environment may hand down an ignored signal 32, which no one can undo).
        let mut plain = start("sh", &args[args.len() - 2..]);
        assert_eq!(plain.wait(HANG).code(), Some(0));
        for f in ["SigBlk", "SigIgn", "SigCgt"] {
            let line = run.seen.iter().find(|l| l.starts_with(f)).unwrap();
            let expected = plain.seen.iter().find(|l| l.starts_with(f)).unwrap();
            assert_eq!(line, expected, "{name}: {f}");
        }
        assert!(plain
            .seen
            .iter()
            .any(|l| l.starts_with("SigBlk:\t0000000000000000")));

        let probe = probe();
        let mut args = extra.clone();
        args.extend(["--", probe.as_str(), "--exit-on", "SIGUSR1"]);
        let mut run = start_init(name, &args);
        let state = run.expect_line("state", HANG);
        let pid = field(&state, "pid");
        match name {
            // tini: a process group of its own, in the caller's session.
            "tini" => assert_eq!(field(&state, "pgid"), pid, "{state}"),
            // dumb-init and sigchan-init: a session of its own.
            _ => assert_eq!(field(&state, "sid"), pid, "{state}"),
        }
        run.expect_line("ready", HANG);
        kill(run.pid(), libc::SIGUSR1);
        assert_eq!(run.wait(HANG).code(), Some(0));
    }
}

/// `program args` started with SIGTTOU, SIGPIPE and SIGHUP ignored and SIGUSR2 blocked, as
/// `nohup` and a careful parent leave them; returns the child's `SigBlk` and `SigIgn` (the
/// command is `sh -c 'exec grep ...'`, which changes neither).
fn child_state_under_a_parent_that_ignores_and_blocks(program: &str, args: &[&str]) -> (u64, u64) {
    use std::os::unix::process::CommandExt as _;
    let mut cmd = Command::new(program);
    cmd.args(args)
        .args(["sh", "-c", "exec grep -E '^Sig(Blk|Ign)' /proc/self/status"]);
    // SAFETY: between fork and exec: signal and pthread_sigmask only.
    unsafe {
        cmd.pre_exec(|| {
            for sig in [libc::SIGTTOU, libc::SIGPIPE, libc::SIGHUP] {
                libc::signal(sig, libc::SIG_IGN);
            }
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGUSR2);
            libc::pthread_sigmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
            Ok(())
        });
    }
    let out = cmd.output().expect("the init runs");
    assert!(out.status.success(), "{program}: {out:?}");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mask = |f: &str| {
        let line = text
            .lines()
            .find(|l| l.starts_with(f))
            .unwrap_or_else(|| panic!("{text}"));
        u64::from_str_radix(line[f.len()..].trim(), 16).unwrap()
    };
    (mask("SigBlk:"), mask("SigIgn:"))
}

fn bits(sigs: &[i32]) -> u64 {
    sigs.iter().fold(0, |m, s| m | 1 << (s - 1))
}

/// tini gives the child exactly the signal state tini was started with (ignored signals
/// and the mask); dumb-init resets everything to defaults. Each personality does the same.
#[test]
fn each_personality_gives_the_child_what_its_program_gives() {
    let ignored = bits(&[libc::SIGTTOU, libc::SIGPIPE, libc::SIGHUP]);
    let blocked = bits(&[libc::SIGUSR2]);
    let tini = init_as("tini");
    let (blk, ign) =
        child_state_under_a_parent_that_ignores_and_blocks(tini.to_str().unwrap(), &["-s", "--"]);
    assert_eq!(blk, blocked, "tini: the mask it was started with");
    assert_eq!(
        ign & ignored,
        ignored,
        "tini: what it inherited ignored: {ign:#x}"
    );
    let dumb = init_as("dumb-init");
    let (blk, ign) =
        child_state_under_a_parent_that_ignores_and_blocks(dumb.to_str().unwrap(), &[]);
    assert_eq!((blk, ign & ignored), (0, 0), "dumb-init: defaults");
}

/// The same side by side with Debian's programs: identical `SigBlk` and `SigIgn`.
#[test]
#[ignore = "needs Debian's tini and dumb-init: .ci/run installs them"]
fn debian_tini_and_dumb_init_give_the_child_the_same_signal_state() {
    for (name, args) in [("tini", vec!["-s", "--"]), ("dumb-init", vec![])] {
        let ours = child_state_under_a_parent_that_ignores_and_blocks(
            init_as(name).to_str().unwrap(),
            &args,
        );
        let theirs = child_state_under_a_parent_that_ignores_and_blocks(
            debian(name).to_str().unwrap(),
            &args,
        );
        assert_eq!(ours, theirs, "{name}: (SigBlk, SigIgn) ours vs Debian's");
    }
}

/// Verbose lines, side by side: each line sigchan-init prints in a personality has the
/// shape of one the real program prints for the same run (pids and numbers aside).
#[test]
#[ignore = "needs Debian's tini and dumb-init: .ci/run installs them"]
fn debian_tini_and_dumb_init_print_the_same_verbose_lines() {
    let shape = |l: &str| -> String {
        l.chars()
            .map(|c| if c.is_ascii_digit() { '9' } else { c })
            .collect::<String>()
            .replace("99999", "9")
            .replace("9999", "9")
            .replace("999", "9")
            .replace("99", "9")
    };
    for (name, args) in [
        ("tini", vec!["-vvv", "-s", "--"]),
        ("dumb-init", vec!["-v"]),
        ("dumb-init", vec!["-v", "-c"]),
    ] {
        let mut lines = Vec::new();
        for program in [init_as(name), debian(name)] {
            let mut all = args.clone();
            all.extend(["sh", "-c", "kill -USR1 $PPID; sleep 0.3; exit 3"]);
            let mut run = start(program.to_str().unwrap(), &all);
            run.wait(HANG);
            // Two of tini's lines depend on timing, not shape: `No child to wait` (waitpid
            // found no child at all) on whether its loop runs once more after the last
            // child is gone, and `Received SIGCHLD` on whether the child's exit is still
            // pending when tini next waits for a signal, or was already reaped by the pass
            // after the forward (seen missing from Debian's tini once in a CI run).
            let mut seen: Vec<String> = run
                .seen
                .iter()
                .filter(|l| !l.ends_with("No child to wait") && !l.ends_with("Received SIGCHLD"))
                .map(|l| shape(l))
                .collect();
            seen.sort();
            seen.dedup();
            lines.push(seen);
        }
        assert_eq!(lines[0], lines[1], "{name} {args:?}: ours, then Debian's");
    }
}

/// In a new PID namespace the child is pid 2, as under tini and dumb-init: sigchan's
/// thread starts after it.
#[test]
#[ignore = "needs root: unshare --pid makes a PID namespace; .ci/run runs it as root"]
fn in_a_new_pid_namespace_the_child_is_pid_2() {
    for name in ["tini", "dumb-init", "sigchan-init"] {
        let init = init_as(name);
        let mut run = start(
            "unshare",
            &[
                "--pid",
                "--fork",
                init.to_str().unwrap(),
                "--",
                "sh",
                "-c",
                "echo pid=$$",
            ],
        );
        assert_eq!(run.wait(HANG).code(), Some(0), "{name}: {:?}", run.seen);
        assert!(
            run.seen.iter().any(|l| l == "pid=2"),
            "{name}: {:?}",
            run.seen
        );
    }
}

#[test]
fn dumb_init_moves_to_root_and_the_child_keeps_the_callers_directory() {
    let mut run = start_init("dumb-init", &["--", &probe(), "--exit-on", "SIGUSR1"]);
    let state = run.expect_line("state", HANG);
    let child: i32 = field(&state, "pid").parse().unwrap();
    run.expect_line("ready", HANG);
    let cwd = |pid: i32| std::fs::read_link(format!("/proc/{pid}/cwd")).unwrap();
    wait_until("the init in /", || {
        cwd(run.pid()) == std::path::Path::new("/")
    });
    assert_eq!(cwd(child), std::env::current_dir().unwrap());
    kill(run.pid(), libc::SIGUSR1);
    assert_eq!(run.wait(HANG).code(), Some(0));
}

/// Orphans re-parented to a subreaper are reaped: none left as a zombie, and tini's `-w`
/// reports each one.
#[test]
fn a_subreaper_reaps_every_orphan_and_w_reports_them() {
    let mut run = start_init(
        "tini",
        &[
            "-s",
            "-w",
            "--",
            &probe(),
            "--orphans",
            "200",
            "--exit-on",
            "SIGUSR1",
        ],
    );
    run.expect_line("orphans 200", HANG);
    let init = run.pid();
    count_lines(&mut run, "Reaped zombie process with pid=", 200);
    assert!(zombies_of(init).is_empty(), "{:?}", zombies_of(init));
    kill(init, libc::SIGUSR1);
    assert_eq!(run.wait(HANG).code(), Some(0));
}

/// The host pid of the process `unshare --fork` started (PID 1 of the new namespace).
fn namespace_init(run: &mut Running) -> i32 {
    let unshare = run.pid();
    let mut found = 0;
    let start = Instant::now();
    while found == 0 {
        run.drain();
        assert!(
            start.elapsed() < HANG,
            "no child of unshare; it said: {:?}",
            run.seen
        );
        std::thread::sleep(Duration::from_millis(10));
        let children = std::fs::read_to_string(format!("/proc/{unshare}/task/{unshare}/children"))
            .unwrap_or_default();
        found = children
            .split_whitespace()
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
    }
    found
}

/// PID 1 proper, in a new PID namespace: 1,000 orphaned grandchildren all reaped, and a
/// TERM reaching an application that installed no handler (it dies of it; so does the
/// namespace's init, with 143).
#[test]
#[ignore = "needs root: unshare --pid makes a PID namespace; .ci/run runs it as root"]
fn as_pid_1_it_reaps_a_burst_of_orphans_and_term_reaches_a_plain_application() {
    let init = init_as("sigchan-init");
    let init = init.to_str().unwrap();
    let probe = probe();
    let mut run = start(
        "unshare",
        &[
            "--pid",
            "--fork",
            init,
            "-w",
            "--",
            &probe,
            "--orphans",
            "1000",
            "--exit-on",
            "SIGUSR1",
        ],
    );
    let pid1 = namespace_init(&mut run);
    run.expect_line("orphans 1000", HANG);
    count_lines(&mut run, "reaped orphan pid", 1000);
    let reaped: BTreeSet<&String> = run
        .seen
        .iter()
        .filter(|l| l.contains("reaped orphan pid"))
        .collect();
    assert_eq!(reaped.len(), 1000, "each orphan once");
    let odd: Vec<_> = reaped
        .iter()
        .filter(|l| !l.ends_with(": exited 0"))
        .collect();
    assert!(odd.is_empty(), "orphans that did not exit 0: {odd:?}");
    assert!(zombies_of(pid1).is_empty(), "{:?}", zombies_of(pid1));
    kill(pid1, libc::SIGUSR1);
    assert_eq!(run.wait(HANG).code(), Some(0));

    let mut run = start("unshare", &["--pid", "--fork", init, "--", "sleep", "1000"]);
    let pid1 = namespace_init(&mut run);
    wait_until("sleep started", || {
        std::fs::read_to_string(format!("/proc/{pid1}/task/{pid1}/children"))
            .is_ok_and(|c| !c.trim().is_empty())
    });
    kill(pid1, libc::SIGTERM);
    assert_eq!(run.wait(HANG).code(), Some(143));
}

/// `--grace`: a shell that ignores TERM cannot hold the init past the grace period.
#[test]
fn grace_kills_what_ignores_the_forwarded_signal() {
    let mut run = start_init(
        "sigchan-init",
        &[
            "--grace",
            "0.3",
            "--",
            "sh",
            "-c",
            "trap '' TERM; echo started; while :; do sleep 0.05; done",
        ],
    );
    run.expect_line("started", HANG);
    kill(run.pid(), libc::SIGTERM);
    run.expect_line("grace of 0.3s over: SIGKILL to process group", HANG);
    assert_eq!(run.wait(HANG).code(), Some(137));
}

/// `-v`: each forwarded signal with who sent it, each reaped orphan with how it ended.
#[test]
fn verbose_names_the_sender_and_how_orphans_ended() {
    let mut run = start_init(
        "sigchan-init",
        &[
            "-v",
            "-s",
            "--",
            &probe(),
            "--orphans",
            "3",
            "--exit-on",
            "SIGUSR1",
        ],
    );
    let state = run.expect_line("state", HANG);
    let child = field(&state, "pid");
    run.expect_line("orphans 3", HANG);
    count_lines(&mut run, "reaped orphan pid", 3);
    kill(run.pid(), libc::SIGUSR2);
    let me = std::process::id();
    let line = run.expect_line("forwarded SIGUSR2 from pid", HANG);
    assert!(
        line.contains(&format!("from pid {me} ("))
            && line.ends_with(&format!("to process group {child}")),
        "{line}"
    );
    kill(run.pid(), libc::SIGUSR1);
    assert_eq!(run.wait(HANG).code(), Some(0));
}

/// `-p`: when the init's parent dies, the init gets the signal (here TERM, which it forwards,
/// so the child and then the init end).
#[test]
fn parent_death_signal_reaches_the_init() {
    let init = init_as("tini");
    // The shell waits until the init has started its child (so the init has set its
    // parent-death signal), prints the init's pid, and exits.
    let out = Command::new("sh")
        .args([
            "-c",
            "\"$0\" -s -p SIGTERM -- sleep 1000 >/dev/null 2>&1 & p=$!; \
             while [ -z \"$(cat /proc/$p/task/$p/children 2>/dev/null)\" ]; do sleep 0.01; done; \
             echo $p",
        ])
        .arg(&init)
        .output()
        .unwrap();
    let pid: i32 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    // The shell exited at once: the init got TERM, forwarded it, and ended with sleep.
    wait_until("the init ended after its parent", || {
        proc_state(pid).is_none() || proc_state(pid) == Some('Z')
    });
}

/// dumb-init's terminal hand-off, on a real pseudo-terminal: the init leads the session the
/// terminal belongs to; it gives the terminal up, the child takes it in a session of its own
/// (it is the terminal's foreground group), and the SIGHUP and SIGCONT the kernel sends the
/// init for giving it up are not forwarded. Side by side with Debian's dumb-init.
#[test]
fn the_terminal_goes_to_the_child_and_the_hand_off_signals_stay_with_the_init() {
    terminal_hand_off(init_as("dumb-init"));
}

/// The same with Debian's dumb-init, side by side.
#[test]
#[ignore = "needs Debian's dumb-init (/usr/bin/dumb-init): .ci/run installs it"]
fn debian_dumb_init_hands_the_terminal_off_the_same_way() {
    terminal_hand_off(debian("dumb-init"));
}

fn terminal_hand_off(init: PathBuf) {
    {
        let (mut master_fd, mut slave_fd) = (0, 0);
        // SAFETY: openpty fills two descriptors; no name, termios or size.
        assert_eq!(
            unsafe {
                libc::openpty(
                    &mut master_fd,
                    &mut slave_fd,
                    std::ptr::null_mut(),
                    std::ptr::null(),
                    std::ptr::null(),
                )
            },
            0
        );
        let mut cmd = Command::new(&init);
        cmd.args(["--", &probe(), "--exit-on", "SIGUSR1"]);
        use std::os::unix::process::CommandExt;
        // SAFETY: in the child, before exec: setsid, ioctl and dup2 only.
        unsafe {
            cmd.pre_exec(move || {
                libc::setsid();
                libc::ioctl(slave_fd, libc::TIOCSCTTY, 0);
                for fd in 0..3 {
                    libc::dup2(slave_fd, fd);
                }
                Ok(())
            });
        }
        let mut child = cmd.spawn().unwrap();
        // SAFETY: the parent's copy of the slave is not needed.
        unsafe { libc::close(slave_fd) };
        // SAFETY: master_fd is ours; File owns and closes it.
        let master = unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(master_fd) };
        let (tx, lines) = std::sync::mpsc::channel::<String>();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(master).lines() {
                let Ok(line) = line else { break };
                if tx.send(line.trim_end_matches('\r').to_owned()).is_err() {
                    break;
                }
            }
        });
        let mut seen = Vec::new();
        let until = |needle: &str, seen: &mut Vec<String>| -> String {
            loop {
                let line = lines
                    .recv_timeout(HANG)
                    .unwrap_or_else(|_| panic!("{init:?}: no {needle:?} in {seen:?}"));
                seen.push(line.clone());
                if line.contains(needle) {
                    return line;
                }
            }
        };
        let state = until("state", &mut seen);
        until("ready", &mut seen);
        let pid = field(&state, "pid");
        assert_eq!(
            field(&state, "sid"),
            pid,
            "{init:?}: a session of its own: {state}"
        );
        assert_eq!(
            field(&state, "fg"),
            field(&state, "pgid"),
            "{init:?}: holds the terminal: {state}"
        );
        kill(child.id() as i32, libc::SIGUSR1);
        until("got SIGUSR1", &mut seen);
        assert!(
            !seen
                .iter()
                .any(|l| l.contains("got SIGHUP") || l.contains("got SIGCONT")),
            "{init:?} forwarded the hand-off's signals: {seen:?}"
        );
        assert_eq!(child.wait().unwrap().code(), Some(0), "{init:?}");
    }
}

/// The child reads the init's stdin (a pipe here), under every name.
#[test]
fn the_child_gets_the_inits_stdin() {
    for (name, opts) in [
        ("tini", "-s --"),
        ("dumb-init", "--"),
        ("sigchan-init", "--"),
    ] {
        let out = Command::new("sh")
            .args(["-c", "printf 'line one\\nline two\\n' | \"$0\" $1 cat"])
            .arg(init_as(name))
            .arg(opts)
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "line one\nline two\n",
            "{name}"
        );
        assert!(out.status.success(), "{name}: {out:?}");
    }
}
