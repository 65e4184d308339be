//! # sigchan
//!
//! A POSIX signal runtime for Linux (x86_64, aarch64, i686, armv7, riscv64, powerpc64le and
//! s390x; glibc and musl) built the way Go's runtime does it, with Go's `os/signal` API on
//! [crossbeam channels](crossbeam_channel).
//!
//! ```no_run
//! use sigchan::channel::bounded; // crossbeam-channel, re-exported: one version for both
//! use sigchan::process::CommandExt;
//! use sigchan::{Signal, SIGINT, SIGTERM};
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     sigchan::init()?; // optional: first thing in main, before spawning threads
//!     // Children start as if sigchan were not there (init's block is not inherited).
//!     let _child = std::process::Command::new("sleep").arg("60").restore_signals().spawn()?;
//!     let (tx, rx) = bounded::<Signal>(1);
//!     sigchan::notify(&tx, &[SIGINT, SIGTERM])?;
//!     let sig = rx.recv()?;
//!     println!("got {sig}, shutting down");
//!     sigchan::stop(&tx);
//!     Ok(())
//! }
//! ```
//!
//! ## How it works
//! - sigchan's handler, installed with the raw `rt_sigaction` syscall and sigchan's own
//!   `rt_sigreturn` trampoline (`asm/`), does only async-signal-safe work: it sets the
//!   signal's bit in a lock-free pending mask (Go's `sigqueue`) and, if the signal thread
//!   sleeps, wakes it with one `futex` call. It preserves `errno`.
//! - One thread, named `sigchan`, drains the mask and sends each signal to every subscribed
//!   channel with `try_send`: a full channel drops that delivery (see [`stats`]), it never
//!   blocks the others.
//! - Without [`init`], the signal thread unblocks each notified signal in its own mask before
//!   [`notify`] returns, so delivery never depends on other threads' masks. With [`init`],
//!   every other thread keeps every asynchronous signal blocked, the kernel delivers only to
//!   the signal thread, and worker threads never see `EINTR`.
//!
//! ## Beyond Go
//! - [`notify_info`]: a [`SigInfo`] per arrival, with who sent the signal ([`SigInfo::pid`],
//!   [`SigInfo::uid`], [`SigInfo::sender_name`]), why ([`Cause`]) and the `sigqueue(3)`
//!   value; queued real-time signals each arrive (up to [`INFO_CAPACITY`] at once), in the
//!   kernel's order in [`init`] mode (see [`notify_info`] for default mode).
//! - [`shutdown_on`]: a [`Shutdown`] token (Go's `NotifyContext`); after it triggers, a second
//!   signal takes its original action, so a second Ctrl-C kills.
//! - [`stats`]: arrivals, deliveries, coalesced arrivals, drops on full channels, origins lost.
//! - Feature `async`: `stream::SignalStream` and `stream::InfoStream`, `futures_core::Stream`s
//!   for any executor, woken by the signal thread (tested under tokio, smol, async-task and
//!   the futures crate's executors).
//! - [`fd`]: a subscription that is a readable file descriptor ([`fd::SignalFd`],
//!   [`fd::InfoFd`]) for poll loops (mio, `polling`, calloop, `epoll`): the handler writes its
//!   eventfd itself, with no thread in between, and `stop`'s guarantee.
//! - [`forward`]: signals passed on to a child process or group from inside the handler,
//!   with a rewrite table, no thread woken, `stop`'s guarantee and a pidfd against pid reuse
//!   (what an init, a supervisor or a proxy needs).
//! - [`reap::Reaper`]: SIGCHLD as one event per ended child (pid, exit code or signal),
//!   reaping every child (an init, a subreaper) or only the ones you watch, so a
//!   `std::process::Child` that waits for itself is never robbed.
//! - [`process::CommandExt::restore_signals`]: children start as if sigchan were not there
//!   (feature `tokio` adds it to `tokio::process::Command`); [`raise`] signals the calling
//!   thread in either mode.
//!
//! ## With tokio
//! - **Where `init()` goes.** First in `main`, before the runtime is built, so that tokio's
//!   worker threads inherit the mask ([`init`] has the code). Inside `#[tokio::main]` other
//!   threads already run and it returns [`Error::TooLate`]. The default mode needs no
//!   placement.
//! - **Waiting.** With feature `async`, `stream::SignalStream` and `stream::InfoStream` are
//!   woken by the signal thread; their `recv()` is cancel-safe, so it can be a branch of
//!   `tokio::select!` in a loop, and they are `futures_core::Stream`s, so
//!   `tokio_stream::StreamExt` (`next`, `timeout`, `merge`) works on them. The shutdown
//!   token's [`Shutdown::triggered`] is a future for the same `select!`:
//!
//! ```ignore
//! // Needs tokio with "rt-multi-thread", "net", "macros" and sigchan's feature `async`.
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     sigchan::init()?; // before the runtime: no worker thread takes a signal
//!     let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
//!     rt.block_on(async {
//!         let shutdown = sigchan::shutdown_on(&[sigchan::SIGTERM, sigchan::SIGINT])?;
//!         let mut hup = sigchan::stream::SignalStream::new(&[sigchan::SIGHUP])?;
//!         let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//!         loop {
//!             tokio::select! {
//!                 conn = listener.accept() => { let (stream, _) = conn?; /* spawn a handler */ }
//!                 _ = hup.recv() => { /* reload */ }
//!                 _ = shutdown.triggered() => break, // a second INT now kills
//!             }
//!         }
//!         /* drain the handlers */
//!         Ok(())
//!     })
//! }
//! ```
//!
//!   The whole program, run and tested by CI, is `examples/tokio/src/bin/tokio_server.rs`
//!   in the repository (a workspace member, so that only it compiles tokio).
//! - **Beside `tokio::signal`.** Both may handle the same signal in one process, in either
//!   order. Registered *before* sigchan, tokio's handler is the disposition sigchan finds
//!   and chains to after each delivery; registered *after*, tokio's handler (through
//!   signal-hook-registry) calls the one it replaced, which is sigchan's. Either way both
//!   receive every arrival (coalesced as each does), and sigchan's [`stop`], [`reset`], a
//!   dropped receiver or a fired [`Shutdown`] never remove tokio's handler: a signal sigchan
//!   no longer wants is left to tokio and never kills the process. Only [`ignore`], an
//!   explicit request, sets `SIG_IGN` over it.
//! - **Children.** Feature `tokio` adds [`process::CommandExt::restore_signals`] to
//!   `tokio::process::Command`.
//!
//! ## Terminal programs
//! A program in raw mode subscribes TSTP, CONT, WINCH, INT, TERM and HUP before it enters
//! raw mode; on TSTP it restores the terminal and then stops with `raise(SIGSTOP)` (the
//! default action, after the restore), on CONT it enters raw mode again and redraws, on
//! WINCH it redraws at the new size, on the others it restores and exits. docs/PITFALLS.md
//! ("A terminal left raw") has the recipe and the cases (a TSTP while stopped, what
//! [`init`] changes for SIGTTOU); `examples/terminal.rs` in the repository is the program,
//! tested under tmux.
//!
//! ## Semantics (Go's `os/signal`, with its known bugs fixed)
//! - Coalescing: like the kernel and Go, several arrivals of one signal before the signal
//!   thread drains them may become one delivery to a [`notify`] channel. Within a drain, lower
//!   numbers come first. [`notify_info`] channels get every arrival the handler saw.
//! - [`stop`]: when it returns, the channel gets nothing more; a signal that races it is
//!   either delivered to the channel or takes the signal's original action (Go #14571).
//! - When the last subscriber of a signal goes, the disposition the process had before
//!   sigchan first touched the signal comes back (an inherited `SIG_IGN` too).
//! - Synchronous signals (SEGV, BUS, FPE, ILL, TRAP, SYS) may be notified, but only instances
//!   sent by a process are delivered; a real fault still kills the process through the
//!   previous handler (Rust's stack-overflow report keeps working) or the default action.
//! - A handler installed before sigchan keeps being called after each delivery (chaining).
//! - Another library (tokio, signal-hook) that installs its handler *after* sigchan is never
//!   removed by [`stop`], [`reset`] or a dropped subscriber: sigchan gives back only the
//!   dispositions it set itself, and when the other handler calls sigchan's as the previous
//!   one in its chain, a signal sigchan no longer wants is left to it (it never kills).
//!   [`ignore`] is the exception: it sets `SIG_IGN` because you asked for exactly that.
//! - `fork`: until the child calls sigchan again, each signal its parent subscribed takes
//!   its original action there (a subscribed `SIGTERM` terminates the child; nothing is
//!   held for a signal thread that does not exist). Its next sigchan call starts a signal
//!   thread, and the inherited channels receive again from then on. A child made without
//!   `fork`'s handlers (`syscall(SYS_fork)`, `clone`) is detected by its pid and behaves
//!   the same in default mode. After [`init`] such a child keeps the forking thread's mask
//!   (every asynchronous signal blocked: no code of sigchan's runs in it to undo that), so a
//!   `SIGTERM` stays pending until it calls [`process::restore_signals_in_child`]. [`stats`]
//!   start from zero in the child.
//! - `exec`: caught signals become `SIG_DFL`; `SIG_IGN` and the signal mask are inherited.
//!   Rust's `std::process::Command` passes the calling thread's mask to the child, so
//!   after [`init`] start children with [`process::CommandExt::restore_signals`] (see
//!   [`process`] for `posix_spawn`, raw `fork` and tokio).
//!
//! ## Limitations
//! - One process-wide runtime: sigchan owns the dispositions of the signals it is given.
//!   It relies on a library that installs a handler over sigchan's to call the previous
//!   handler (tokio and signal-hook do); one that does not chain takes the signal from
//!   sigchan until it gives the disposition back.
//!   After [`promise_no_other_handlers`], in `init()` mode sigchan no longer looks, and a
//!   handler installed over its own gets none of the signals sigchan's thread takes.
//! - Dropped receivers are noticed at the next delivery attempt, not before.
//! - User code sigchan runs (a stream's `Waker`) runs on the signal thread after every
//!   sigchan lock is released; a panic in it is caught and reported once on stderr.
//! - `fork` from a multi-threaded program: sigchan's own locks are taken across the fork and
//!   released on both sides, and its signal thread is started with `pthread_create` itself,
//!   not `std::thread` (whose start takes a process-wide lock of std's that another thread may
//!   have held at the fork), so a child can always call sigchan. Locks of other libraries,
//!   std's included (`std::thread::spawn`, `println!`), are their own concern in such a
//!   child, as with any `fork` without `exec`: keep to async-signal-safe calls and sigchan
//!   until `exec`.
//!
//! `docs/DESIGN.md` maps each piece to Go's runtime; `docs/SAFETY.md` lists everything the
//! handler can reach.

#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]
// docs.rs labels feature-gated items with the feature they need.
#![cfg_attr(docsrs, feature(doc_cfg))]
// The loom build checks the sigqueue alone (`tests/loom.rs` compiles `src/sigctx/`'s queue
// files with loom's atomics); the library itself is empty there.
#![cfg(not(loom))]

#[cfg(not(any(target_os = "linux")))]
compile_error!(
    "sigchan supports Linux only; declare it under [target.'cfg(target_os = \"linux\")'.dependencies] in Cargo.toml"
);

// Layers, each using only those listed before it (docs/DESIGN.md, `tests/layering.rs`):
// the raw kernel interface; signal context (everything the handler reaches); the values;
// the runtime (signal thread, registry, sinks); then the API in this file and the files
// beside it.
mod runtime;
mod sigctx;
mod sys;
mod types;

pub mod fd;
pub mod forward;
pub mod process;
pub mod reap;
mod shutdown;
mod stats;
#[cfg(feature = "async")]
#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
pub mod stream;

/// The channel crate sigchan's API takes ([`crossbeam_channel`], re-exported whole): build
/// the channels you give to [`notify`] and [`notify_info`] with it, so your program and
/// sigchan always agree on one version of `Sender`. Its `select!` macro is here too.
///
/// ```
/// use sigchan::channel::bounded;
/// let (tx, rx) = bounded::<sigchan::Signal>(1);
/// sigchan::notify(&tx, &[sigchan::SIGUSR1])?;
/// sigchan::stop(&tx);
/// # drop(rx);
/// # Ok::<(), sigchan::Error>(())
/// ```
pub use crossbeam_channel as channel;

pub use runtime::sink::Message;
pub use shutdown::{shutdown_on, Shutdown};
pub use stats::{stats, stats_all, Stats};
pub use types::error::Error;
pub use types::info::{Cause, ChildEvent, SigInfo};
pub use types::signal::*;

use crossbeam_channel::Sender;
use runtime::{init_mask, registry, sink};

/// How many arrivals' origins the ring between the handlers and the signal thread holds.
///
/// For [`notify_info`] subscribers every arrival is recorded, so up to this many signals
/// (real-time signals queued by `sigqueue(3)` included) can arrive faster than the signal
/// thread drains them without losing their origin or their count. Beyond it, an arrival
/// still reaches its subscribers, as a [`SigInfo`] whose [`cause`](SigInfo::cause) is
/// [`Cause::Lost`], and [`Stats::origins_lost`] counts it. Fixed at compile time: the ring
/// is a `static` (20 KiB, 40 bytes a slot), so the handler never follows a pointer.
///
/// ```
/// assert_eq!(sigchan::INFO_CAPACITY, 512);
/// ```
pub const INFO_CAPACITY: usize = sigctx::RING_CAPACITY;

/// docs/PITFALLS.md: every snippet there runs as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../docs/PITFALLS.md")]
pub struct PitfallsDocTests;

/// Takes `sig`, one of the signals the C library reserves for itself, for sigchan: from now
/// on `notify`, [`forward`] and the rest accept it, and [`SignalSet::catchable`] includes it.
///
/// The reserved signals lie between the kernel's 32 and `libc::SIGRTMIN()`: 32 and 33 on
/// glibc (thread cancellation, the set*id broadcast), 32 to 34 on musl (`SIGEV_THREAD`
/// timers, cancellation, and `__synccall`, which musl's `setuid`, `setgid`, `setgroups` and
/// their kin use in a multi-threaded process). A container init built on musl wants 34:
/// tini-static (glibc) forwards it, and Docker's `kill -s RTMIN` sends it.
///
/// # Safety
/// The program must never use the C library feature that relies on `sig` (see above): with
/// sigchan's handler in place that feature would hang or misbehave. sigchan itself uses
/// none of them.
///
/// # Errors
/// [`Error::Invalid`] if `sig` is not a reserved signal of this C library (nothing changes).
///
/// ```
/// // glibc's SIGRTMIN is 34 and musl's 35: only musl reserves 34.
/// let claimed = unsafe { sigchan::claim_reserved(sigchan::Signal::new(34)?) };
/// assert_eq!(claimed.is_ok(), libc::SIGRTMIN() > 34);
/// assert!(sigchan::Signal::new(34)?.is_catchable());
/// # Ok::<(), sigchan::Error>(())
/// ```
pub unsafe fn claim_reserved(sig: Signal) -> Result<(), Error> {
    types::signal::claim(sig)
}

/// Relays the signals `sigs` to `tx`; `&[]` means every catchable signal.
///
/// Repeated calls on the same channel add signals; several channels on one signal each get
/// their own copy. Sends never block: a full channel drops that delivery (counted in
/// [`stats`]); a channel whose receivers are all gone is unsubscribed as if [`stop`] had been
/// called. When `notify` returns, the signals are being caught and the signal thread is ready
/// to receive them.
///
/// A signal that was ignored (also one inherited as ignored, e.g. under `nohup`) is caught
/// from now on; the ignored state comes back when its last subscriber stops.
///
/// Give the channel room: as in Go, a signal that finds the channel full is dropped for that
/// channel (a zero-capacity channel receives only while a receiver is blocked in `recv`).
/// One slot per signal you act on is enough, since arrivals coalesce anyway.
///
/// None of sigchan's calls may be made from inside a signal handler.
///
/// # Errors
/// [`Error::Uncatchable`] for `SIGKILL`/`SIGSTOP`, [`Error::Reserved`] for the C library's
/// signals; nothing at all has changed then. [`Error::Os`] if the signal thread cannot be
/// started.
///
/// ```
/// use sigchan::channel::bounded;
/// use sigchan::{Signal, SIGUSR1};
///
/// let (tx, rx) = bounded::<Signal>(1);
/// sigchan::notify(&tx, &[SIGUSR1])?;
/// unsafe { libc::kill(libc::getpid(), libc::SIGUSR1) };
/// assert_eq!(rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap(), SIGUSR1);
/// # Ok::<(), sigchan::Error>(())
/// ```
pub fn notify(tx: &Sender<Signal>, sigs: &[Signal]) -> Result<(), Error> {
    registry::notify(sink::Sink::Plain(tx.clone()), sigs)
}

/// Like [`notify`], but sends a [`SigInfo`] per arrival: who sent the signal, why, and the
/// value a `sigqueue(3)` carried. `&[]` means every catchable signal.
///
/// Every arrival the handler sees is recorded, in the order the handlers recorded them, in
/// a lock-free ring of [`INFO_CAPACITY`] records that the signal thread drains into the
/// channel; arrivals are not coalesced, so each instance of a real-time signal queued with
/// `sigqueue(3)` comes out with its value. (Standard signals are still merged by the kernel
/// itself while one is pending and blocked, before any handler sees them.) A full ring never
/// makes the handler wait: the arrival comes out as [`Cause::Lost`] and is counted in
/// [`Stats::origins_lost`]. A full channel drops that `SigInfo`, as with [`notify`]; size the
/// channel for bursts you want to keep.
///
/// Order: the kernel hands out queued signals in order, and one thread's handlers record
/// them in that order. Without [`init`] several threads may run handlers at the same time,
/// and two arrivals that overlap may be recorded in either order; in [`init`] mode only the
/// signal thread runs them, so the order is the kernel's. Deliveries to info channels are
/// not ordered against deliveries to [`notify`] channels.
///
/// [`stop`], [`ignore`] and [`reset`] treat info channels exactly as plain ones, with the
/// same guarantee. A channel may not be both (the types differ); a signal may have plain
/// and info subscribers at once.
///
/// # Errors
/// As for [`notify`]: a bad signal changes nothing.
///
/// ```
/// use sigchan::channel::bounded;
/// use sigchan::{Cause, SigInfo};
///
/// let (tx, rx) = bounded::<SigInfo>(8);
/// let rt = sigchan::Signal::rtmin(1)?;
/// sigchan::notify_info(&tx, &[rt])?;
/// for v in 0..3 {
///     let value = libc::sigval { sival_ptr: v as *mut libc::c_void };
///     unsafe { libc::sigqueue(libc::getpid(), rt.as_raw(), value) };
/// }
/// let got: Vec<_> = (0..3)
///     .map(|_| rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap())
///     .collect();
/// assert!(got.iter().all(|i| i.cause() == Cause::Sigqueue));
/// let mut values: Vec<_> = got.iter().map(|i| i.value().unwrap()).collect();
/// values.sort(); // see "Order" above
/// assert_eq!(values, [0, 1, 2]);
/// sigchan::stop(&tx);
/// # Ok::<(), sigchan::Error>(())
/// ```
pub fn notify_info(tx: &Sender<SigInfo>, sigs: &[Signal]) -> Result<(), Error> {
    registry::notify(sink::Sink::Info(tx.clone()), sigs)
}

/// Stops relaying any signal to `tx`, a channel given to [`notify`] or to [`notify_info`].
///
/// When `stop` returns, nothing more is sent to `tx`. A signal arriving while `stop` runs is
/// either delivered to `tx` or takes the signal's original action (default, ignore, or the
/// handler that was there before sigchan); it is never silently lost. When `tx` was the last
/// subscriber of a signal, that signal's original disposition comes back.
/// `stop` on a channel that was never notified returns at once.
///
/// ```
/// use sigchan::channel::bounded;
/// let (tx, rx) = bounded(1);
/// sigchan::notify(&tx, &[sigchan::SIGUSR2])?;
/// sigchan::stop(&tx);
/// assert!(rx.try_recv().is_err());
/// # Ok::<(), sigchan::Error>(())
/// ```
pub fn stop<T: Message>(tx: &Sender<T>) {
    registry::stop(&sink::Sink::of(tx))
}

/// Ignores `sigs` (`SIG_IGN`); `&[]` means every catchable signal.
///
/// The signals are removed from every channel first (with [`stop`]'s guarantee). Ignored
/// dispositions are inherited by children across `exec`. [`reset`] undoes it.
///
/// # Errors
/// As for [`notify`]: a bad signal changes nothing.
///
/// ```
/// sigchan::ignore(&[sigchan::SIGHUP])?;
/// assert!(sigchan::ignored(sigchan::SIGHUP));
/// sigchan::reset(&[sigchan::SIGHUP])?;
/// # Ok::<(), sigchan::Error>(())
/// ```
pub fn ignore(sigs: &[Signal]) -> Result<(), Error> {
    registry::ignore(sigs)
}

/// True when `sig`'s disposition is `SIG_IGN`, whoever set it (an [`ignore`] call, or the
/// parent process: `nohup` starts programs with `SIGHUP` ignored).
///
/// ```
/// assert!(!sigchan::ignored(sigchan::SIGKILL));
/// ```
pub fn ignored(sig: Signal) -> bool {
    sys::sigaction_get(sig.as_raw()).is_ok_and(|a| a.handler == sys::SIG_IGN)
}

/// Removes `sigs` from every channel and restores the disposition each had before sigchan
/// first touched it; `&[]` means every catchable signal. It undoes [`ignore`] (Go #46321),
/// brings back an inherited `SIG_IGN`, and gives job-control signals (TSTP, TTIN, TTOU,
/// CONT) their real default back. Signals sigchan never touched are left alone.
///
/// # Errors
/// As for [`notify`]: a bad signal changes nothing.
///
/// ```
/// use sigchan::channel::bounded;
/// let (tx, rx) = bounded(1);
/// sigchan::notify(&tx, &[sigchan::SIGUSR1])?;
/// sigchan::reset(&[sigchan::SIGUSR1])?;
/// assert!(rx.try_recv().is_err());
/// # Ok::<(), sigchan::Error>(())
/// ```
pub fn reset(sigs: &[Signal]) -> Result<(), Error> {
    registry::reset(sigs)
}

/// The masked-process mode. Call it first thing in `main`, before any thread is spawned.
///
/// ```no_run
/// use sigchan::process::CommandExt;
///
/// fn main() -> Result<(), Box<dyn std::error::Error>> {
///     sigchan::init()?; // before any other thread
///     // Without restore_signals the child would start with SIGTERM & co. blocked.
///     let mut child = std::process::Command::new("sleep").arg("60").restore_signals().spawn()?;
///     let worker = std::thread::spawn(|| { /* syscalls here never fail with EINTR */ });
///     worker.join().unwrap();
///     child.kill()?;
///     Ok(())
/// }
/// ```
///
/// It blocks every catchable asynchronous signal in the calling thread, so every thread
/// spawned later inherits the block, and starts the signal thread, which keeps those signals
/// unblocked. The kernel then delivers process-directed signals only to the signal thread:
/// worker threads never see `EINTR`, and delivery costs one thread wake-up. The signal
/// thread takes the subscribed ones with `rt_sigtimedwait`, without a handler frame (unless
/// a handler installed over sigchan's, or one sigchan chains to, must run: the kernel then
/// delivers them to it as before). A signal nobody subscribed to still takes its default
/// action there (`SIGTERM` still terminates).
/// Signals the caller had already blocked stay blocked everywhere. Calling it again (from
/// the first caller or any thread started after it) is harmless.
///
/// Never blocked: `SIGKILL`/`SIGSTOP`, the synchronous fault signals (`SEGV`, `BUS`, `FPE`,
/// `ILL`, `TRAP`, `SYS`), the C library's reserved signals, and `SIGPIPE`. These are sent to
/// the thread that caused them, where a block would leave them pending for ever.
///
/// # Children inherit the mask
/// A child inherits the mask of the thread that starts it, and `std::process::Command`,
/// `posix_spawn`, `vfork`, `system()` and `tokio::process::Command` do not reset it: a child
/// started without help begins with `SIGTERM`, `SIGINT`, `SIGHUP`, `SIGQUIT`, … blocked, and
/// keeps running through them (`SigBlk` in its `/proc/PID/status` shows them). Start
/// children with [`process::CommandExt::restore_signals`]; [`process`] covers
/// `posix_spawn` and raw `fork`. A child of a bare `libc::fork()` is already clean: sigchan's
/// fork handler unblocks what `init` blocked on its one thread.
///
/// # What stays pending on a masked thread
/// A signal sent to one particular thread can only be taken by that thread; on a worker that
/// blocks it, it stays pending until that thread unblocks it, which it never does:
///
/// | sent with | instead use |
/// |---|---|
/// | `libc::raise(sig)` | [`raise`] |
/// | `pthread_kill(worker, sig)`, `tgkill(pid, worker_tid, sig)` | [`raise`] on that thread, or `kill(getpid(), sig)` anywhere |
/// | a timer with `SIGEV_THREAD_ID` naming a worker | `SIGEV_SIGNAL` (process-directed) |
///
/// Process-directed signals (`kill`, `sigqueue`, `SIGEV_SIGNAL` timers, `SIGCHLD`, the
/// terminal's `SIGINT`) always reach the signal thread. Sigchan cannot move a signal pending
/// on another thread: only that thread can take it. `SIGPIPE`, which a write to a broken pipe
/// raises on the writing thread, is not blocked for this reason.
///
/// With tokio, call `init` before building the runtime, so not inside `#[tokio::main]`
/// (the compiled version of this is `examples/tokio/src/bin/tokio_server.rs`; here it is not
/// compiled, as it needs tokio's `rt-multi-thread`, which sigchan does not depend on):
///
/// ```ignore
/// fn main() -> Result<(), Box<dyn std::error::Error>> {
///     sigchan::init()?;
///     let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
///     rt.block_on(async { /* ... */ });
///     Ok(())
/// }
/// ```
///
/// # Errors
/// [`Error::TooLate`] if other threads already run that do not block these signals
/// (counted from `/proc/self/task`; without `/proc` the check is skipped): they would keep
/// taking them, so the mode would hold only for threads started later. Nothing has changed
/// then. A helper thread that already blocks every signal `init` blocks does not count.
///
/// [`Error::Os`] if the signal thread cannot be started.
pub fn init() -> Result<(), Error> {
    registry::init()
}

/// Promises that, from now on, nothing in this process but sigchan installs a signal
/// handler, so sigchan need not check before each signal it takes.
///
/// In [`init`] mode, and in a program that blocked every signal in its first thread before
/// its first sigchan call (as a container init does), sigchan's thread takes the signals
/// every other thread blocks with `rt_sigtimedwait`, without a handler frame. Before it
/// handles each one it asks the kernel (one `rt_sigaction` call) whether sigchan's handler is
/// still the one installed: a library started later (tokio, signal-hook) may have installed
/// its own over sigchan's, and that handler must get the signal. After this call the
/// question is skipped: one system call less per signal, which is what a container init
/// reaping a storm of orphans spends besides the kernel's own work
/// (`init/benches/reap-profile.txt` measures `sigchan-init` with and without it).
///
/// Make the promise only in a program that owns all of its signal handling: no library that
/// installs handlers (tokio's `signal` or `process`, signal-hook, ctrlc, …) and no
/// `libc::sigaction` or `libc::signal` of its own, from now on. A handler installed before the
/// call is fine: sigchan chains to it as ever. If a handler is installed over sigchan's
/// anyway, nothing unsafe happens, but in the modes above sigchan keeps taking that signal
/// and the newer handler does not run for it. Default mode is not affected: there the
/// kernel always runs whichever handler is installed. The promise cannot be taken back.
///
/// ```
/// sigchan::promise_no_other_handlers();
/// ```
pub fn promise_no_other_handlers() {
    sigctx::handler::NO_OTHER_HANDLERS.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Sends `sig` to the calling thread, like `libc::raise`, in a way that also works in
/// [`init`] mode.
///
/// A subscribed signal is delivered to its subscribers; an unsubscribed one takes its
/// action (an unsubscribed `SIGTERM` terminates the process, `SIGTSTP` stops it) before
/// `raise` returns, as `libc::raise` does. In [`init`] mode the calling thread blocks the
/// signal, so `libc::raise` would leave it pending there for ever; `raise` unblocks it for
/// the duration of the call. A signal the program blocked itself stays blocked (and
/// pending), as with `libc::raise`.
///
/// # Errors
/// [`Error::Reserved`] for the C library's signals (nothing is sent); [`Error::Os`] if the
/// kernel refuses.
///
/// ```
/// use sigchan::channel::bounded;
/// let (tx, rx) = bounded(1);
/// sigchan::notify(&tx, &[sigchan::SIGUSR1])?;
/// sigchan::raise(sigchan::SIGUSR1)?;
/// assert_eq!(rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap(), sigchan::SIGUSR1);
/// # Ok::<(), sigchan::Error>(())
/// ```
pub fn raise(sig: Signal) -> Result<(), Error> {
    if let Err(Error::Reserved(s)) = sig.check_catchable() {
        return Err(Error::Reserved(s));
    }
    let unblock = init_mask::init_blocked() & sig.bit();
    let before = if unblock != 0 {
        Some(sys::mask_unblock(unblock)?)
    } else {
        None
    };
    // With the signal unblocked, the kernel acts on it as this syscall returns.
    let sent = sys::tgkill(sys::getpid(), sys::gettid(), sig.as_raw());
    if let Some(mask) = before {
        let _ = sys::mask_set(mask);
    }
    sent.map_err(Error::from)
}
