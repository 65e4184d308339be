//! Signal latency in a real program's thread layout, and what each delivery costs.
//!
//! The sender is another process (this bench's main process); each mechanism runs in a
//! receiving process of its own (this binary re-run with `SIGCHAN_BENCH_VARIANT`, or the Go
//! receiver `benches/go/latency.go`) whose main thread idles without blocking the signal, as
//! a daemon's does (`receivers.rs`). Everything runs on CPU 0 (waking a thread on the other,
//! idle vCPU costs ~30 us here and drifts, hiding every difference between mechanisms); the
//! `busy-pool` layout adds two spinning workers on CPU 1.
//!
//! Per mechanism, `REPS` receiving processes, interleaved with the other mechanisms' (this
//! VM's timing drifts over seconds, and a mechanism measured in one stretch would carry the
//! drift of that stretch). Each: a warm-up, rounds 30 us apart (the latency from `kill` in
//! the sender to the receiving code), then a back-to-back phase (the next signal sent as soon
//! as the last came out) for round trips per second and, read from `/proc`
//! (`procstat.rs`), the receiving process's CPU time and context switches per signal, per
//! thread. Each thread's voluntary switches per signal in the latency rounds are its
//! wake-ups: the hops of one delivery. Last, a few rounds ask a probe handler the mechanism
//! chains to which thread ran it.
//!
//! Results go to `target/sigchan-bench/`: `latency-<layout>-<variant>.txt` (one nanosecond
//! figure per round) and `cost-<layout>-<variant>.txt`, read by `benches/report.py`.
//! `--quick` (CI) runs few rounds; filter arguments run only the variants containing one.

// The clock sigchan-init's probe and benchmark use: one definition in the workspace.
#[path = "../../init/examples/support/monotonic.rs"]
mod monotonic;
mod procstat;
mod receivers;
mod sender;
mod shared;

use procstat::ThreadCost;
use sender::{drive, Measured, Plan};
use shared::{Shared, READY};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const LAYOUTS: [&str; 2] = ["idle-main", "busy-pool"];
const GAP: Duration = Duration::from_micros(30);

/// Everything measured for one mechanism in one layout, over its processes.
#[derive(Default)]
struct Totals {
    samples: Vec<u64>,
    rep_p50: Vec<u64>,
    btb_rounds: usize,
    btb_secs: f64,
    threads: BTreeMap<String, ThreadCost>,
    hops: BTreeMap<String, ThreadCost>,
    rounds: usize,
    handler_on: BTreeMap<String, f64>,
}

fn main() {
    if let (Ok(v), Ok(l), Ok(p)) = (
        std::env::var("SIGCHAN_BENCH_VARIANT"),
        std::env::var("SIGCHAN_BENCH_LAYOUT"),
        std::env::var("SIGCHAN_BENCH_SHM"),
    ) {
        receivers::run(&v, &l, Shared::map(&p, false));
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    // `cargo bench` passes `--bench`; other arguments not starting with `-` are filters.
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let (reps, plan) = if quick {
        let plan = Plan {
            warmup: 50,
            rounds: 200,
            back_to_back: 500,
            probe: 50,
        };
        (1, plan)
    } else {
        let plan = Plan {
            warmup: 1000,
            rounds: 5000,
            back_to_back: 10000,
            probe: 200,
        };
        (3, plan)
    };
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/sigchan-bench");
    std::fs::create_dir_all(&out).unwrap();
    let go = build_go_receiver(&out);
    receivers::pin_to(0);
    let variants: Vec<&str> = receivers::VARIANTS
        .into_iter()
        .filter(|v| filters.is_empty() || filters.iter().any(|f| v.contains(f.as_str())))
        .filter(|v| *v != "go-os-signal" || go.is_some())
        .collect();
    for layout in LAYOUTS {
        let mut totals: BTreeMap<&str, Totals> = BTreeMap::new();
        for _ in 0..reps {
            for &variant in &variants {
                let receiver = match (variant, layout) {
                    ("go-os-signal", "idle-main") => Command::new(go.as_ref().unwrap()),
                    // Goroutines cannot be pinned: no busy-pool layout for Go.
                    ("go-os-signal", _) => continue,
                    _ => {
                        let mut c = Command::new(std::env::current_exe().unwrap());
                        c.env("SIGCHAN_BENCH_VARIANT", variant);
                        c
                    }
                };
                let m = measure(receiver, layout, variant, plan);
                add(totals.entry(variant).or_default(), m);
            }
        }
        for &variant in &variants {
            if let Some(t) = totals.get_mut(variant) {
                write(t, layout, variant, &out);
            }
        }
    }
}

/// Runs one receiving process in `layout` through `plan`.
fn measure(mut receiver: Command, layout: &str, variant: &str, plan: Plan) -> Measured {
    let shm = format!("/dev/shm/sigchan-bench-{}", std::process::id());
    let shared = Shared::map(&shm, true);
    let mut child = receiver
        .env("SIGCHAN_BENCH_LAYOUT", layout)
        .env("SIGCHAN_BENCH_SHM", &shm)
        .arg(&shm)
        .spawn()
        .unwrap();
    let start = Instant::now();
    while shared.get(READY) == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{variant} never got ready"
        );
        assert!(child.try_wait().unwrap().is_none(), "{variant} exited");
        std::thread::sleep(Duration::from_millis(1));
    }
    let m = drive(child.id() as i32, shared, plan, GAP);
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_file(&shm);
    m
}

fn add(t: &mut Totals, m: Measured) {
    let mut sorted = m.samples.clone();
    sorted.sort_unstable();
    t.rep_p50.push(sorted[sorted.len() / 2]);
    t.rounds += m.samples.len();
    t.samples.extend(m.samples);
    for (name, c) in m.hops {
        t.hops.entry(name).or_default().voluntary += c.voluntary;
    }
    t.btb_rounds += m.btb_rounds;
    t.btb_secs += m.btb_secs;
    for (name, c) in m.threads {
        let e = t.threads.entry(name).or_default();
        e.cpu_ns += c.cpu_ns;
        e.voluntary += c.voluntary;
        e.involuntary += c.involuntary;
    }
    // The probe runs in every process; its shares are averaged over them.
    for (name, share) in m.handler_on {
        *t.handler_on.entry(name).or_default() += share;
    }
}

/// Writes the samples and the cost summary of one mechanism, and prints a line.
fn write(t: &mut Totals, layout: &str, variant: &str, out: &Path) {
    let samples: String = t.samples.iter().map(|ns| format!("{ns}\n")).collect();
    std::fs::write(out.join(format!("latency-{layout}-{variant}.txt")), samples).unwrap();
    t.samples.sort_unstable();
    let all = &t.samples;
    let n = t.btb_rounds as f64;
    let procs = t.rep_p50.len() as f64;
    // The busy workers are the load, not the mechanism: left out of the sums.
    let measured = || {
        t.threads
            .iter()
            .filter(|(name, _)| !name.starts_with("worker-"))
            .map(|(_, c)| c)
    };
    let cpu: u64 = measured().map(|c| c.cpu_ns).sum();
    // Wake-ups: voluntary switches in the latency rounds, where every thread is asleep
    // when a round starts (back to back, a spinning receiver may never sleep).
    let wakes: u64 = t
        .hops
        .iter()
        .filter(|(name, _)| !name.starts_with("worker-"))
        .map(|(_, c)| c.voluntary)
        .sum();
    let rounds = t.rounds as f64;
    let switches: u64 = measured().map(|c| c.voluntary + c.involuntary).sum();
    let mut cost = String::new();
    let reps: Vec<String> = t.rep_p50.iter().map(u64::to_string).collect();
    writeln!(cost, "rep_p50_ns {}", reps.join(" ")).unwrap();
    writeln!(cost, "back_to_back_per_s {:.0}", n / t.btb_secs).unwrap();
    writeln!(cost, "cpu_ns_per_signal {:.0}", cpu as f64 / n).unwrap();
    writeln!(cost, "wakes_per_signal {:.2}", wakes as f64 / rounds).unwrap();
    writeln!(cost, "switches_per_signal {:.2}", switches as f64 / n).unwrap();
    for (name, c) in &t.threads {
        let w = t.hops.get(name).map_or(0, |h| h.voluntary) as f64 / rounds;
        let name = name.replace(' ', "_");
        writeln!(cost, "thread {name} {w:.2} {:.0}", c.cpu_ns as f64 / n).unwrap();
    }
    for (name, share) in &t.handler_on {
        let name = name.replace(' ', "_");
        writeln!(cost, "handler_on {name} {:.2}", share / procs).unwrap();
    }
    std::fs::write(out.join(format!("cost-{layout}-{variant}.txt")), &cost).unwrap();
    println!(
        "{layout:9} {variant:22} p50 {:6.2} us  p99 {:6.2} us  {:7.0} rt/s  {:5.2} us CPU  {:4.2} wake-ups /signal",
        all[all.len() / 2] as f64 / 1000.0,
        all[all.len() * 99 / 100] as f64 / 1000.0,
        n / t.btb_secs,
        cpu as f64 / n / 1000.0,
        wakes as f64 / rounds
    );
}

/// Builds the Go receiver when `go` is installed (Debian: golang-go); `None` otherwise.
fn build_go_receiver(out: &Path) -> Option<PathBuf> {
    let bin = out.join("go-latency");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("go");
    let built = Command::new("go")
        .args(["build", "-o"])
        .arg(&bin)
        .arg("latency.go")
        .current_dir(&src)
        .env("GO111MODULE", "off")
        .env("GOFLAGS", "")
        .status();
    match built {
        Ok(s) if s.success() => Some(bin),
        _ => {
            eprintln!("go is not installed (apt-get install golang-go): skipping Go's os/signal");
            None
        }
    }
}
