//! Process isolation for tests that change process-wide signal state.
//!
//! `isolated(f)` forks; the child runs `f` and exits 0, or 101 if it panicked, with its panic
//! message on stderr. The parent collects stderr through a pipe and waits for the child with a
//! deadline, killing it on timeout. Fork, not re-exec, so it works under qemu-user too.
//! The parent never touches sigchan, so every child starts from a clean runtime.
#![allow(dead_code)]

pub mod catcher;
pub mod example;
pub mod fd_races;
pub mod forwarding;
mod scratch;
pub mod taken;
pub mod tmux;
#[allow(unused_imports)] // not every test binary makes one
pub use scratch::ScratchDir;

use crossbeam_channel::Receiver;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;
use std::time::{Duration, Instant};

/// Set in forked children: their panics go straight to fd 2 (the parent reads it).
static IN_CHILD: AtomicBool = AtomicBool::new(false);

/// Installs, once and in the parent, a panic hook that writes to fd 2 in forked children and
/// defers to libtest's default elsewhere. Never in the child: `set_hook` takes a lock that
/// another thread of the parent may have held at the instant of `fork`.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if IN_CHILD.load(Ordering::Relaxed) {
                write_stderr(&format!("{info}\n"));
            } else {
                default(info);
            }
        }));
    });
}

/// How long any test child may run before it is killed and reported as hung. Only a hang
/// gets near it: on a machine loaded many times over, tests pass slowly, not fail.
pub const CHILD_DEADLINE: Duration = Duration::from_secs(600);
/// Bound for waiting on one expected signal: long enough that only a lost signal reaches it.
pub const RECV: Duration = Duration::from_secs(60);

/// How a child ended, with everything it wrote to stderr.
#[derive(Debug)]
pub struct Outcome {
    pub status: i32,
    pub stderr: String,
    pub timed_out: bool,
}

impl Outcome {
    pub fn exit_code(&self) -> Option<i32> {
        libc::WIFEXITED(self.status).then(|| libc::WEXITSTATUS(self.status))
    }
    pub fn signal(&self) -> Option<i32> {
        libc::WIFSIGNALED(self.status).then(|| libc::WTERMSIG(self.status))
    }
    fn describe(&self) -> String {
        let how = if self.timed_out {
            "timed out (killed)".to_string()
        } else if let Some(c) = self.exit_code() {
            format!("exited {c}")
        } else if let Some(s) = self.signal() {
            format!("killed by signal {s}")
        } else {
            format!("status {:#x}", self.status)
        };
        format!("child {how}; stderr:\n{}", self.stderr)
    }
    #[track_caller]
    pub fn assert_success(&self) {
        assert!(
            !self.timed_out && self.exit_code() == Some(0),
            "{}",
            self.describe()
        );
    }
    #[track_caller]
    pub fn assert_killed_by(&self, sig: i32) {
        assert!(
            !self.timed_out && self.signal() == Some(sig),
            "expected death by {sig}: {}",
            self.describe()
        );
    }
}

/// Runs `f` in a forked child and asserts it succeeded.
#[track_caller]
pub fn isolated(f: impl FnOnce()) {
    run_in_child(f).assert_success();
}

/// Runs `f` in a forked child and reports how it ended. A child that could not start a
/// thread (see `can_start_threads`) is discarded before it runs `f`, and forked again.
pub fn run_in_child(f: impl FnOnce()) -> Outcome {
    install_panic_hook();
    // Taken in each child (its own copy): the parent's stays for the next try.
    let mut f = Some(f);
    for _ in 0..FORK_TRIES {
        let mut fds = [0; 2];
        // SAFETY: fds is a valid array of two ints.
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        // SAFETY: the child only runs the test body and then _exit; the parent keeps running.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            // SAFETY: plain fd manipulation in the child.
            unsafe {
                libc::close(fds[0]);
                libc::dup2(fds[1], 2);
                libc::close(fds[1]);
            }
            IN_CHILD.store(true, Ordering::Relaxed);
            if !can_start_threads() {
                // SAFETY: ends this discarded child at once.
                unsafe { libc::_exit(FORK_RETRY) };
            }
            undo_inherited_ignores();
            let f = f.take().expect("one body per child");
            let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).is_ok();
            // SAFETY: _exit skips atexit handlers and the parent's libtest state.
            unsafe { libc::_exit(if ok { 0 } else { 101 }) };
        }
        // SAFETY: closing our copy of the write end so EOF arrives when the child exits.
        unsafe { libc::close(fds[1]) };
        let out = collect(pid, fds[0], CHILD_DEADLINE);
        if out.exit_code() != Some(FORK_RETRY) || !out.stderr.is_empty() {
            return out;
        }
    }
    panic!("no child forked in {FORK_TRIES} tries could start a thread");
}

/// Exit code of a forked child that could not start a thread: discarded, forked again.
const FORK_RETRY: i32 = 75;
/// Forks tried before a test gives up on starting a child that can start threads.
const FORK_TRIES: usize = 20;
/// How long a probe thread may take to start: far beyond any start on a loaded machine
/// (a late one only costs a retry), while a held lock never lets it start.
const PROBE: Duration = Duration::from_secs(10);

/// Starts a thread that blocks every signal from its first instruction (a careful library's
/// helper thread): it inherits a full mask, and the caller's own is put back at once.
pub fn spawn_with_every_signal_blocked(
    f: impl FnOnce() + Send + 'static,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    // SAFETY: sigset_t is plain data; fill and block it for the thread to inherit, then
    // restore the old mask on this thread.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_BLOCK, &all, &mut old);
        let h = std::thread::Builder::new().spawn(f);
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        h
    }
}

/// In a child just forked from a multi-threaded process: whether it can start threads. std
/// registers each thread it starts or ends under a process-wide lock of its own, and a child
/// forked while another thread of the parent (libtest runs tests on many) held it inherits
/// it held: its first `thread::spawn` would block for ever in the new thread (seen on musl).
/// The test helpers fork, probe, and discard a child whose probe thread does not start, so
/// no test body runs with that lock inherited. The probe blocks every signal (no test sees
/// it take one, and `init()` never counts it) and has ended when this returns true.
///
/// Not under qemu-user, where the suite runs one test at a time (nothing else starts threads
/// at the fork) and a thread started in a forked child can abort qemu 7.2 itself.
fn can_start_threads() -> bool {
    if cfg!(sigchan_qemu) {
        return true;
    }
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let Ok(h) = spawn_with_every_signal_blocked(move || {
        let _ = tx.send(());
    }) else {
        return false;
    };
    if rx.recv_timeout(PROBE).is_err() {
        return false;
    }
    h.join().is_ok()
}

fn collect(pid: i32, fd: i32, deadline: Duration) -> Outcome {
    let start = Instant::now();
    let mut out = Vec::new();
    let mut status = 0;
    let mut timed_out = false;
    loop {
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let n = unsafe { libc::poll(&mut pfd, 1, 50) };
        if n > 0 {
            let mut buf = [0u8; 4096];
            // SAFETY: buf is writable for its length.
            let r = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
            if r > 0 {
                out.extend_from_slice(&buf[..r as usize]);
                continue;
            }
        }
        // SAFETY: waiting for our own child.
        let w = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if w == pid {
            // Drain what is left in the pipe (grandchildren may still hold it: don't block).
            loop {
                let mut buf = [0u8; 4096];
                let mut pfd = libc::pollfd {
                    fd,
                    events: libc::POLLIN,
                    revents: 0,
                };
                // SAFETY: as above.
                if unsafe { libc::poll(&mut pfd, 1, 0) } <= 0 {
                    break;
                }
                // SAFETY: as above.
                let r = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
                if r <= 0 {
                    break;
                }
                out.extend_from_slice(&buf[..r as usize]);
            }
            break;
        }
        if start.elapsed() > deadline {
            timed_out = true;
            // SAFETY: killing and reaping our own child.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, &mut status, 0);
            }
            break;
        }
    }
    // SAFETY: closing our read end.
    unsafe { libc::close(fd) };
    Outcome {
        status,
        stderr: String::from_utf8_lossy(&out).into_owned(),
        timed_out,
    }
}

/// Gives every ignored signal but SIGPIPE (ignored by Rust's runtime itself) its default
/// back: `cargo test` started from `nohup` ignores SIGHUP, from a non-interactive shell's
/// `&` SIGINT and SIGQUIT, and a test must start from the state it assumes, not from how it
/// was launched. Tests of inherited ignores set them up themselves. Async-signal-safe (it
/// also runs between fork and exec for spawned programs: `example::Running`).
pub fn undo_inherited_ignores() {
    for sig in 1..=64 {
        if sig == libc::SIGPIPE || sig == libc::SIGKILL || sig == libc::SIGSTOP {
            continue;
        }
        // SAFETY: query, then (if ignored) a plain default action for a valid signal.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(sig, std::ptr::null(), &mut old) == 0
                && old.sa_sigaction == libc::SIG_IGN
            {
                let mut dfl: libc::sigaction = std::mem::zeroed();
                dfl.sa_sigaction = libc::SIG_DFL;
                libc::sigaction(sig, &dfl, std::ptr::null_mut());
            }
        }
    }
}

/// Writes to fd 2 directly (libtest's output capture does not exist in a forked child).
pub fn write_stderr(s: &str) {
    // SAFETY: s is valid for its length.
    unsafe { libc::write(2, s.as_ptr().cast(), s.len()) };
}

/// Forks a grandchild running `f` (which must end the process itself or return to exit 0),
/// returning its pid. For tests that watch a process die or stop. As in `run_in_child`, a
/// grandchild that could not start a thread is discarded (and reaped) before it runs `f`:
/// the parent returns only a pid whose probe succeeded.
pub fn spawn_forked(f: impl FnOnce()) -> i32 {
    let mut f = Some(f);
    for _ in 0..FORK_TRIES {
        let mut ready = [0; 2];
        // SAFETY: ready is a valid array of two ints.
        assert_eq!(
            unsafe { libc::pipe2(ready.as_mut_ptr(), libc::O_CLOEXEC) },
            0
        );
        // SAFETY: the child probes, runs f and _exits.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            let ok = can_start_threads();
            // SAFETY: one byte to the parent, then our end closed.
            unsafe {
                libc::close(ready[0]);
                libc::write(ready[1], [ok as u8].as_ptr().cast(), 1);
                libc::close(ready[1]);
            }
            if !ok {
                // SAFETY: ends this discarded child at once.
                unsafe { libc::_exit(FORK_RETRY) };
            }
            return run_in_new_process(0, f.take().expect("one body per child"));
        }
        // SAFETY: our copy of the write end, so EOF comes if the child dies first.
        unsafe { libc::close(ready[1]) };
        let mut byte = 0u8;
        let n = loop {
            // SAFETY: one byte into a local; retried when a signal interrupts.
            let n = unsafe { libc::read(ready[0], (&mut byte as *mut u8).cast(), 1) };
            if n >= 0 || std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
                break n;
            }
        };
        // SAFETY: closing our read end.
        unsafe { libc::close(ready[0]) };
        if n == 1 && byte == 1 {
            return pid;
        }
        wait_pid(pid, false);
    }
    panic!("no grandchild forked in {FORK_TRIES} tries could start a thread");
}

/// `spawn_forked` without the C library's fork: no `pthread_atfork` handler runs. The raw
/// `clone` syscall with only SIGCHLD as its exit signal is `fork` on every architecture
/// (aarch64 has no `fork` syscall). Returns 0 in the child, as `fork` does.
pub fn raw_fork_syscall() -> i32 {
    let flags = libc::SIGCHLD as libc::c_long;
    // s390x takes the stack first and the flags second (the kernel's CLONE_BACKWARDS2).
    let (a0, a1) = if cfg!(target_arch = "s390x") {
        (0, flags)
    } else {
        (flags, 0)
    };
    // SAFETY: clone without CLONE_VM gives the child a copy of the address space, like
    // fork; null stack and tls pointers keep the caller's.
    unsafe { libc::syscall(libc::SYS_clone, a0, a1, 0, 0, 0) as i32 }
}

/// `spawn_forked` through `raw_fork_syscall`.
pub fn spawn_raw_forked(f: impl FnOnce()) -> i32 {
    run_in_new_process(raw_fork_syscall(), f)
}

/// After a fork that returned `pid`: in the child, runs `f` and exits (0, or 101 if it
/// panicked); in the parent, returns `pid`.
fn run_in_new_process(pid: i32, f: impl FnOnce()) -> i32 {
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).is_ok();
        // SAFETY: ends the child without running the parent's cleanup.
        unsafe { libc::_exit(if ok { 0 } else { 101 }) };
    }
    pid
}

/// Waits for `pid` with a deadline (also reports stops when `stopped` is set).
pub fn wait_pid(pid: i32, stopped: bool) -> Outcome {
    let start = Instant::now();
    let mut status = 0;
    let flags = libc::WNOHANG | if stopped { libc::WUNTRACED } else { 0 };
    loop {
        // SAFETY: waiting for our own child.
        if unsafe { libc::waitpid(pid, &mut status, flags) } == pid {
            return Outcome {
                status,
                stderr: String::new(),
                timed_out: false,
            };
        }
        if start.elapsed() > CHILD_DEADLINE {
            // SAFETY: killing and reaping our own child.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, &mut status, 0);
            }
            return Outcome {
                status,
                stderr: String::new(),
                timed_out: true,
            };
        }
        pause_briefly();
    }
}

/// Waits about a millisecond, returning early if a signal interrupts. Never
/// `thread::sleep` in a wait loop: under a signal storm each interrupted nanosleep reports
/// its remainder plus the timer slack, so a short sleep can grow forever.
pub fn pause_briefly() {
    // SAFETY: poll on no descriptors is a plain timed wait.
    unsafe { libc::poll(std::ptr::null_mut(), 0, 1) };
}

/// Sends `sig` to this process.
pub fn raise_process(sig: sigchan::Signal) {
    // SAFETY: kill with our own pid.
    assert_eq!(unsafe { libc::kill(libc::getpid(), sig.as_raw()) }, 0);
}

/// Sends `sig` to one thread of this process.
pub fn raise_thread(tid: i32, sig: sigchan::Signal) {
    // SAFETY: tgkill with our own pid.
    let r = unsafe { libc::syscall(libc::SYS_tgkill, libc::getpid(), tid, sig.as_raw()) };
    assert_eq!(r, 0, "tgkill failed");
}

pub fn gettid() -> i32 {
    // SAFETY: gettid cannot fail.
    unsafe { libc::syscall(libc::SYS_gettid) as i32 }
}

/// Receives one signal within `RECV`, panicking with `what` if none comes.
#[track_caller]
pub fn expect_signal<T: std::fmt::Debug>(rx: &Receiver<T>, what: &str) -> T {
    rx.recv_timeout(RECV)
        .unwrap_or_else(|e| panic!("{what}: no signal within {RECV:?} ({e})"))
}

/// A disposition as the kernel's `struct sigaction` holds it, in fixed-width fields.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KernelAction {
    pub handler: usize,
    pub flags: u64,
    /// Always 0 on riscv64, whose `struct sigaction` has no such field.
    pub restorer: usize,
    pub mask: u64,
}

/// The kernel's own layout of `struct sigaction` on this architecture, written here from the
/// kernel's headers independently of `src/sys/layout.rs`: handler, `unsigned long` flags,
/// `sa_restorer` (not on riscv64), then the 64-bit set in `unsigned long` words.
#[repr(C)]
#[derive(Default)]
struct RawKernelAction {
    handler: usize,
    flags: libc::c_ulong,
    #[cfg(not(target_arch = "riscv64"))]
    restorer: usize,
    mask: [libc::c_ulong; 64 / libc::c_ulong::BITS as usize],
}

const WORD: usize = libc::c_ulong::BITS as usize;

/// A kernel word as a 64-bit value (`unsigned long` is 32 bits on i686 and armv7).
#[allow(clippy::useless_conversion)]
fn widen(w: libc::c_ulong) -> u64 {
    u64::from(w)
}

impl RawKernelAction {
    fn from(a: &KernelAction) -> Self {
        let mut mask = [0; 64 / WORD];
        for (i, w) in mask.iter_mut().enumerate() {
            *w = (a.mask >> (i * WORD)) as libc::c_ulong;
        }
        RawKernelAction {
            handler: a.handler,
            flags: a.flags as libc::c_ulong,
            #[cfg(not(target_arch = "riscv64"))]
            restorer: a.restorer,
            mask,
        }
    }

    fn to_action(&self) -> KernelAction {
        KernelAction {
            handler: self.handler,
            flags: widen(self.flags),
            #[cfg(not(target_arch = "riscv64"))]
            restorer: self.restorer,
            #[cfg(target_arch = "riscv64")]
            restorer: 0,
            mask: self
                .mask
                .iter()
                .enumerate()
                .fold(0, |m, (i, &w)| m | widen(w) << (i * WORD)),
        }
    }
}

/// `rt_sigaction` with the kernel's layout: installs `new` (if any), returns the old action.
fn raw_sigaction(sig: i32, new: Option<&KernelAction>) -> KernelAction {
    let new = new.map(RawKernelAction::from);
    let new_ptr = new
        .as_ref()
        .map_or(std::ptr::null(), |n| n as *const RawKernelAction);
    let mut old = RawKernelAction::default();
    // SAFETY: null or a live kernel-layout new action, a live old one, size 8 (the kernel's
    // set); a new action's handler and restorer are the caller's to vouch for.
    let r = unsafe {
        libc::syscall(
            libc::SYS_rt_sigaction,
            sig,
            new_ptr,
            &mut old as *mut RawKernelAction,
            8,
        )
    };
    assert_eq!(r, 0, "rt_sigaction({sig})");
    old.to_action()
}

/// The kernel's current action for `sig`, read with the raw syscall.
pub fn kernel_action(sig: i32) -> KernelAction {
    raw_sigaction(sig, None)
}

/// Installs `act` with the raw syscall, bypassing the C library.
///
/// # Safety
/// `act.handler` is `SIG_DFL`, `SIG_IGN` or a function for its flags; with `SA_RESTORER`,
/// `act.restorer` is code the kernel may return through.
pub unsafe fn set_kernel_action(sig: i32, act: &KernelAction) {
    raw_sigaction(sig, Some(act));
}

/// Sets a disposition with libc (as another library or the parent process would).
pub fn set_disposition(sig: i32, handler: libc::sighandler_t) {
    // SAFETY: installing SIG_DFL/SIG_IGN or a valid extern "C" fn(c_int) handler.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = handler;
        libc::sigemptyset(&mut sa.sa_mask);
        assert_eq!(libc::sigaction(sig, &sa, std::ptr::null_mut()), 0);
    }
}

/// A line of /proc/self/status, e.g. "SigIgn", parsed as a hex mask.
pub fn proc_status_mask(field: &str, tid: Option<i32>) -> u64 {
    match tid {
        Some(t) => status_mask(&format!("/proc/self/task/{t}/status"), field),
        None => status_mask("/proc/self/status", field),
    }
}

/// Waits until `pid` runs `sleep` (it has exec'd), then returns its status line `field`.
pub fn exec_status(pid: i32, field: &str) -> u64 {
    wait_until("the child has exec'd sleep", || {
        std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "sleep")
    });
    process_status_mask(pid, field)
}

/// The same line of another process's /proc status (e.g. a spawned example's "SigIgn").
pub fn process_status_mask(pid: i32, field: &str) -> u64 {
    status_mask(&format!("/proc/{pid}/status"), field)
}

fn status_mask(path: &str, field: &str) -> u64 {
    let text = std::fs::read_to_string(path).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("{field}:")))
        .unwrap();
    u64::from_str_radix(line.split_whitespace().nth(1).unwrap(), 16).unwrap()
}

/// Blocks (`libc::SIG_BLOCK`) or unblocks (`libc::SIG_UNBLOCK`) `sig` in the calling thread;
/// threads it spawns afterwards inherit the mask.
pub fn thread_mask(how: i32, sig: sigchan::Signal) {
    // SAFETY: a sigset built with the libc helpers; changes this thread's mask only.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, sig.as_raw());
        assert_eq!(libc::pthread_sigmask(how, &set, std::ptr::null_mut()), 0);
    }
}

/// Names of this process's threads.
pub fn thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("comm")).ok())
        .map(|s| s.trim().to_string())
        .collect()
}

/// The tid of sigchan's thread (named `sigchan`) in this process.
pub fn signal_thread_tid() -> i32 {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| {
            std::fs::read_to_string(e.path().join("comm")).is_ok_and(|c| c.trim() == "sigchan")
        })
        .map(|e| e.file_name().to_string_lossy().parse().unwrap())
        .expect("a sigchan thread")
}

/// Where thread `tid` of this process sleeps in the kernel (`/proc`'s `wchan`; empty if
/// unreadable).
pub fn wchan(tid: i32) -> String {
    std::fs::read_to_string(format!("/proc/self/task/{tid}/wchan")).unwrap_or_default()
}

pub fn bit(sig: sigchan::Signal) -> u64 {
    1u64 << (sig.as_raw() - 1)
}

/// Polls `cond` until it holds, failing after `RECV`. For state the signal thread changes
/// asynchronously (e.g. after it notices a dropped receiver).
#[track_caller]
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < RECV, "{what}: not true within {RECV:?}");
        pause_briefly();
    }
}

/// `sigqueue(3)` of `sig` carrying `value` to process `pid`; fails the test if refused.
pub fn sigqueue(pid: i32, sig: sigchan::Signal, value: usize) {
    let v = libc::sigval {
        sival_ptr: value as *mut libc::c_void,
    };
    // SAFETY: sigqueue with a plain integer payload.
    let rc = unsafe { libc::sigqueue(pid, sig.as_raw(), v) };
    assert_eq!(rc, 0, "sigqueue: {}", std::io::Error::last_os_error());
}

/// Whether descriptor `fd` polls readable within `ms` milliseconds (0: right now). A poll
/// a handler interrupts is polled again.
pub fn readable(fd: i32, ms: i32) -> bool {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    loop {
        // SAFETY: one valid pollfd for the duration of the call.
        match unsafe { libc::poll(&mut pfd, 1, ms) } {
            -1 if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) => continue,
            n => return n == 1,
        }
    }
}

/// A thread sending `sig` to this process as fast as it can, until `stop` (or drop).
pub struct Storm {
    running: std::sync::Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Storm {
    pub fn start(sig: sigchan::Signal) -> Storm {
        let running = std::sync::Arc::new(AtomicBool::new(true));
        let r = running.clone();
        let thread = std::thread::spawn(move || {
            while r.load(Ordering::Relaxed) {
                raise_process(sig);
            }
        });
        Storm {
            running,
            thread: Some(thread),
        }
    }

    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.running.store(false, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

impl Drop for Storm {
    fn drop(&mut self) {
        self.halt();
    }
}

/// Go's TestAtomicStop: `stop` in one thread while SIGINT is sent from another, `rounds`
/// times across as many forked children as it takes. Each round the signal must reach the
/// channel or take its default action (death by SIGINT ends that child, and counts as that
/// round's outcome); neither is a lost signal and fails. Returns (rounds run, rounds that took
/// the default action). However often the default action wins (a loaded machine), every
/// child runs at least one round, so the loop ends.
pub fn stop_racing_kill(rounds: usize) -> (usize, usize) {
    stop_racing_kill_with::<sigchan::Signal>(rounds, |tx| {
        sigchan::notify(tx, &[sigchan::SIGINT]).unwrap()
    })
}

/// `stop_racing_kill` for any kind of channel: `subscribe` notifies it of SIGINT.
pub fn stop_racing_kill_with<T: sigchan::Message + Send>(
    rounds: usize,
    subscribe: fn(&crossbeam_channel::Sender<T>),
) -> (usize, usize) {
    race_rounds(rounds, move |left| stop_kill_rounds(left, subscribe))
}

/// `stop_racing_kill` with the process in `init()` mode: SIGINT reaches only the signal
/// thread, which takes it without a handler frame (`rt_sigtimedwait`) and, when a `stop`
/// won, gives it back to the kernel for its default action.
pub fn stop_racing_kill_in_init_mode(rounds: usize) -> (usize, usize) {
    stop_racing_kill_taken(rounds, false)
}

/// The same after `sigchan::promise_no_other_handlers`: the signal thread takes without
/// asking the kernel whose handler is installed, so sigchan's own bookkeeping alone must
/// give a signal whose channel `stop` removed to its default action.
pub fn stop_racing_kill_in_init_mode_promised(rounds: usize) -> (usize, usize) {
    stop_racing_kill_taken(rounds, true)
}

fn stop_racing_kill_taken(rounds: usize, promise: bool) -> (usize, usize) {
    race_rounds(rounds, move |left| {
        if promise {
            sigchan::promise_no_other_handlers();
        }
        sigchan::init().unwrap();
        stop_kill_rounds::<sigchan::Signal>(left, |tx| {
            sigchan::notify(tx, &[sigchan::SIGINT]).unwrap()
        });
    })
}

/// `left` rounds of: subscribe, `stop` on another thread while SIGINT is sent to the
/// process; the signal must be in the channel, or its default action on its way.
fn stop_kill_rounds<T: sigchan::Message + Send>(
    left: usize,
    subscribe: fn(&crossbeam_channel::Sender<T>),
) {
    for _ in 0..left {
        let (tx, rx) = crossbeam_channel::bounded::<T>(1);
        subscribe(&tx);
        let stopper = std::thread::spawn(move || sigchan::stop(&tx));
        raise_process(sigchan::SIGINT);
        if rx.recv_timeout(RECV).is_err() {
            // The channel closed with the signal not in it. If the handler took the
            // default action on the stopper's thread, the death is on its way.
            let _ = stopper.join();
            lost("signal neither delivered nor acted on");
        }
        stopper.join().unwrap();
        write_stderr(".");
    }
}

/// The frame of the stop-vs-kill races: runs `child(rounds left)` in forked children until
/// `rounds` rounds are done. The child writes `.` per round; death by SIGINT (the default
/// action) ends a child and counts as that round; `LOST` (from `lost`) fails. However often
/// the default action wins, every child runs at least one round, so the loop ends. Returns
/// (rounds run, rounds that took the default action).
pub fn race_rounds(rounds: usize, child: impl Fn(usize) + Copy) -> (usize, usize) {
    let (mut done, mut defaults) = (0, 0);
    while done < rounds {
        let left = rounds - done;
        let out = run_in_child(move || child(left));
        done += out.stderr.bytes().filter(|&b| b == b'.').count();
        match (out.exit_code(), out.signal()) {
            (Some(0), _) => {}
            (_, Some(libc::SIGINT)) => {
                defaults += 1;
                done += 1;
            }
            _ => {
                assert!(
                    !out.stderr.contains("LOST"),
                    "lost a signal in round {}: {}",
                    done + 1,
                    out.stderr
                );
                out.assert_success()
            }
        }
    }
    (done, defaults)
}

/// In a race round whose signal reached nobody: waits 5 s for a default action that may be
/// on its way (only a process still alive afterwards lost the signal), then fails the round.
pub fn lost(what: &str) -> ! {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(5) {
        std::hint::spin_loop();
    }
    write_stderr("LOST\n");
    panic!("{what}");
}

/// Processes whose parent is `parent` and that are zombies (state Z), from /proc.
pub fn zombies_of(parent: i32) -> Vec<i32> {
    let parent = parent.to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                return false;
            };
            // pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
            let rest = &stat[stat.rfind(')').unwrap() + 2..];
            let mut fields = rest.split(' ');
            fields.next() == Some("Z") && fields.next() == Some(parent.as_str())
        })
        .collect()
}
