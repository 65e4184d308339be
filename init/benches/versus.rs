//! sigchan-init against Debian's tini, tini-static, dumb-init and catatonit, in one run, on
//! this machine, every column of init/README.md's table:
//! - idle wake-ups: context switches of every thread of the init over 10 s while its child
//!   sleeps (tini wakes every second to reap), and its threads;
//! - memory: the init's resident set (VmRSS) with its child running;
//! - forwarding latency: `kill(init, SIGUSR1)` until the child's handler runs (the child
//!   stamps CLOCK_MONOTONIC in its handler), 2,000 rounds one after the other, everything
//!   pinned to one CPU with a pause between rounds so each starts with every thread asleep,
//!   every init running at once and visited in turn round by round (this VM drifts over
//!   minutes: each init meets the same machine);
//! - a burst: 2,000 SIGUSR1 sent back to back, and how many times the child's handler ran
//!   (standard signals merge in the kernel; an init should not merge more);
//! - reaping, as PID 1 of a new PID namespace (root only): the init's CPU time (every thread,
//!   from /proc's schedstat) while 20,000 orphans are re-parented to it and reaped, and the
//!   pid its child gets there;
//! - the binary's size.
//!
//! `cargo bench -p sigchan-init --bench versus` writes the table to stdout and to
//! `target/sigchan-init-bench/report.md`; `SIGCHAN_INIT_BENCH_QUICK=1` runs a short version
//! (CI: it must keep working, no figure is checked). sigchan-init is measured as shipped
//! (`cargo build --profile dist -p sigchan-init`, natively and for x86_64 musl); the bench
//! builds both first. Inits that are not installed are skipped; the namespace columns read
//! `-` when not run as root.

#[path = "../../tests/common/mod.rs"]
mod common;
use common::example::{example_path, Output, Running};
#[path = "../examples/support/monotonic.rs"]
mod monotonic;
use monotonic::monotonic_ns;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const HANG: Duration = Duration::from_secs(300);

/// Every thread of `pid`.
fn tasks(pid: i32) -> Vec<PathBuf> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|d| d.filter_map(|t| Some(t.ok()?.path())).collect())
        .unwrap_or_default()
}

/// Sum of voluntary and involuntary context switches over every thread of `pid`.
fn context_switches(pid: i32) -> u64 {
    tasks(pid)
        .iter()
        .filter_map(|t| std::fs::read_to_string(t.join("status")).ok())
        .flat_map(|s| {
            s.lines()
                .filter(|l| l.contains("ctxt_switches"))
                .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
                .collect::<Vec<_>>()
        })
        .sum()
}

/// CPU time of every thread of `pid` so far, in ns (`schedstat`'s first field).
fn cpu_ns(pid: i32) -> u64 {
    tasks(pid)
        .iter()
        .filter_map(|t| std::fs::read_to_string(t.join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

fn rss_kib(pid: i32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// The first child of `pid` (from /proc), waiting for it to appear.
fn first_child(pid: i32) -> i32 {
    let start = Instant::now();
    loop {
        let children =
            std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
        if let Some(c) = children
            .split_whitespace()
            .next()
            .and_then(|c| c.parse().ok())
        {
            return c;
        }
        assert!(start.elapsed() < HANG, "no child of {pid}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn children_count(pid: i32) -> usize {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .count()
}

struct Init {
    label: &'static str,
    program: String,
    args: Vec<&'static str>,
}

impl Init {
    fn command(&self, child: &[&str]) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args).arg("--").args(child);
        cmd
    }
}

fn start(init: &Init, child: &[&str]) -> Running {
    Running::spawn(init.command(child), Output::Stdout)
}

/// `init` as PID 1 of a new PID namespace (`unshare --pid --fork`), running `child`.
fn start_as_pid_1(init: &Init, child: &[&str]) -> Running {
    let mut cmd = Command::new("unshare");
    cmd.args(["--pid", "--fork", "--kill-child", &init.program])
        .args(&init.args)
        .arg("--")
        .args(child);
    Running::spawn(cmd, Output::Stdout)
}

/// Forwarding latency, `kill(init, SIGUSR1)` until the child's handler runs, `rounds` rounds
/// per init on one CPU: every init runs at once with its probe child, and each round visits
/// them in turn. Returns each init's latencies (ns), sorted.
fn latency_interleaved(inits: &[Init], probe: &str, rounds: usize) -> Vec<Vec<u64>> {
    pin_to_cpu_0(true);
    let mut runs: Vec<Running> = inits
        .iter()
        .map(|init| {
            let mut run = start(init, &[probe, "--stamp", "--exit-on", "SIGTERM"]);
            run.expect_line("ready", HANG);
            run
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut lat: Vec<Vec<u64>> = vec![Vec::with_capacity(rounds); runs.len()];
    for _ in 0..rounds {
        for (run, l) in runs.iter_mut().zip(&mut lat) {
            let t0 = monotonic_ns();
            // SAFETY: kill our own child.
            unsafe { libc::kill(run.pid(), libc::SIGUSR1) };
            let line = run.expect_line("got SIGUSR1 from", HANG);
            let at: u64 = line.rsplit(' ').next().unwrap().parse().unwrap();
            l.push(at.saturating_sub(t0));
            // Each round starts with every thread asleep.
            std::thread::sleep(Duration::from_micros(50));
        }
    }
    for run in &mut runs {
        // SAFETY: kill our own child.
        unsafe { libc::kill(run.pid(), libc::SIGTERM) };
        let _ = run.wait(HANG);
    }
    pin_to_cpu_0(false);
    for l in &mut lat {
        l.sort_unstable();
    }
    lat
}

/// CPU (ms, every thread) `init` spends as PID 1 of a new PID namespace while `orphans`
/// orphans are re-parented to it and reaped.
fn reap_ms(init: &Init, probe: &str, orphans: usize) -> f64 {
    let n = orphans.to_string();
    let mut run = start_as_pid_1(init, &[probe, "--orphans", &n, "--exit-on", "SIGUSR1"]);
    let pid1 = first_child(run.pid());
    let cpu0 = cpu_ns(pid1);
    run.expect_line(&format!("orphans {n}"), HANG);
    // The orphans sleep 50 ms; wait until only the probe is left.
    let start = Instant::now();
    while children_count(pid1) > 1 || !common::zombies_of(pid1).is_empty() {
        assert!(start.elapsed() < HANG, "{}: orphans not reaped", init.label);
        std::thread::sleep(Duration::from_millis(20));
    }
    let ms = (cpu_ns(pid1) - cpu0) as f64 / 1e6;
    let probe_pid = first_child(pid1);
    // SAFETY: kill the probe (in our namespace view) to end the run.
    unsafe { libc::kill(probe_pid, libc::SIGUSR1) };
    let _ = run.wait(HANG);
    ms
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize] as f64 / 1000.0
}

/// Runs this thread, and what it starts from now on, on CPU 0 (`true`) or on any CPU.
fn pin_to_cpu_0(pin: bool) {
    // SAFETY: a zeroed cpu_set_t is empty; CPU_SET on it, then sched_setaffinity on this
    // thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for cpu in 0..libc::CPU_SETSIZE as usize {
            if cpu == 0 || !pin {
                libc::CPU_SET(cpu, &mut set);
            }
        }
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

/// Builds sigchan-init as shipped (profile `dist`) natively and for x86_64 musl; returns the
/// two binaries (the musl one only if its target is installed).
fn build_shipped() -> (PathBuf, Option<PathBuf>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let build = |target: Option<&str>| {
        let mut cmd = Command::new(&cargo);
        cmd.current_dir(&root)
            .args(["build", "--profile", "dist", "-p", "sigchan-init"]);
        if let Some(t) = target {
            cmd.args(["--target", t]);
        }
        cmd.status().is_ok_and(|s| s.success())
    };
    assert!(
        build(None),
        "cargo build --profile dist -p sigchan-init failed"
    );
    let native = root.join("target/dist/sigchan-init");
    let musl = build(Some("x86_64-unknown-linux-musl"))
        .then(|| root.join("target/x86_64-unknown-linux-musl/dist/sigchan-init"));
    (native, musl)
}

/// What a signal costs delivered to a handler (a frame pushed, `rt_sigreturn`) against
/// `sigwaitinfo` taking it with no frame, in ns each, from `n` rounds of a thread signalling
/// itself: the cost a handler-based init (sigchan-init) pays per wake-up that a
/// `sigwaitinfo` loop (tini, dumb-init, catatonit) does not.
fn handler_vs_sigwaitinfo_ns(n: u32) -> (f64, f64) {
    extern "C" fn on_usr1(_: libc::c_int) {}
    // SAFETY: a plain handler for USR1 and a blocked USR2 taken by sigwaitinfo, on this
    // thread only; both restored at the end.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_usr1 as *const () as usize;
        sa.sa_flags = libc::SA_RESTART;
        libc::sigfillset(&mut sa.sa_mask);
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(libc::SIGUSR1, &sa, &mut old);
        let (pid, tid) = (libc::getpid(), libc::syscall(libc::SYS_gettid));
        let t0 = Instant::now();
        for _ in 0..n {
            libc::syscall(libc::SYS_tgkill, pid, tid, libc::SIGUSR1);
        }
        let handler = t0.elapsed().as_nanos() as f64 / f64::from(n);
        libc::sigaction(libc::SIGUSR1, &old, std::ptr::null_mut());
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGUSR2);
        let mut before: libc::sigset_t = std::mem::zeroed();
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut before);
        let t0 = Instant::now();
        for _ in 0..n {
            libc::syscall(libc::SYS_tgkill, pid, tid, libc::SIGUSR2);
            libc::sigwaitinfo(&set, std::ptr::null_mut());
        }
        let wait = t0.elapsed().as_nanos() as f64 / f64::from(n);
        libc::pthread_sigmask(libc::SIG_SETMASK, &before, std::ptr::null_mut());
        (handler, wait)
    }
}

/// One init's row.
struct Row {
    label: &'static str,
    wakeups: u64,
    threads: usize,
    rss: u64,
    p50: f64,
    p99: f64,
    burst_seen: usize,
    reap_ms: Option<f64>,
    child_pid: Option<i32>,
    size: u64,
}

fn main() {
    let quick = std::env::var_os("SIGCHAN_INIT_BENCH_QUICK").is_some();
    let (idle, rounds, burst, orphans) = if quick {
        (Duration::from_secs(2), 200, 2000, 2000)
    } else {
        (Duration::from_secs(10), 2000, 2000, 20_000)
    };
    // SAFETY: geteuid cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    let (native, musl) = build_shipped();
    let init = |label, program: &str, args| Init {
        label,
        program: program.to_owned(),
        args,
    };
    let mut inits = vec![init(
        "sigchan-init (glibc)",
        native.to_str().unwrap(),
        vec!["-s"],
    )];
    if let Some(m) = &musl {
        inits.push(init(
            "sigchan-init (static, musl)",
            m.to_str().unwrap(),
            vec!["-s"],
        ));
    }
    inits.extend([
        init("tini 0.19 (Debian)", "/usr/bin/tini", vec!["-s"]),
        init(
            "tini-static 0.19 (Debian)",
            "/usr/bin/tini-static",
            vec!["-s"],
        ),
        init("dumb-init 1.2.5 (Debian)", "/usr/bin/dumb-init", vec![]),
        init("catatonit 0.1.7 (Debian)", "/usr/bin/catatonit", vec![]),
    ]);
    inits.retain(|i| Path::new(&i.program).exists());
    let probe = example_path("probe").to_string_lossy().into_owned();
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());

    let mut rows = Vec::new();
    for init in &inits {
        // Idle: the child sleeps; count the init's wake-ups and threads, read its RSS.
        let mut run = start(init, &["sleep", "1000"]);
        std::thread::sleep(Duration::from_millis(500));
        let pid = run.pid();
        let before = context_switches(pid);
        std::thread::sleep(idle);
        let wakeups = context_switches(pid) - before;
        let rss = rss_kib(pid);
        let threads = tasks(pid).len();
        let sleeper = first_child(pid);
        // SAFETY: kill our own child and its child.
        unsafe {
            libc::kill(sleeper, libc::SIGKILL);
            libc::kill(pid, libc::SIGKILL);
        }
        let _ = run.wait(HANG);

        // Burst, on every CPU: back to back; then count what the child's handler saw.
        let mut run = start(init, &[&probe, "--exit-on", "SIGTERM"]);
        run.expect_line("ready", HANG);
        // The child is ready before some inits are (sigchan-init starts its forward after
        // the child): let every init settle first.
        std::thread::sleep(Duration::from_millis(300));
        for _ in 0..burst {
            // SAFETY: kill our own child.
            unsafe { libc::kill(run.pid(), libc::SIGUSR1) };
        }
        let mut burst_seen = 0;
        let mut quiet_since = Instant::now();
        while quiet_since.elapsed() < Duration::from_millis(500) {
            if run
                .try_line(Duration::from_millis(50))
                .is_some_and(|l| l.contains("got SIGUSR1 from"))
            {
                burst_seen += 1;
                quiet_since = Instant::now();
            }
        }
        // SAFETY: kill our own child.
        unsafe { libc::kill(run.pid(), libc::SIGTERM) };
        let _ = run.wait(HANG);

        // As PID 1: the child's pid, and the CPU to reap the orphans.
        let mut child_pid = None;
        if root {
            let mut run = start_as_pid_1(init, &["sh", "-c", "echo pid=$$"]);
            let line = run.expect_line("pid=", HANG);
            child_pid = line
                .trim()
                .strip_prefix("pid=")
                .and_then(|p| p.parse().ok());
            let _ = run.wait(HANG);
        }
        rows.push(Row {
            label: init.label,
            wakeups,
            threads,
            rss,
            p50: 0.0,
            p99: 0.0,
            burst_seen,
            reap_ms: None,
            child_pid,
            size: std::fs::metadata(&init.program).map_or(0, |m| m.len()),
        });
    }

    // Latency and reaping drift with this VM over minutes: every init is measured in turn,
    // round by round (latency) and repetition by repetition (reaping), so each meets the
    // same machine.
    for (row, lat) in rows
        .iter_mut()
        .zip(latency_interleaved(&inits, &probe, rounds))
    {
        row.p50 = percentile(&lat, 0.5);
        row.p99 = percentile(&lat, 0.99);
    }
    if root {
        let reps = if quick { 1 } else { 3 };
        let mut reaps: Vec<Vec<f64>> = vec![Vec::new(); inits.len()];
        for _ in 0..reps {
            for (init, r) in inits.iter().zip(&mut reaps) {
                r.push(reap_ms(init, &probe, orphans));
            }
        }
        for (row, mut r) in rows.iter_mut().zip(reaps) {
            r.sort_by(f64::total_cmp);
            row.reap_ms = Some(r[r.len() / 2]);
        }
    }

    // The floors under two columns: std's own memory, a handler's own cost.
    let mut floor = Running::spawn(Command::new(example_path("idle")), Output::Stdout);
    std::thread::sleep(Duration::from_millis(500));
    let std_floor = rss_kib(floor.pid());
    let _ = floor.child.kill();
    let _ = floor.child.wait();
    let (handler_ns, sigwait_ns) = handler_vs_sigwaitinfo_ns(if quick { 20_000 } else { 200_000 });

    let dash = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    let mut out = String::new();
    out.push_str(&format!(
        "| init | forwarding p50 (us) | p99 (us) | {burst} USR1 back to back: the child saw | \
         CPU to reap {orphans} orphans as PID 1 (ms) | RSS idle (KiB) | binary (bytes) | \
         wake-ups in {} s idle | threads; child's pid in a new namespace |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---|\n",
        idle.as_secs()
    ));
    for r in &rows {
        out.push_str(&format!(
            "| {} | {:.1} | {:.1} | {} | {} | {} | {} | {} | {}; {} |\n",
            r.label,
            r.p50,
            r.p99,
            r.burst_seen,
            dash(r.reap_ms.map(|m| format!("{m:.0}"))),
            r.rss,
            r.size,
            r.wakeups,
            r.threads,
            dash(r.child_pid.map(|p| p.to_string())),
        ));
    }
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_default();
    out.push_str(&format!(
        "\n{rounds} forwarding rounds each, one at a time, the sender, the init and its child on one CPU, \
         the inits visited in turn round by round; the burst and the reaping on every CPU, \
         reaping the median of {} runs per init taken in turn. {} on {} CPUs ({cpu}), kernel {}{}.\n",
        if quick { 1 } else { 3 },
        if quick { "quick run" } else { "full run" },
        cpus,
        std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .unwrap_or_default()
            .trim(),
        if root { "" } else { "; not root, so no PID-namespace columns" },
    ));
    out.push_str(&format!(
        "\nFloors, same run: a Rust program that only sleeps (`init/examples/idle`, dynamic glibc) \
         has {std_floor} KiB resident; a signal delivered to a handler costs {handler_ns:.0} ns \
         where `sigwaitinfo` takes it in {sigwait_ns:.0} ns ({:.0} ns more, per forward and per \
         SIGCHLD).\n",
        handler_ns - sigwait_ns
    ));
    print!("{out}");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/sigchan-init-bench");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("report.md"), &out).unwrap();
}
