//! Round-trip latency: `kill(getpid(), SIGUSR1)` in the sending thread until the signal comes
//! out of the receiving end in another thread, for sigchan and what a user would pick instead:
//!
//! - `sigwaitinfo-floor`: a thread in `sigwaitinfo`, USR1 blocked in every thread (the floor);
//! - `sigchan-init`, `sigchan-default`: `notify` + `rx.recv()` with and without `init()`;
//! - `sigchan-info-init`, `sigchan-info-default`: the same with `notify_info` (each arrival's
//!   origin through the ring, a `SigInfo` out of the channel): what origins cost;
//! - `signalfd`: a thread reading a signalfd;
//! - `signal-hook-bridge`: signal-hook's `Signals` iterator on its own thread forwarding into a
//!   crossbeam channel (the successor of chan-signal), `signal-hook-iterator`: the bare iterator;
//! - `tokio-signal`: `tokio::signal::unix` on a current-thread runtime;
//! - `self-pipe`: a hand-written handler writing to a pipe, a thread reading it.
//!
//! Signal state is process-wide, so each variant runs in a process of its own: the parent
//! re-runs this binary per variant and placement (`SIGCHAN_BENCH_VARIANT`,
//! `SIGCHAN_BENCH_PLACEMENT`). `pinned` puts every thread on CPU 0 (the comparison: waking a
//! thread on the other, idle vCPU costs ~30 us here and drifts); `unpinned` is for information.
//! Before each round the sender yields for ~30 us so the receiver is asleep when it starts.
//! Every round's time is also written, one nanosecond figure per line, to
//! `target/sigchan-bench/latency-<placement>-<variant>.txt` for `benches/report.sh`.

use criterion::Criterion;
use crossbeam_channel::{bounded, unbounded};
use sigchan::{Signal, SIGUSR1};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

const VARIANTS: [&str; 10] = [
    "sigwaitinfo-floor",
    "sigchan-init",
    "sigchan-default",
    "sigchan-info-init",
    "sigchan-info-default",
    "signalfd",
    "signal-hook-bridge",
    "signal-hook-iterator",
    "tokio-signal",
    "self-pipe",
];
const PLACEMENTS: [&str; 2] = ["pinned", "unpinned"];
const GAP: Duration = Duration::from_micros(30);
const MAX_SAMPLES: usize = 200_000;

fn now_ns() -> u64 {
    static BASE: OnceLock<Instant> = OnceLock::new();
    BASE.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// Set by the receiving thread when a signal comes out: the time, and a count.
static ARRIVED_AT: AtomicU64 = AtomicU64::new(0);
static ARRIVALS: AtomicU64 = AtomicU64::new(0);
static SAMPLES: Mutex<Vec<u64>> = Mutex::new(Vec::new());

fn arrived() {
    ARRIVED_AT.store(now_ns(), SeqCst);
    ARRIVALS.fetch_add(1, SeqCst);
}

/// One round: wait out the gap, send, wait (yielding) for the receiver; returns the latency.
fn round() -> Duration {
    let gap_end = Instant::now() + GAP;
    while Instant::now() < gap_end {
        std::thread::yield_now();
    }
    let before = ARRIVALS.load(SeqCst);
    let t0 = now_ns();
    // SAFETY: kill with our own pid and a valid signal.
    unsafe { libc::kill(libc::getpid(), libc::SIGUSR1) };
    let deadline = Instant::now() + Duration::from_secs(5);
    while ARRIVALS.load(SeqCst) == before {
        assert!(Instant::now() < deadline, "signal lost");
        std::thread::yield_now();
    }
    let ns = ARRIVED_AT.load(SeqCst).saturating_sub(t0);
    let mut s = SAMPLES.lock().unwrap();
    if s.len() < MAX_SAMPLES {
        s.push(ns);
    }
    Duration::from_nanos(ns)
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

/// Blocks USR1 in this thread; threads spawned afterwards inherit the block.
fn block_usr1() {
    let set = usr1_set();
    // SAFETY: valid sigset, this thread's mask.
    unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
}

fn pin_to_cpu0() {
    // SAFETY: a cpu_set_t with CPU 0, for this thread (inherited by threads it spawns).
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(0, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

fn spawn(f: impl FnOnce() + Send + 'static) {
    std::thread::spawn(f);
}

/// Sets the variant up: afterwards every USR1 sent to this process makes a receiving thread
/// call `arrived`.
fn setup(variant: &str) {
    match variant {
        "sigwaitinfo-floor" => {
            block_usr1();
            spawn(|| loop {
                let set = usr1_set();
                // SAFETY: valid sigset; info may be null.
                if unsafe { libc::sigwaitinfo(&set, std::ptr::null_mut()) } == libc::SIGUSR1 {
                    arrived();
                }
            });
        }
        "sigchan-init" | "sigchan-default" => {
            if variant == "sigchan-init" {
                sigchan::init().unwrap();
            }
            let (tx, rx) = bounded::<Signal>(1);
            sigchan::notify(&tx, &[SIGUSR1]).unwrap();
            std::mem::forget(tx);
            spawn(move || {
                for _ in rx.iter() {
                    arrived();
                }
            });
        }
        "sigchan-info-init" | "sigchan-info-default" => {
            if variant == "sigchan-info-init" {
                sigchan::init().unwrap();
            }
            let (tx, rx) = bounded::<sigchan::SigInfo>(1);
            sigchan::notify_info(&tx, &[SIGUSR1]).unwrap();
            std::mem::forget(tx);
            spawn(move || {
                for info in rx.iter() {
                    assert_eq!(info.cause(), sigchan::Cause::Kill);
                    arrived();
                }
            });
        }
        "signalfd" => {
            block_usr1();
            let set = usr1_set();
            // SAFETY: a new signalfd for USR1.
            let fd = unsafe { libc::signalfd(-1, &set, 0) };
            assert!(fd >= 0);
            spawn(move || {
                let mut info = [0u8; 128];
                // SAFETY: reading one signalfd_siginfo (128 bytes) into a 128-byte buffer.
                while unsafe { libc::read(fd, info.as_mut_ptr().cast(), 128) } == 128 {
                    arrived();
                }
            });
        }
        "signal-hook-bridge" => {
            let mut signals = signal_hook::iterator::Signals::new([libc::SIGUSR1]).unwrap();
            let (tx, rx) = unbounded::<i32>();
            spawn(move || {
                for sig in signals.forever() {
                    let _ = tx.send(sig);
                }
            });
            spawn(move || {
                for _ in rx.iter() {
                    arrived();
                }
            });
        }
        "signal-hook-iterator" => {
            let mut signals = signal_hook::iterator::Signals::new([libc::SIGUSR1]).unwrap();
            spawn(move || {
                for _ in signals.forever() {
                    arrived();
                }
            });
        }
        "tokio-signal" => {
            let (ready_tx, ready_rx) = bounded::<()>(1);
            spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async move {
                    use tokio::signal::unix::{signal, SignalKind};
                    let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
                    ready_tx.send(()).unwrap();
                    while usr1.recv().await.is_some() {
                        arrived();
                    }
                });
            });
            ready_rx.recv().unwrap();
        }
        "self-pipe" => self_pipe(),
        other => panic!("unknown variant {other}"),
    }
}

static PIPE_WRITE: AtomicU64 = AtomicU64::new(0);

extern "C" fn pipe_handler(_: libc::c_int) {
    // SAFETY: write(2) is async-signal-safe; the fd is the pipe's non-blocking write end. The
    // handler saves and restores errno, as a careful hand-written one must.
    unsafe {
        let errno = *libc::__errno_location();
        libc::write(PIPE_WRITE.load(SeqCst) as i32, b"s".as_ptr().cast(), 1);
        *libc::__errno_location() = errno;
    }
}

fn self_pipe() {
    let mut fds = [0; 2];
    // SAFETY: a pipe; the write end non-blocking so the handler never waits.
    unsafe {
        assert_eq!(libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC), 0);
        libc::fcntl(fds[1], libc::F_SETFL, libc::O_NONBLOCK);
    }
    PIPE_WRITE.store(fds[1] as u64, SeqCst);
    // SAFETY: installing an extern "C" handler with SA_RESTART.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = pipe_handler as *const () as usize;
        sa.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut sa.sa_mask);
        assert_eq!(libc::sigaction(libc::SIGUSR1, &sa, std::ptr::null_mut()), 0);
    }
    let rd = fds[0];
    spawn(move || {
        let mut b = [0u8; 64];
        // SAFETY: reading into a local buffer.
        while unsafe { libc::read(rd, b.as_mut_ptr().cast(), b.len()) } > 0 {
            arrived();
        }
    });
}

fn run_variant(variant: &str, placement: &str) {
    if placement == "pinned" {
        pin_to_cpu0();
    }
    setup(variant);
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .configure_from_args();
    c.benchmark_group(format!("latency-{placement}"))
        .bench_function(variant, |b| {
            b.iter_custom(|iters| (0..iters).map(|_| round()).sum())
        });
    c.final_summary();
    write_samples(variant, placement);
}

fn write_samples(variant: &str, placement: &str) {
    // The workspace root (this package is `benches/` in it), where report.sh reads them.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/sigchan-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let samples = SAMPLES.lock().unwrap();
    let text: String = samples.iter().map(|ns| format!("{ns}\n")).collect();
    std::fs::write(dir.join(format!("latency-{placement}-{variant}.txt")), text).unwrap();
}

fn main() {
    if let (Ok(v), Ok(p)) = (
        std::env::var("SIGCHAN_BENCH_VARIANT"),
        std::env::var("SIGCHAN_BENCH_PLACEMENT"),
    ) {
        run_variant(&v, &p);
        return;
    }
    // Children get the same arguments: `--bench`, filters, `--quick`; without `--bench`
    // (`cargo test --benches`) criterion runs each benchmark once, as a test.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let exe = std::env::current_exe().unwrap();
    for placement in PLACEMENTS {
        for variant in VARIANTS {
            let status = Command::new(&exe)
                .args(&args)
                .env("SIGCHAN_BENCH_VARIANT", variant)
                .env("SIGCHAN_BENCH_PLACEMENT", placement)
                .status()
                .unwrap();
            assert!(status.success(), "{placement} {variant} failed: {status}");
        }
    }
}
