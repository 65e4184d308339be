//! The receiving process: one mechanism under test, set up the way a real program has it,
//! then the main thread idles (`pause`) without blocking the signal, as a daemon's main thread
//! waiting for its workers does (the init-mode variants and the ones built on a blocked
//! signal block it there, as they require). Every receiving thread is named `receiver`.
//!
//! Layouts: `idle-main` (main idle, the receiving threads); `busy-pool` (the same plus two
//! worker threads spinning on CPU 1, as a server's pool under load).

use super::shared::{Shared, ARRIVALS, HANDLER_TID, PROBE, READY};
use crossbeam_channel::{bounded, unbounded};
use sigchan::{Signal, SIGUSR1};
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};

/// The mechanisms, in report order.
pub const VARIANTS: [&str; 21] = [
    "sigwaitinfo-floor",
    "two-wake-reference",
    "sigwaitinfo-channel",
    "sigchan-init",
    "sigchan-default",
    "sigchan-info-init",
    "sigchan-info-default",
    "shutdown-wait-init",
    "shutdown-wait-default",
    "stream-tokio-init",
    "stream-tokio-default",
    "signalfd",
    "signal-hook-bridge",
    "signal-hook-iterator",
    "tokio-signal",
    "self-pipe",
    "fd-mio-init",
    "fd-mio-default",
    "signal-hook-mio",
    "signalfd-mio",
    "go-os-signal",
];

/// Sets `variant` up in `layout`, reports ready in `shared`, and idles forever.
pub fn run(variant: &str, layout: &str, shared: Shared) -> ! {
    // SAFETY: PR_SET_NAME with a NUL-terminated name: the main thread shows as "main".
    unsafe { libc::prctl(libc::PR_SET_NAME, c"main".as_ptr()) };
    // What must precede every thread: init() masks the threads created after it; the
    // blocked-signal mechanisms need USR1 blocked in every thread.
    if variant.ends_with("-init") {
        sigchan::init().unwrap();
    }
    if matches!(
        variant,
        "sigwaitinfo-floor" | "sigwaitinfo-channel" | "signalfd" | "signalfd-mio"
    ) {
        block_usr1();
    }
    install_probe(variant, shared);
    if layout == "busy-pool" {
        for i in 0..2 {
            std::thread::Builder::new()
                .name(format!("worker-{i}"))
                .spawn(busy_worker)
                .unwrap();
        }
    }
    setup(variant, shared);
    shared.set(READY, 1);
    loop {
        // SAFETY: pause only waits for a signal.
        unsafe { libc::pause() };
    }
}

/// The shared page, for the probe handler (set once, before any signal).
static PROBE_PAGE: std::sync::OnceLock<Shared> = std::sync::OnceLock::new();

/// Which thread runs the handler: while the sender sets `PROBE`, a handler records its
/// thread. Mechanisms that chain to the handler installed before them (sigchan, tokio and
/// signal-hook do) get this one installed first; the two hand-written handlers call it.
/// Off, it costs one atomic load per signal.
extern "C" fn probe_handler(_: libc::c_int) {
    probe();
}

fn probe() {
    if let Some(page) = PROBE_PAGE.get() {
        if page.get(PROBE) != 0 {
            // SAFETY: gettid cannot fail; errno is untouched by a successful syscall.
            page.set(HANDLER_TID, unsafe { libc::syscall(libc::SYS_gettid) }
                as u64);
        }
    }
}

fn install_probe(variant: &str, shared: Shared) {
    let _ = PROBE_PAGE.set(shared);
    let chains = variant.starts_with("sigchan")
        || variant.starts_with("shutdown")
        || variant.starts_with("stream")
        || variant.starts_with("fd-")
        || variant.starts_with("signal-hook")
        || variant == "tokio-signal";
    // In init mode sigchan's thread takes the signal itself, without a handler frame, unless
    // its handler must chain to one installed before it: a probe there would measure
    // the handler path instead of the one these variants use.
    if chains && !variant.ends_with("-init") {
        install(probe_handler as *const () as usize, 0);
    }
}

/// A pool thread under load: spins on CPU 1 (where there is one), away from the measured
/// threads on CPU 0.
fn busy_worker() {
    // Online CPUs, not `available_parallelism`: that one counts this process's affinity,
    // which is CPU 0 alone.
    // SAFETY: sysconf has no preconditions.
    if unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) } > 1 {
        pin_to(1);
    }
    let mut x = 1u64;
    loop {
        x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
    }
}

/// Pins the calling thread (and the threads it creates) to `cpu`.
pub fn pin_to(cpu: usize) {
    // SAFETY: a cpu_set_t with one CPU, for this thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
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

fn receiver(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .name("receiver".into())
        .spawn(f)
        .unwrap();
}

fn current_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Starts the receiving side; afterwards every USR1 sent to this process ends in
/// `shared.arrived`.
fn setup(variant: &str, shared: Shared) {
    match variant {
        "sigwaitinfo-floor" => receiver(move || loop {
            let set = usr1_set();
            // SAFETY: valid sigset; info may be null.
            if unsafe { libc::sigwaitinfo(&set, std::ptr::null_mut()) } == libc::SIGUSR1 {
                shared.arrived(true);
            }
        }),
        "two-wake-reference" => two_wake_reference(shared),
        "sigwaitinfo-channel" => {
            // Two wake-ups with a crossbeam channel between them, as sigchan's init mode
            // has: what the channel itself costs.
            let (tx, rx) = bounded::<i32>(1);
            std::thread::Builder::new()
                .name("waiter".into())
                .spawn(move || loop {
                    let set = usr1_set();
                    // SAFETY: valid sigset; info may be null.
                    let sig = unsafe { libc::sigwaitinfo(&set, std::ptr::null_mut()) };
                    if sig == libc::SIGUSR1 {
                        let _ = tx.try_send(sig);
                    }
                })
                .unwrap();
            receiver(move || {
                for _ in rx.iter() {
                    shared.arrived(true);
                }
            });
        }
        "sigchan-init" | "sigchan-default" => {
            let (tx, rx) = bounded::<Signal>(1);
            sigchan::notify(&tx, &[SIGUSR1]).unwrap();
            std::mem::forget(tx);
            receiver(move || {
                for _ in rx.iter() {
                    shared.arrived(true);
                }
            });
        }
        "sigchan-info-init" | "sigchan-info-default" => {
            let (tx, rx) = bounded::<sigchan::SigInfo>(1);
            sigchan::notify_info(&tx, &[SIGUSR1]).unwrap();
            std::mem::forget(tx);
            receiver(move || {
                for info in rx.iter() {
                    assert_eq!(info.cause(), sigchan::Cause::Kill);
                    shared.arrived(true);
                }
            });
        }
        "shutdown-wait-init" | "shutdown-wait-default" => {
            // A token fires once (a second signal takes the default action), so each round
            // makes a new one; the sender waits until it exists.
            let (ready_tx, ready_rx) = bounded::<()>(1);
            receiver(move || loop {
                let token = sigchan::shutdown_on(&[SIGUSR1]).unwrap();
                shared.set(super::shared::ARMED, shared.get(ARRIVALS) + 1);
                let _ = ready_tx.try_send(());
                assert_eq!(token.wait(), Some(SIGUSR1));
                shared.arrived(false);
            });
            ready_rx.recv().unwrap();
            return;
        }
        "stream-tokio-init" | "stream-tokio-default" => {
            let (ready_tx, ready_rx) = bounded::<()>(1);
            receiver(move || {
                current_thread_runtime().block_on(async move {
                    let mut usr1 = sigchan::stream::SignalStream::new(&[SIGUSR1]).unwrap();
                    ready_tx.send(()).unwrap();
                    loop {
                        usr1.recv().await;
                        shared.arrived(true);
                    }
                })
            });
            ready_rx.recv().unwrap();
        }
        "signalfd" => {
            let set = usr1_set();
            // SAFETY: a new signalfd for USR1 (blocked in every thread).
            let fd = unsafe { libc::signalfd(-1, &set, 0) };
            assert!(fd >= 0);
            receiver(move || {
                let mut info = [0u8; 128];
                // SAFETY: reading one signalfd_siginfo (128 bytes) into a 128-byte buffer.
                while unsafe { libc::read(fd, info.as_mut_ptr().cast(), 128) } == 128 {
                    shared.arrived(true);
                }
            });
        }
        "signal-hook-bridge" => {
            let mut signals = signal_hook::iterator::Signals::new([libc::SIGUSR1]).unwrap();
            let (tx, rx) = unbounded::<i32>();
            std::thread::Builder::new()
                .name("bridge".into())
                .spawn(move || {
                    for sig in signals.forever() {
                        let _ = tx.send(sig);
                    }
                })
                .unwrap();
            receiver(move || {
                for _ in rx.iter() {
                    shared.arrived(true);
                }
            });
        }
        "signal-hook-iterator" => {
            let mut signals = signal_hook::iterator::Signals::new([libc::SIGUSR1]).unwrap();
            receiver(move || {
                for _ in signals.forever() {
                    shared.arrived(true);
                }
            });
        }
        "tokio-signal" => {
            let (ready_tx, ready_rx) = bounded::<()>(1);
            receiver(move || {
                current_thread_runtime().block_on(async move {
                    use tokio::signal::unix::{signal, SignalKind};
                    let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
                    ready_tx.send(()).unwrap();
                    while usr1.recv().await.is_some() {
                        shared.arrived(true);
                    }
                })
            });
            ready_rx.recv().unwrap();
        }
        "self-pipe" => self_pipe(shared),
        "fd-mio-init" | "fd-mio-default" => {
            let mut usr1 = sigchan::fd::SignalFd::new(&[SIGUSR1]).unwrap();
            let poll = mio_poll(&mut mio::unix::SourceFd(&std::os::fd::AsRawFd::as_raw_fd(
                &usr1,
            )));
            receiver(move || {
                mio_loop(poll, || {
                    for _ in usr1.try_iter() {
                        shared.arrived(true);
                    }
                })
            });
        }
        "signal-hook-mio" => {
            let mut signals = signal_hook_mio::v1_0::Signals::new([libc::SIGUSR1]).unwrap();
            let poll = mio_poll(&mut signals);
            receiver(move || {
                mio_loop(poll, || {
                    for _ in signals.pending() {
                        shared.arrived(true);
                    }
                })
            });
        }
        "signalfd-mio" => {
            let set = usr1_set();
            // SAFETY: a new non-blocking signalfd for USR1 (blocked in every thread).
            let fd = unsafe { libc::signalfd(-1, &set, libc::SFD_NONBLOCK) };
            assert!(fd >= 0);
            let poll = mio_poll(&mut mio::unix::SourceFd(&fd));
            receiver(move || {
                mio_loop(poll, || {
                    let mut info = [0u8; 128];
                    // SAFETY: reading signalfd_siginfo records (128 bytes) into 128 bytes.
                    while unsafe { libc::read(fd, info.as_mut_ptr().cast(), 128) } == 128 {
                        shared.arrived(true);
                    }
                })
            });
        }
        other => panic!("unknown variant {other}"),
    }
    shared.set(super::shared::ARMED, 1);
}

/// A mio `Poll` with `source` registered for reading (edge-triggered).
fn mio_poll(source: &mut impl mio::event::Source) -> mio::Poll {
    let poll = mio::Poll::new().unwrap();
    poll.registry()
        .register(source, mio::Token(0), mio::Interest::READABLE)
        .unwrap();
    poll
}

/// The receiving thread's mio loop: `drain` takes everything pending at each event, as an
/// edge-triggered loop must.
fn mio_loop(mut poll: mio::Poll, mut drain: impl FnMut()) -> ! {
    use mio::Events;
    let mut events = Events::with_capacity(8);
    loop {
        match poll.poll(&mut events, None) {
            Ok(()) => drain(),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => panic!("poll: {e}"),
        }
    }
}

/// The two-wake minimum: a hand-written handler that bumps a word and futex-wakes the
/// receiving thread, which reads it. Wake 1: the kernel wakes a thread to run the handler;
/// wake 2: the handler wakes the receiver.
static WORD: AtomicU32 = AtomicU32::new(0);

extern "C" fn futex_handler(_: libc::c_int, _: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // SAFETY: errno is this thread's; futex wake on a static word is async-signal-safe.
    unsafe {
        let errno = *libc::__errno_location();
        probe();
        WORD.fetch_add(1, SeqCst);
        libc::syscall(
            libc::SYS_futex,
            WORD.as_ptr(),
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
            1,
        );
        *libc::__errno_location() = errno;
    }
}

fn two_wake_reference(shared: Shared) {
    receiver(move || {
        let mut seen = 0;
        loop {
            let now = WORD.load(SeqCst);
            if now != seen {
                seen = now;
                shared.arrived(true);
                continue;
            }
            // SAFETY: futex wait on a static word while it still holds `seen`.
            unsafe {
                libc::syscall(
                    libc::SYS_futex,
                    WORD.as_ptr(),
                    libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
                    seen,
                    std::ptr::null::<libc::timespec>(),
                )
            };
        }
    });
    install(futex_handler as *const () as usize, libc::SA_SIGINFO);
}

fn install(handler: usize, flags: libc::c_int) {
    // SAFETY: an extern "C" handler matching `flags`, with SA_RESTART.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = handler;
        sa.sa_flags = flags | libc::SA_RESTART;
        libc::sigemptyset(&mut sa.sa_mask);
        assert_eq!(libc::sigaction(libc::SIGUSR1, &sa, std::ptr::null_mut()), 0);
    }
}

static PIPE_WRITE: AtomicU32 = AtomicU32::new(0);

extern "C" fn pipe_handler(_: libc::c_int) {
    // SAFETY: write(2) is async-signal-safe; the fd is the pipe's non-blocking write end;
    // errno saved and restored, as a careful hand-written handler must.
    unsafe {
        let errno = *libc::__errno_location();
        probe();
        libc::write(PIPE_WRITE.load(SeqCst) as i32, b"s".as_ptr().cast(), 1);
        *libc::__errno_location() = errno;
    }
}

fn self_pipe(shared: Shared) {
    let mut fds = [0; 2];
    // SAFETY: a pipe; the write end non-blocking so the handler never waits.
    unsafe {
        assert_eq!(libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC), 0);
        libc::fcntl(fds[1], libc::F_SETFL, libc::O_NONBLOCK);
    }
    PIPE_WRITE.store(fds[1] as u32, SeqCst);
    install(pipe_handler as *const () as usize, 0);
    let rd = fds[0];
    receiver(move || {
        let mut b = [0u8; 64];
        // SAFETY: reading into a local buffer.
        while unsafe { libc::read(rd, b.as_mut_ptr().cast(), b.len()) } > 0 {
            shared.arrived(true);
        }
    });
}
