//! sigchan-init against Debian's tini and dumb-init, in one run, on this machine:
//! - idle wake-ups: context switches of every thread of the init over 10 s while its child
//!   sleeps (tini wakes every second to reap);
//! - memory: the init's resident set (VmRSS) with its child running;
//! - forwarding latency: `kill(init, SIGUSR1)` until the child's handler runs (the child
//!   stamps CLOCK_MONOTONIC in its handler), 2,000 rounds one after the other.
//!
//! `cargo bench -p sigchan-init --bench versus` writes the table to stdout and to
//! `target/sigchan-init-bench/report.md`; `SIGCHAN_INIT_BENCH_QUICK=1` runs a short version
//! (CI: it must keep working, no figure is checked). Inits that are not installed are
//! skipped.

#[path = "../../tests/common/mod.rs"]
mod common;
use common::example::{example_path, Output, Running};
#[path = "../examples/support/monotonic.rs"]
mod monotonic;
use monotonic::monotonic_ns;
use std::process::Command;
use std::time::Duration;

const HANG: Duration = Duration::from_secs(120);

/// Sum of voluntary and involuntary context switches over every thread of `pid`.
fn context_switches(pid: i32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("status")).ok())
        .flat_map(|s| {
            s.lines()
                .filter(|l| l.contains("ctxt_switches"))
                .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
                .collect::<Vec<_>>()
        })
        .sum()
}

fn rss_kib(pid: i32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

struct Init {
    label: &'static str,
    program: String,
    args: Vec<&'static str>,
}

fn start(init: &Init, child: &[&str]) -> Running {
    let mut cmd = Command::new(&init.program);
    cmd.args(&init.args).arg("--").args(child);
    Running::spawn(cmd, Output::Stdout)
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize] as f64 / 1000.0
}

fn main() {
    let quick = std::env::var_os("SIGCHAN_INIT_BENCH_QUICK").is_some();
    let (idle, rounds) = if quick {
        (Duration::from_secs(2), 200)
    } else {
        (Duration::from_secs(10), 2000)
    };
    let ours = env!("CARGO_BIN_EXE_sigchan-init").to_owned();
    // The static musl build, if it was built (`cargo build --release -p sigchan-init
    // --target x86_64-unknown-linux-musl`).
    let ours_static = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../target/x86_64-unknown-linux-musl/release/sigchan-init"
    );
    let init = |label, program: &str, args| Init {
        label,
        program: program.to_owned(),
        args,
    };
    let inits: Vec<Init> = [
        init("sigchan-init (glibc)", &ours, vec!["-s"]),
        init("sigchan-init (static, musl)", ours_static, vec!["-s"]),
        init("tini 0.19 (Debian)", "/usr/bin/tini", vec!["-s"]),
        init(
            "tini-static 0.19 (Debian)",
            "/usr/bin/tini-static",
            vec!["-s"],
        ),
        init("dumb-init 1.2.5 (Debian)", "/usr/bin/dumb-init", vec![]),
    ]
    .into_iter()
    .filter(|i| std::path::Path::new(&i.program).exists())
    .collect();
    let probe = example_path("probe").to_string_lossy().into_owned();

    let mut rows = Vec::new();
    for init in &inits {
        // Idle: the child sleeps; count the init's wake-ups.
        let mut run = start(init, &["sleep", "1000"]);
        std::thread::sleep(Duration::from_millis(500));
        let pid = run.pid();
        let before = context_switches(pid);
        std::thread::sleep(idle);
        let wakeups = context_switches(pid) - before;
        let rss = rss_kib(pid);
        // SAFETY: kill our own child.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        let _ = run.wait(HANG);
        let _ = Command::new("pkill")
            .args(["-KILL", "-f", "^sleep 1000$"])
            .status();

        // Latency: kill(init) -> the child's handler.
        let mut run = start(init, &[&probe, "--stamp", "--exit-on", "SIGTERM"]);
        run.expect_line("ready", HANG);
        let mut lat: Vec<u64> = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            let t0 = monotonic_ns();
            // SAFETY: kill our own child.
            unsafe { libc::kill(run.pid(), libc::SIGUSR1) };
            let line = run.expect_line("got SIGUSR1 from", HANG);
            let at: u64 = line.rsplit(' ').next().unwrap().parse().unwrap();
            lat.push(at.saturating_sub(t0));
        }
        // SAFETY: kill our own child.
        unsafe { libc::kill(run.pid(), libc::SIGTERM) };
        let _ = run.wait(HANG);
        lat.sort_unstable();
        rows.push((
            init.label,
            wakeups,
            rss,
            percentile(&lat, 0.5),
            percentile(&lat, 0.99),
        ));
    }

    let mut out = String::new();
    out.push_str(&format!(
        "| init | wake-ups in {} s idle | RSS (KiB) | forwarding p50 (us) | p99 (us) |\n|---|---:|---:|---:|---:|\n",
        idle.as_secs()
    ));
    for (label, wakeups, rss, p50, p99) in &rows {
        out.push_str(&format!(
            "| {label} | {wakeups} | {rss} | {p50:.1} | {p99:.1} |\n"
        ));
    }
    out.push_str(&format!(
        "\n{rounds} forwarding rounds each, one after the other; {} on {} CPUs, kernel {}.\n",
        if quick { "quick run" } else { "full run" },
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .unwrap_or_default()
            .trim()
    ));
    print!("{out}");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/sigchan-init-bench");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("report.md"), &out).unwrap();
}
