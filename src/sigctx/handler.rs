//! The signal handler. Everything reachable from `entry` is async-signal-safe: atomics, raw
//! syscalls from `sys`, and calls to a handler that was installed before sigchan (whose
//! safety is its author's). No allocation, lock, panic, formatting, or TLS beyond errno.
//! `docs/SAFETY.md` lists every function reachable from here.

use crate::queue::Sent;
use crate::ring::Record;
use crate::signal::{default_action, is_synchronous_raw, DefaultAction, MAX_SIGNAL};
use crate::sys::{self, KernelSigaction, SIG_DFL, SIG_IGN};
use crate::{stats, thread, QUEUE};
use libc::{c_int, c_void, siginfo_t};
use std::sync::atomic::{
    AtomicU64, AtomicUsize, Ordering::Acquire, Ordering::Relaxed, Ordering::Release,
};

const N: usize = MAX_SIGNAL as usize + 1;

/// The action each signal had before sigchan first touched it: the handler address and its
/// flags. Written once, before sigchan's handler is first installed for that signal.
static ORIGINAL_HANDLER: [AtomicUsize; N] = [const { AtomicUsize::new(SIG_DFL) }; N];
static ORIGINAL_FLAGS: [AtomicU64; N] = [const { AtomicU64::new(0) }; N];

/// Bit `n - 1` set while `ignore(n)` is removing signal `n`: a handler racing it then drops
/// the signal, as the user asked, instead of taking the original action.
static IGNORE_FALLBACK: AtomicU64 = AtomicU64::new(0);

/// Records the original action of `sig` for the handler's fallback. Called by the registry,
/// under its lock, before the first install of `sig`.
pub(crate) fn set_original(sig: i32, act: &KernelSigaction) {
    ORIGINAL_FLAGS[sig as usize].store(act.flags, Relaxed);
    ORIGINAL_HANDLER[sig as usize].store(act.handler, Release);
}

/// The handler `sig` had before sigchan (or the one sigchan chains to). Async-signal-safe.
pub(crate) fn original_handler(sig: i32) -> usize {
    ORIGINAL_HANDLER[sig as usize].load(Acquire)
}

pub(crate) fn set_ignore_fallback(bit: u64, on: bool) {
    if on {
        IGNORE_FALLBACK.fetch_or(bit, Release);
    } else {
        IGNORE_FALLBACK.fetch_and(!bit, Release);
    }
}

/// The action sigchan installs: `entry`, returning through sigchan's restorer, with every
/// signal blocked while it runs.
pub(crate) fn action() -> KernelSigaction {
    KernelSigaction {
        handler: entry_address(),
        flags: sys::HANDLER_FLAGS,
        restorer: sys::restorer::address(),
        mask: !0,
    }
}

/// The address of `entry`, as the kernel reports it back in `sa_handler`.
pub(crate) fn entry_address() -> usize {
    entry as *const () as usize
}

/// The handler the kernel calls (`SA_SIGINFO` convention).
pub(crate) extern "C" fn entry(sig: c_int, info: *mut siginfo_t, ctx: *mut c_void) {
    // SAFETY: __errno_location returns the address of the calling thread's errno, valid for
    // the thread's life; glibc's implementation is a TLS address computation (initial-exec),
    // which allocates nothing and is safe in a handler.
    let errno = unsafe { libc::__errno_location() };
    // SAFETY: errno points to this thread's errno (above).
    let saved = unsafe { *errno };
    handle(sig, info, ctx);
    // SAFETY: as above; restoring it means the interrupted code never sees our syscalls.
    unsafe { *errno = saved };
}

fn handle(sig: c_int, info: *mut siginfo_t, ctx: *mut c_void) {
    if !(1..=MAX_SIGNAL).contains(&sig) {
        return;
    }
    let bit = 1u64 << (sig - 1);
    let code = if info.is_null() {
        0
    } else {
        // SAFETY: with SA_SIGINFO the kernel passes a valid siginfo_t for this delivery.
        unsafe { (*info).si_code }
    };
    let synchronous = is_synchronous_raw(sig);
    if synchronous && code > 0 {
        // A real fault (or a kernel-generated trap): never swallowed, never queued.
        fault(sig, info, ctx);
        return;
    }
    // Where this frame lives tells whether we interrupted the signal thread (no syscall).
    let marker = 0u8;
    let on_signal_thread = thread::is_signal_thread_stack(&marker as *const u8 as usize);
    // Elsewhere, make sure a signal thread exists in this process: a child made without the
    // fork handlers (raw `fork` syscall, `clone`) inherited the wanted bits but no thread,
    // and a queued signal would wait there for nobody.
    if !on_signal_thread && thread::owner_pid() != sys::getpid() {
        original_action(sig, bit, info, ctx);
        return;
    }
    match QUEUE.send(bit, &record(sig, code, info), on_signal_thread) {
        Sent::NotWanted => original_action(sig, bit, info, ctx),
        sent => {
            stats::count_arrival(sig as usize, sent);
            // Chain to a handler installed before sigchan. A fault handler (Rust's stack
            // overflow reporter) is not meant for a signal another process sent.
            if !synchronous {
                call_original_function(sig, info, ctx);
            }
        }
    }
}

/// The origin of this arrival: plain copies of `siginfo_t` fields, decoded later by
/// `SigInfo`. Which union member is meaningful depends on `code`; all are copied.
fn record(sig: c_int, code: i32, info: *mut siginfo_t) -> Record {
    let mut rec = Record {
        signo: sig as u8,
        code,
        ..Record::default()
    };
    if !info.is_null() {
        // SAFETY: the kernel passed a valid siginfo_t (SA_SIGINFO); these accessors read
        // fixed offsets of its 128 bytes. A field that does not apply to `code` reads
        // whatever the union holds, which `SigInfo` never reports.
        unsafe {
            rec.pid = (*info).si_pid();
            rec.uid = (*info).si_uid();
            rec.status = (*info).si_status();
            rec.value = (*info).si_value().sival_ptr as usize as u64;
        }
    }
    rec
}

/// Calls the pre-sigchan handler if it is a function; returns whether it was one.
fn call_original_function(sig: c_int, info: *mut siginfo_t, ctx: *mut c_void) -> bool {
    let h = ORIGINAL_HANDLER[sig as usize].load(Acquire);
    if h == SIG_DFL || h == SIG_IGN || h == entry_address() {
        return false;
    }
    let flags = ORIGINAL_FLAGS[sig as usize].load(Relaxed);
    if flags & libc::SA_SIGINFO as u64 != 0 {
        // SAFETY: h was read back from the kernel as this signal's handler with SA_SIGINFO,
        // so it has the three-argument signature; we pass the kernel's own arguments.
        let f: extern "C" fn(c_int, *mut siginfo_t, *mut c_void) =
            unsafe { std::mem::transmute(h) };
        f(sig, info, ctx);
    } else {
        // SAFETY: h was installed without SA_SIGINFO, so it is a one-argument handler.
        let f: extern "C" fn(c_int) = unsafe { std::mem::transmute(h) };
        f(sig);
    }
    true
}

/// The signal is not wanted (a `stop` raced it, or no channel subscribes): do what would have
/// happened without sigchan, so the signal is never lost silently.
///
/// Unless another library's handler, installed over sigchan's, called this one as the
/// previous handler in its chain: that library handles the signal, and the process must not
/// die of a signal someone still wants.
fn original_action(sig: c_int, bit: u64, info: *mut siginfo_t, ctx: *mut c_void) {
    if IGNORE_FALLBACK.load(Acquire) & bit != 0 || called_by_a_newer_handler(sig) {
        return;
    }
    if call_original_function(sig, info, ctx) {
        return;
    }
    if ORIGINAL_HANDLER[sig as usize].load(Acquire) == SIG_IGN {
        return;
    }
    match default_action(sig) {
        DefaultAction::Ignore => {}
        // Stopping the process is what SIG_DFL does; SIGSTOP does it without touching the
        // disposition a concurrent `notify` may be installing.
        DefaultAction::Stop => {
            let _ = sys::kill(sys::getpid(), libc::SIGSTOP);
        }
        DefaultAction::Terminate => die(sig, ctx),
    }
}

/// True when the installed handler is a function that is neither sigchan's nor the one
/// sigchan chains to: someone installed it after sigchan, and it is calling us.
fn called_by_a_newer_handler(sig: c_int) -> bool {
    let Ok(current) = sys::sigaction(sig, None) else {
        return false;
    };
    let h = current.handler;
    h != SIG_DFL
        && h != SIG_IGN
        && h != entry_address()
        && h != ORIGINAL_HANDLER[sig as usize].load(Acquire)
}

/// A kernel-generated SEGV/BUS/FPE/ILL/TRAP/SYS: the previous handler (Rust's stack-overflow
/// reporter, a crash reporter) gets it, else the default action kills the process. Ignoring
/// a fault would loop forever, so SIG_IGN also means death here, as the kernel does.
fn fault(sig: c_int, info: *mut siginfo_t, ctx: *mut c_void) {
    if !call_original_function(sig, info, ctx) {
        die(sig, ctx);
    }
}

/// Dies by `sig` with its default action: restore SIG_DFL, unblock `sig` in the mask the
/// kernel restores when this handler returns, and queue `sig` to this thread. The kernel acts
/// on it as the handler returns, before the interrupted code runs again.
fn die(sig: c_int, ctx: *mut c_void) {
    let dfl = KernelSigaction {
        handler: SIG_DFL,
        flags: sys::SA_RESTORER,
        restorer: sys::restorer::address(),
        mask: 0,
    };
    let _ = sys::sigaction(sig, Some(&dfl));
    if !ctx.is_null() {
        // SAFETY: with SA_SIGINFO the third argument is the kernel's ucontext for this frame;
        // uc_sigmask starts with the kernel's 64-bit mask on x86_64 and aarch64 alike (glibc
        // pads it to 128 bytes exactly to keep the kernel layout). We clear one bit of it.
        unsafe {
            let uc = ctx as *mut libc::ucontext_t;
            let mask = std::ptr::addr_of_mut!((*uc).uc_sigmask) as *mut u64;
            *mask &= !(1u64 << (sig - 1));
        }
    }
    let _ = sys::tgkill(sys::getpid(), sys::gettid(), sig);
}
