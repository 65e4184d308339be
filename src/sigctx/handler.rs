//! The signal handler (Go's `sighandler` and `sigfwd`). Everything reachable from `entry` is
//! async-signal-safe (see the folder's contract in `mod.rs`), plus calls to a handler that
//! was installed before sigchan, whose safety is its author's.
//!
//! The same steps also run without a handler frame: the signal thread takes the signals
//! every other thread blocks with `rt_sigtimedwait` and hands each to `take` (no frame for
//! the kernel to build, no `rt_sigreturn`). What only a frame can do (chain to a handler
//! function, let another library's handler installed over sigchan's run, die by the
//! signal) is given back to the kernel: `redeliver`.

use super::original;
use super::queue::Sent;
use super::receiver;
use super::record::Record;
use super::route;
use super::{counters, POLLERS, QUEUE};
use crate::sys::signo::{default_action, is_synchronous, DefaultAction, MAX_SIGNAL};
use crate::sys::{self, ucontext, KernelSigaction, SIG_DFL, SIG_IGN};
use libc::{c_int, c_void, siginfo_t};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

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

/// Where an arrival is being handled.
#[derive(Clone, Copy)]
enum Frame {
    /// In a handler the kernel called, with its ucontext.
    Kernel(*mut c_void),
    /// On the signal thread, which took the signal with `rt_sigtimedwait`: no frame.
    Taken,
}

impl Frame {
    /// The ucontext to pass on (null without a frame).
    fn ctx(self) -> *mut c_void {
        match self {
            Frame::Kernel(ctx) => ctx,
            Frame::Taken => std::ptr::null_mut(),
        }
    }
}

/// The handler the kernel calls (`SA_SIGINFO` convention).
pub(crate) extern "C" fn entry(sig: c_int, info: *mut siginfo_t, ctx: *mut c_void) {
    let errno = sys::errno_location();
    // SAFETY: errno points to this thread's errno, valid for the thread's life.
    let saved = unsafe { *errno };
    let _ = handle(sig, info, Frame::Kernel(ctx));
    // SAFETY: as above; restoring it means the interrupted code never sees our syscalls.
    unsafe { *errno = saved };
}

/// Set for good by `crate::promise_no_other_handlers`: nothing but sigchan installs a
/// handler any more, so `take` need not ask the kernel whose handler is installed. Read
/// relaxed: a stale `false` only costs one query.
pub(crate) static NO_OTHER_HANDLERS: AtomicBool = AtomicBool::new(false);

/// What `take` did with a signal the signal thread took.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Taken {
    /// A kick (`receiver::kick`): nothing to do but look at the sigqueue again.
    Kick,
    /// Handled as the handler would have.
    Handled,
    /// Not sigchan's to handle without a frame (another handler is installed over sigchan's,
    /// or sigchan chains to a handler function): given back to the kernel on this thread.
    Redelivered,
}

/// Handles `sig`, which the signal thread took with `rt_sigtimedwait` (`info` as it came),
/// exactly as `entry` would have, but without a frame. Runs on the signal thread only.
pub(crate) fn take(sig: c_int, info: &mut siginfo_t) -> Taken {
    if receiver::is_kick(info) {
        return Taken::Kick;
    }
    // A handler installed over sigchan's must still get its signal (and one that chains
    // back reaches sigchan through it); so must a handler function sigchan chains to. The
    // query is skipped once the program promised no other handler will come
    // (`crate::promise_no_other_handlers`).
    let ours = NO_OTHER_HANDLERS.load(Relaxed)
        || matches!(sys::sigaction_get(sig), Ok(a) if a.handler == entry_address());
    if !ours || original::chains(sig) {
        redeliver(sig, info);
        return Taken::Redelivered;
    }
    if handle(sig, info, Frame::Taken) == Then::GiveBack {
        // Its original action needs a frame after all (a handler function sigchan chains
        // to, or death by it).
        redeliver(sig, info);
    }
    Taken::Handled
}

/// Gives a signal the signal thread took back to the kernel: queues it to this thread again
/// with its own siginfo (a thread may queue itself any `si_code`), then unblocks it for an
/// instant, so the kernel delivers it here with whatever disposition it has now (another
/// library's handler, sigchan's chaining to the original, `SIG_DFL`), before this returns.
///
/// A kick is a signal queued to this thread too, and may be this very signal: pending when
/// the copy is queued, it would swallow the copy (a standard signal is pending once per
/// thread, so the handler would get the kick's siginfo and sigchan, through a chain, nothing);
/// landing while the signal is unblocked, it would reach that handler as an arrival. So no
/// kick may be pending or in flight meanwhile: kicks pause (the pokes in flight waited out),
/// the kicks already pending are taken, and kicking resumes once the signal is blocked
/// again. Signal thread only (`take`), never in a handler.
fn redeliver(sig: c_int, info: &siginfo_t) {
    let bit = 1u64 << (sig - 1);
    let kick = receiver::pause_kicks();
    let mut current = *info;
    // Where a later arrival is read into (any valid siginfo_t will do as the buffer).
    let mut later = *info;
    loop {
        // Kicks sit in this thread's own queue, which the kernel empties before the process's:
        // past them, what comes is a later arrival of this signal, given back after this one.
        let more = take_kicks(bit, &mut later);
        // SAFETY: current is a live siginfo_t (128 bytes, the kernel's layout).
        let _ = unsafe { sys::tgsigqueueinfo(sys::getpid(), sys::gettid(), sig, &current) };
        let _ = sys::mask_unblock(bit);
        let _ = sys::mask_block(bit);
        if !more {
            break;
        }
        current = later;
    }
    receiver::resume_kicks(kick);
}

/// Takes the kicks pending for the signal of `bit` (blocked here). Stops at the first real
/// arrival of it: reads it into `info` and returns true.
fn take_kicks(bit: u64, info: &mut siginfo_t) -> bool {
    while sys::sigtimedwait(bit, info, false).is_ok() {
        if !receiver::is_kick(info) {
            return true;
        }
    }
    false
}

/// What is left to do once the handler's steps ran.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Then {
    Done,
    /// Give the signal back to the kernel (`redeliver`): only ever without a frame, and
    /// done by `take`, so nothing a handler reaches may sleep.
    GiveBack,
}

fn handle(sig: c_int, info: *mut siginfo_t, frame: Frame) -> Then {
    if !(1..=MAX_SIGNAL).contains(&sig) {
        return Then::Done;
    }
    let bit = 1u64 << (sig - 1);
    let code = if info.is_null() {
        0
    } else {
        // SAFETY: with SA_SIGINFO the kernel passes a valid siginfo_t for this delivery.
        unsafe { (*info).si_code }
    };
    let synchronous = is_synchronous(sig);
    if synchronous && code > 0 {
        // A real fault (or a kernel-generated trap): never swallowed, never queued.
        fault(sig, info, frame.ctx());
        return Then::Done;
    }
    // SAFETY: as above (a kick's siginfo is sigchan's own `QueuedSiginfo`).
    if code == sys::SI_QUEUE && receiver::is_kick(unsafe { &*info }) {
        // A kick that reached a handler (only possible in a race sigchan's signal thread
        // waits out): it was never an arrival.
        return Then::Done;
    }
    let on_signal_thread = match frame {
        Frame::Taken => true,
        // Where this frame lives tells whether we interrupted the signal thread (no syscall).
        Frame::Kernel(_) => {
            let marker = 0u8;
            receiver::is_signal_thread_stack(&marker as *const u8 as usize)
        }
    };
    // Elsewhere, make sure a signal thread exists in this process: a child made without the
    // fork handlers (raw `fork` syscall, `clone`) inherited the wanted bits but no thread,
    // and a queued signal would wait there for nobody.
    if !on_signal_thread && receiver::owner_pid() != sys::getpid() {
        return original_action(sig, info, frame);
    }
    // SAFETY: info is the kernel's siginfo_t for this delivery (or null).
    let rec = unsafe { Record::from_siginfo(sig, code, info) };
    // What the fd receivers did with it: (any took it, every one had it pending already).
    let mut polled = None;
    let sent = QUEUE.send_routed(bit, &rec, on_signal_thread, |route, slots| {
        if route != 0 {
            route::forward(route, sig, &rec);
        }
        if slots != 0 {
            polled = Some(poll(slots, bit, &rec));
        }
    });
    match sent {
        Sent::NotWanted => original_action(sig, info, frame),
        // `ignore` raced this arrival: dropped, as asked.
        Sent::Ignored => Then::Done,
        sent => {
            match (sent, polled) {
                (Sent::Diverted, None) => {}
                // Only fd receivers wanted it: counted as a channel's arrival would be.
                (Sent::Diverted, Some(coalesced)) => {
                    counters::ARRIVALS.bump(sig as usize);
                    if coalesced {
                        counters::COALESCED.bump(sig as usize);
                    }
                }
                (sent, _) => counters::count_arrival(sig as usize, sent),
            }
            // Chain to a handler installed before sigchan. A fault handler (Rust's stack
            // overflow reporter) is not meant for a signal another process sent. (`take`
            // gives a signal that chains back to the kernel: a frame is only there.)
            if let (false, Frame::Kernel(ctx)) = (synchronous, frame) {
                call_original_function(sig, info, ctx);
            }
            Then::Done
        }
    }
}

/// Hands one arrival to the fd receivers of the slots in `slots` (a poll mask), writing the
/// eventfd of each whose slot was empty. Returns whether every one of them had the signal
/// pending already (coalesced). A full origin ring is counted as the sigqueue's is.
fn poll(slots: u64, bit: u64, rec: &Record) -> bool {
    let mut coalesced = true;
    let mut rest = slots;
    while rest != 0 {
        let i = rest.trailing_zeros() as usize;
        rest &= rest - 1;
        if let Some(slot) = POLLERS.get(i) {
            let d = slot.deliver(bit, rec, |fd| {
                let _ = sys::eventfd_add_one(fd);
            });
            coalesced &= d.coalesced;
            if d.origin_lost {
                counters::ORIGINS_LOST.bump(rec.signo as usize);
            }
        }
    }
    coalesced
}

/// Calls the pre-sigchan handler if it is a function; returns whether it was one.
fn call_original_function(sig: c_int, info: *mut siginfo_t, ctx: *mut c_void) -> bool {
    let h = original::handler(sig);
    if !sys::is_function(h) || h == entry_address() {
        return false;
    }
    if original::flags(sig) & libc::SA_SIGINFO as u64 != 0 {
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
fn original_action(sig: c_int, info: *mut siginfo_t, frame: Frame) -> Then {
    if called_by_a_newer_handler(sig) {
        return Then::Done;
    }
    match frame {
        Frame::Kernel(ctx) => {
            if call_original_function(sig, info, ctx) {
                return Then::Done;
            }
        }
        Frame::Taken => {
            if original::chains(sig) {
                return Then::GiveBack;
            }
        }
    }
    if original::handler(sig) == SIG_IGN {
        return Then::Done;
    }
    match default_action(sig) {
        DefaultAction::Ignore => Then::Done,
        // Stopping the process is what SIG_DFL does; SIGSTOP does it without touching the
        // disposition a concurrent `notify` may be installing.
        DefaultAction::Stop => {
            let _ = sys::kill(sys::getpid(), libc::SIGSTOP);
            Then::Done
        }
        DefaultAction::Terminate => die(sig, frame),
    }
}

/// True when the installed handler is a function that is neither sigchan's nor the one
/// sigchan chains to: someone installed it after sigchan, and it is calling us.
fn called_by_a_newer_handler(sig: c_int) -> bool {
    let Ok(current) = sys::sigaction_get(sig) else {
        return false;
    };
    let h = current.handler;
    sys::is_function(h) && h != entry_address() && h != original::handler(sig)
}

/// A kernel-generated SEGV/BUS/FPE/ILL/TRAP/SYS: the previous handler (Rust's stack-overflow
/// reporter, a crash reporter) gets it, else the default action kills the process. Ignoring
/// a fault would loop forever, so SIG_IGN also means death here, as the kernel does.
fn fault(sig: c_int, info: *mut siginfo_t, ctx: *mut c_void) {
    if !call_original_function(sig, info, ctx) {
        let _ = die(sig, Frame::Kernel(ctx));
    }
}

/// Dies by `sig` with its default action: restore SIG_DFL, unblock `sig` in the mask the
/// kernel restores when this handler returns, and queue `sig` to this thread. The kernel acts
/// on it as the handler returns, before the interrupted code runs again. Without a frame
/// (`take`): restore SIG_DFL; `take` gives the signal back to the kernel.
fn die(sig: c_int, frame: Frame) -> Then {
    let dfl = KernelSigaction {
        handler: SIG_DFL,
        flags: sys::SA_RESTORER,
        restorer: sys::restorer::address(),
        mask: 0,
    };
    // SAFETY: SIG_DFL with sigchan's own restorer, which issues rt_sigreturn.
    let _ = unsafe { sys::sigaction_set(sig, &dfl) };
    match frame {
        Frame::Kernel(ctx) => {
            // SAFETY: ctx is the kernel's ucontext for this handler's frame (or null); sig is
            // 1..=64.
            unsafe { ucontext::unblock_on_return(ctx, sig) };
            let _ = sys::tgkill(sys::getpid(), sys::gettid(), sig);
            Then::Done
        }
        Frame::Taken => Then::GiveBack,
    }
}
