//! How cost grows: each case runs in a process of its own (this binary re-run with
//! `SIGCHAN_SCALING_CASE`), beside the peers that have the same operation, and prints one
//! line per point: `<series> <x> <y>`. The parent collects them into
//! `target/sigchan-bench/scaling.txt` for `benches/report.py`, which plots each.
//!
//! - `fanout`: one signal to N subscribers (1 to 1,000), sent to the receiving thread
//!   itself; y = ns per delivery (the time until every subscriber has it, over N).
//!   sigchan's plain and info channels, tokio::signal's N listeners, signal-hook's N
//!   iterators. Plus the resident memory each subscriber adds (at N = 1,000).
//! - `rt-rate`: real-time `sigqueue` from another thread with a window of W values in
//!   flight (1 to 48), each value checked in order and none lost; y = values per second.
//!   sigchan's info channel and fd receiver (init mode, so the kernel keeps the order),
//!   against a thread in `sigwaitinfo` (the floor).
//! - `reap`: K children (500 to 10,000) that exit at once, all reaped; y = children per
//!   second from the first fork to the last reaped. `reap::Reaper::all`, against a thread
//!   in `waitpid` (the floor), signal-hook's iterator + `waitpid(WNOHANG)` and tokio's
//!   SIGCHLD stream + `waitpid(WNOHANG)`.
//!
//! `--quick` (CI) runs the smallest points only.

use std::io::Write as _;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

const FANOUT: [usize; 4] = [1, 10, 100, 1000];
const WINDOWS: [usize; 4] = [1, 4, 16, 48];
const CHILDREN: [usize; 3] = [500, 2000, 10000];

fn main() {
    if let Ok(case) = std::env::var("SIGCHAN_SCALING_CASE") {
        let args: Vec<String> = case.split_whitespace().map(String::from).collect();
        run_case(&args);
        return;
    }
    let quick = std::env::args().any(|a| a == "--quick");
    let pick = |xs: &[usize]| -> Vec<usize> {
        if quick {
            xs[..2].to_vec()
        } else {
            xs.to_vec()
        }
    };
    let mut cases = Vec::new();
    for n in pick(&FANOUT) {
        for mech in [
            "sigchan-plain",
            "sigchan-info",
            "tokio-signal",
            "signal-hook-iterator",
        ] {
            cases.push(format!("fanout {mech} {n}"));
        }
    }
    // What the channels sigchan delivers into take by themselves (the user's, not sigchan's).
    cases.push(format!("fanout crossbeam-bounded-1-alone {}", FANOUT[3]));
    for w in pick(&WINDOWS) {
        for mech in [
            "sigwaitinfo-floor",
            "sigchan-info-init",
            "sigchan-fd-info-init",
        ] {
            cases.push(format!("rt-rate {mech} {w}"));
        }
    }
    for k in pick(&CHILDREN) {
        for mech in [
            "waitpid-floor",
            "sigchan-reaper",
            "signal-hook-waitpid",
            "tokio-waitpid",
        ] {
            cases.push(format!("reap {mech} {k}"));
        }
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/sigchan-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let mut out = std::fs::File::create(dir.join("scaling.txt")).unwrap();
    // Each case in REPS processes of its own; each point is their median.
    let reps = if quick { 1 } else { REPS };
    for case in cases {
        let mut runs: Vec<Vec<(String, f64)>> = Vec::new();
        for _ in 0..reps {
            let o = Command::new(std::env::current_exe().unwrap())
                .env("SIGCHAN_SCALING_CASE", &case)
                .output()
                .unwrap();
            assert!(
                o.status.success(),
                "{case}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            runs.push(
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .map(|l| {
                        let (key, y) = l.rsplit_once(' ').unwrap();
                        (key.to_string(), y.parse().unwrap())
                    })
                    .collect(),
            );
        }
        for (i, (key, _)) in runs[0].iter().enumerate() {
            let mut ys: Vec<f64> = runs.iter().map(|r| r[i].1).collect();
            ys.sort_by(|a, b| a.partial_cmp(b).unwrap());
            let line = format!("{key} {:.1}\n", ys[ys.len() / 2]);
            print!("{line}");
            out.write_all(line.as_bytes()).unwrap();
        }
    }
}

/// Processes per case (the median is reported).
const REPS: usize = 5;

fn run_case(args: &[String]) {
    // signal-hook's iterator takes two descriptors per subscription: 2,000 at N = 1,000.
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: get and set this process's descriptor limit through a valid struct.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
        lim.rlim_cur = lim.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
    }
    let n: usize = args[2].parse().unwrap();
    match args[0].as_str() {
        "fanout" => fanout(&args[1], n),
        "rt-rate" => rt_rate(&args[1], n),
        "reap" => reap(&args[1], n),
        other => panic!("unknown case {other}"),
    }
}

/// Resident memory of this process, in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Sends SIGUSR1 to the calling thread: the receiving thread runs the handler itself.
fn raise_usr1() {
    // SAFETY: plain syscall wrappers.
    unsafe {
        libc::syscall(
            libc::SYS_tgkill,
            libc::getpid(),
            libc::gettid(),
            libc::SIGUSR1,
        )
    };
}

/// `rounds` times: a SIGUSR1 to this thread, then `take_all` until every subscriber has it.
fn time_rounds(rounds: usize, mut take_all: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..rounds {
        raise_usr1();
        take_all();
    }
    start.elapsed()
}

/// Rounds for N subscribers: about 20,000 deliveries, at least 20 rounds.
fn rounds(n: usize) -> usize {
    (20_000 / n).clamp(20, 2_000)
}

fn fanout(mech: &str, n: usize) {
    let rounds = rounds(n);
    let before = rss_kib();
    if mech == "crossbeam-bounded-1-alone" {
        let chans: Vec<_> = (0..n)
            .map(|_| crossbeam_channel::bounded::<sigchan::Signal>(1))
            .collect();
        let bytes = (rss_kib().saturating_sub(before) * 1024) as f64 / n as f64;
        println!("memory-bytes {mech} {n} {bytes:.0}");
        drop(chans);
        return;
    }
    // Each arm subscribes n, then times `rounds` signals until all n have each.
    let (elapsed, after) = match mech {
        "sigchan-plain" | "sigchan-info" => {
            let info = mech == "sigchan-info";
            let plain: Vec<_> = (0..if info { 0 } else { n })
                .map(|_| {
                    let (tx, rx) = crossbeam_channel::bounded::<sigchan::Signal>(1);
                    sigchan::notify(&tx, &[sigchan::SIGUSR1]).unwrap();
                    (tx, rx)
                })
                .collect();
            let infos: Vec<_> = (0..if info { n } else { 0 })
                .map(|_| {
                    let (tx, rx) = crossbeam_channel::bounded::<sigchan::SigInfo>(1);
                    sigchan::notify_info(&tx, &[sigchan::SIGUSR1]).unwrap();
                    (tx, rx)
                })
                .collect();
            let after = rss_kib();
            let elapsed = time_rounds(rounds, || {
                for (_, rx) in &plain {
                    rx.recv().unwrap();
                }
                for (_, rx) in &infos {
                    rx.recv().unwrap();
                }
            });
            (elapsed, after)
        }
        "tokio-signal" => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                use tokio::signal::unix::{signal, SignalKind};
                let mut streams: Vec<_> = (0..n)
                    .map(|_| signal(SignalKind::user_defined1()).unwrap())
                    .collect();
                let after = rss_kib();
                let start = Instant::now();
                for _ in 0..rounds {
                    raise_usr1();
                    for s in &mut streams {
                        s.recv().await.unwrap();
                    }
                }
                (start.elapsed(), after)
            })
        }
        "signal-hook-iterator" => {
            let mut all: Vec<_> = (0..n)
                .map(|_| signal_hook::iterator::Signals::new([libc::SIGUSR1]).unwrap())
                .collect();
            let after = rss_kib();
            let elapsed = time_rounds(rounds, || {
                for s in &mut all {
                    while s.wait().next().is_none() {}
                }
            });
            (elapsed, after)
        }
        other => panic!("unknown mechanism {other}"),
    };
    let per = elapsed.as_nanos() as f64 / (rounds * n) as f64;
    println!("fanout-ns {mech} {n} {per:.1}");
    if n == *FANOUT.last().unwrap() {
        let bytes = (after.saturating_sub(before) * 1024) as f64 / n as f64;
        println!("memory-bytes {mech} {n} {bytes:.0}");
    }
}

/// Real-time signal number for the rate case.
fn rt_signal() -> i32 {
    libc::SIGRTMIN() + 1
}

fn rt_rate(mech: &str, window: usize) {
    let total: u64 = 100_000;
    let sig = rt_signal();
    let received = Arc::new(AtomicU64::new(0));
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: a valid sigset; blocks the signal in this (only) thread, and every thread
    // started later inherits it (the floor needs it blocked everywhere).
    unsafe {
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, sig);
    }
    let consumer: std::thread::JoinHandle<()> = match mech {
        "sigwaitinfo-floor" => {
            // SAFETY: as above.
            unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
            let r = received.clone();
            std::thread::spawn(move || {
                for want in 0..total {
                    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
                    // SAFETY: valid set and siginfo buffer.
                    let got = unsafe { libc::sigwaitinfo(&set, &mut info) };
                    assert_eq!(got, sig);
                    // SAFETY: a sigqueue arrival carries si_value.
                    let v = unsafe { info.si_value().sival_ptr } as u64;
                    assert_eq!(v, want, "out of order or lost");
                    r.fetch_add(1, SeqCst);
                }
            })
        }
        "sigchan-info-init" => {
            sigchan::init().unwrap();
            let (tx, rx) = crossbeam_channel::bounded::<sigchan::SigInfo>(1024);
            let s = sigchan::Signal::new(sig).unwrap();
            sigchan::notify_info(&tx, &[s]).unwrap();
            let r = received.clone();
            std::thread::spawn(move || {
                let _keep = tx;
                for want in 0..total {
                    let info = rx.recv().unwrap();
                    assert_eq!(info.value(), Some(want as usize), "out of order or lost");
                    r.fetch_add(1, SeqCst);
                }
            })
        }
        "sigchan-fd-info-init" => {
            sigchan::init().unwrap();
            let s = sigchan::Signal::new(sig).unwrap();
            let mut fd = sigchan::fd::InfoFd::new(&[s]).unwrap();
            let r = received.clone();
            std::thread::spawn(move || {
                for want in 0..total {
                    let info = fd.recv().unwrap();
                    assert_eq!(info.value(), Some(want as usize), "out of order or lost");
                    r.fetch_add(1, SeqCst);
                }
            })
        }
        other => panic!("unknown mechanism {other}"),
    };
    let start = Instant::now();
    // SAFETY: getpid cannot fail.
    let me = unsafe { libc::getpid() };
    for v in 0..total {
        while v - received.load(SeqCst) >= window as u64 {
            std::hint::spin_loop();
        }
        // SAFETY: sigqueue to this process; the value rides in the pointer member.
        let rc = unsafe {
            libc::sigqueue(
                me,
                sig,
                libc::sigval {
                    sival_ptr: v as usize as *mut libc::c_void,
                },
            )
        };
        assert_eq!(rc, 0, "sigqueue: {}", std::io::Error::last_os_error());
    }
    consumer.join().unwrap();
    let rate = total as f64 / start.elapsed().as_secs_f64();
    println!("rt-per-s {mech} {window} {rate:.0}");
}

/// Forks `k` children that exit at once; returns their pids' count as forked.
fn fork_children(k: usize) {
    for _ in 0..k {
        // SAFETY: the child only calls _exit, which is async-signal-safe.
        match unsafe { libc::fork() } {
            0 => unsafe { libc::_exit(0) },
            -1 => panic!("fork: {}", std::io::Error::last_os_error()),
            _ => {}
        }
    }
}

/// Reaps every ended child without waiting; returns how many.
fn reap_nohang() -> usize {
    let mut n = 0;
    // SAFETY: waitpid with a null status.
    while unsafe { libc::waitpid(-1, std::ptr::null_mut(), libc::WNOHANG) } > 0 {
        n += 1;
    }
    n
}

fn reap(mech: &str, k: usize) {
    let start = Instant::now();
    match mech {
        "waitpid-floor" => {
            let t = std::thread::spawn(move || {
                for _ in 0..k {
                    // SAFETY: waitpid with a null status; blocks until a child ends.
                    while unsafe { libc::waitpid(-1, std::ptr::null_mut(), 0) } <= 0 {}
                }
            });
            fork_children(k);
            t.join().unwrap();
        }
        "sigchan-reaper" => {
            let reaper = sigchan::reap::Reaper::all().unwrap();
            fork_children(k);
            for _ in 0..k {
                reaper.recv_timeout(Duration::from_secs(60)).unwrap();
            }
        }
        "signal-hook-waitpid" => {
            let mut signals = signal_hook::iterator::Signals::new([libc::SIGCHLD]).unwrap();
            let t = std::thread::spawn(move || {
                let mut done = 0;
                while done < k {
                    for _ in signals.wait() {}
                    done += reap_nohang();
                }
            });
            fork_children(k);
            t.join().unwrap();
        }
        "tokio-waitpid" => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let mut chld = rt.block_on(async {
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::child()).unwrap()
            });
            let t = std::thread::spawn(move || {
                rt.block_on(async {
                    let mut done = 0;
                    while done < k {
                        chld.recv().await;
                        done += reap_nohang();
                    }
                })
            });
            fork_children(k);
            t.join().unwrap();
        }
        other => panic!("unknown mechanism {other}"),
    }
    let rate = k as f64 / start.elapsed().as_secs_f64();
    println!("reaped-per-s {mech} {k} {rate:.0}");
}
