//! Round-trip latency: `kill(getpid(), SIGUSR1)` on this thread until the signal comes out of
//! the channel, for sigchan and for the floor a `sigwaitinfo` thread gives.
//!
//! Each variant runs in a process of its own (signal state is process-wide), selected by the
//! `SIGCHAN_BENCH_VARIANT` variable: the parent re-runs this binary once per variant.
//! `cargo bench --bench latency` runs them all.

use criterion::{criterion_group, Criterion};
use crossbeam_channel::bounded;
use sigchan::{Signal, SIGUSR1};
use std::process::Command;
use std::time::Duration;

const VARIANTS: [&str; 3] = ["sigchan-default", "sigchan-init", "sigwaitinfo-floor"];

fn kill_self() {
    // SAFETY: kill with our own pid and a valid signal.
    unsafe { libc::kill(libc::getpid(), libc::SIGUSR1) };
}

fn usr1_set() -> libc::sigset_t {
    // SAFETY: plain sigset construction.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGUSR1);
        set
    }
}

fn bench_sigchan(c: &mut Criterion, name: &str) {
    let (tx, rx) = bounded::<Signal>(1);
    sigchan::notify(&tx, &[SIGUSR1]).unwrap();
    c.bench_function(name, |b| {
        b.iter(|| {
            kill_self();
            rx.recv_timeout(Duration::from_secs(5))
                .expect("signal lost")
        })
    });
    sigchan::stop(&tx);
}

fn bench_sigwaitinfo(c: &mut Criterion) {
    let set = usr1_set();
    // SAFETY: blocks USR1 in this thread; the waiter thread inherits the block.
    unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    let (tx, rx) = bounded::<i32>(1);
    std::thread::spawn(move || loop {
        // SAFETY: set is a valid sigset; info may be null.
        let sig = unsafe { libc::sigwaitinfo(&set, std::ptr::null_mut()) };
        if tx.send(sig).is_err() {
            return;
        }
    });
    c.bench_function("sigwaitinfo-floor", |b| {
        b.iter(|| {
            kill_self();
            rx.recv_timeout(Duration::from_secs(5))
                .expect("signal lost")
        })
    });
}

fn run_variant(c: &mut Criterion, variant: &str) {
    match variant {
        "sigchan-default" => bench_sigchan(c, variant),
        "sigchan-init" => {
            sigchan::init().unwrap();
            bench_sigchan(c, variant)
        }
        "sigwaitinfo-floor" => bench_sigwaitinfo(c),
        other => panic!("unknown variant {other}"),
    }
}

fn latency(c: &mut Criterion) {
    if let Ok(variant) = std::env::var("SIGCHAN_BENCH_VARIANT") {
        run_variant(c, &variant);
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3));
    targets = latency
}

fn main() {
    if std::env::var_os("SIGCHAN_BENCH_VARIANT").is_some() {
        benches();
        Criterion::default().configure_from_args().final_summary();
        return;
    }
    // Parent: one child process per variant, same arguments (so --bench, filters and
    // --quick pass through).
    let exe = std::env::current_exe().unwrap();
    for variant in VARIANTS {
        let status = Command::new(&exe)
            .args(std::env::args_os().skip(1))
            .env("SIGCHAN_BENCH_VARIANT", variant)
            .status()
            .unwrap();
        assert!(status.success(), "{variant} failed: {status}");
    }
}
