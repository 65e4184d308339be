//! Throughput and call costs:
//! - `delivered/N-channels`: signals per second delivered with 1, 4 and 16 channels subscribed
//!   to SIGUSR1 (each round: one kill, then every channel receives it);
//! - `storm-2-senders`: two threads sending USR1 as fast as they can for 2 s, reporting what
//!   the receiver saw and how much the kernel and sigchan coalesced;
//! - `notify+stop`, `ignore+reset`: the cost of the calls.
//!
//! Each group runs in a process of its own (signal state is process-wide), like latency/main.rs,
//! with every thread pinned to CPU 0 (unpinned, each wake-up of a thread on the other vCPU
//! costs ~30 us here and hides what sigchan itself costs), except the storm, which needs
//! both cores for its two senders.

use criterion::{Criterion, Throughput};
use crossbeam_channel::bounded;
use sigchan::{Signal, SIGUSR1, SIGUSR2, SIGWINCH};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

const GROUPS: [&str; 3] = ["delivered", "storm", "calls"];

fn kill_self(sig: Signal) {
    // SAFETY: kill with our own pid and a valid signal.
    unsafe { libc::kill(libc::getpid(), sig.as_raw()) };
}

fn delivered(c: &mut Criterion) {
    let mut g = c.benchmark_group("delivered");
    g.throughput(Throughput::Elements(1));
    for n in [1usize, 4, 16] {
        let chans: Vec<_> = (0..n).map(|_| bounded::<Signal>(1)).collect();
        for (tx, _) in &chans {
            sigchan::notify(tx, &[SIGUSR1]).unwrap();
        }
        g.bench_function(format!("{n}-channels"), |b| {
            b.iter(|| {
                kill_self(SIGUSR1);
                for (_, rx) in &chans {
                    rx.recv_timeout(Duration::from_secs(5))
                        .expect("signal lost");
                }
            })
        });
        for (tx, _) in &chans {
            sigchan::stop(tx);
        }
    }
    g.finish();
}

/// Not a criterion measurement: a fixed 2 s storm, reported as counts per second.
fn storm() {
    let (tx, rx) = bounded::<Signal>(1024);
    sigchan::notify(&tx, &[SIGUSR1]).unwrap();
    let run = Arc::new(AtomicBool::new(true));
    let sent = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let senders: Vec<_> = (0..2)
        .map(|_| {
            let (run, sent) = (run.clone(), sent.clone());
            std::thread::spawn(move || {
                while run.load(Relaxed) {
                    kill_self(SIGUSR1);
                    sent.fetch_add(1, Relaxed);
                }
            })
        })
        .collect();
    let start = Instant::now();
    let mut received = 0u64;
    while start.elapsed() < Duration::from_secs(2) {
        if rx.recv_timeout(Duration::from_millis(100)).is_ok() {
            received += 1;
        }
    }
    run.store(false, Relaxed);
    senders.into_iter().for_each(|s| s.join().unwrap());
    let secs = start.elapsed().as_secs_f64();
    let s = sigchan::stats(SIGUSR1);
    let sent = sent.load(Relaxed);
    println!(
        "storm-2-senders: sent {:.0}/s, handler ran {:.0}/s, received {:.0}/s; coalesced by the kernel {:.0}/s, by sigchan {:.0}/s",
        sent as f64 / secs,
        s.arrivals as f64 / secs,
        received as f64 / secs,
        sent.saturating_sub(s.arrivals) as f64 / secs,
        s.coalesced as f64 / secs
    );
}

fn calls(c: &mut Criterion) {
    let (keep, _k) = bounded::<Signal>(1);
    sigchan::notify(&keep, &[SIGWINCH]).unwrap(); // the signal thread exists already
    let mut g = c.benchmark_group("calls");
    g.bench_function("notify+stop", |b| {
        b.iter(|| {
            let (tx, _rx) = bounded::<Signal>(1);
            sigchan::notify(&tx, &[SIGUSR2]).unwrap();
            sigchan::stop(&tx);
        })
    });
    g.bench_function("ignore+reset", |b| {
        b.iter(|| {
            sigchan::ignore(&[SIGUSR2]).unwrap();
            sigchan::reset(&[SIGUSR2]).unwrap();
        })
    });
    g.finish();
}

fn main() {
    if let Ok(group) = std::env::var("SIGCHAN_BENCH_GROUP") {
        // The storm needs both cores (two senders); the measurements are pinned.
        // SAFETY: a cpu_set_t with CPU 0, for this thread (inherited by threads it spawns).
        if group != "storm" {
            unsafe {
                let mut set: libc::cpu_set_t = std::mem::zeroed();
                libc::CPU_SET(0, &mut set);
                libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
            }
        }
        let mut c = Criterion::default()
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3))
            .configure_from_args();
        match group.as_str() {
            "delivered" => delivered(&mut c),
            "storm" => storm(),
            "calls" => calls(&mut c),
            other => panic!("unknown group {other}"),
        }
        c.final_summary();
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let args: Vec<String> = std::env::args().skip(1).collect();
    for group in GROUPS {
        let status = Command::new(&exe)
            .args(&args)
            .env("SIGCHAN_BENCH_GROUP", group)
            .status()
            .unwrap();
        assert!(status.success(), "{group} failed: {status}");
    }
}
