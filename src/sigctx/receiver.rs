//! The signal thread as the handler sees it: which process owns it, where its stacks are,
//! and how to wake it while it takes signals with `rt_sigtimedwait` (the kick). The runtime
//! writes these when it starts the thread (and clears them in a forked child); the handler
//! reads them with plain loads.

use crate::sys::pthread::Range;
use crate::sys::{self, QueuedSiginfo, SI_QUEUE};
use std::sync::atomic::{AtomicI32, AtomicU64, AtomicUsize, Ordering::Relaxed, Ordering::SeqCst};

/// The pid of the process whose signal thread runs; 0 before the first one starts. A
/// different pid than ours means we are a child that has none yet.
static OWNER: AtomicI32 = AtomicI32::new(0);

/// The signal thread's stack and alternate signal stack, as `[low, high)` address ranges,
/// so the handler can tell from a local's address, without a syscall, that it interrupted
/// the signal thread (then the sigqueue's futex wake is not needed). Empty until set.
static STACK: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];
static ALT_STACK: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];

/// While the signal thread sleeps in `rt_sigtimedwait` (it takes the signals every other
/// thread blocks without a handler frame), the futex wake does not reach it: a sender that
/// ends its sleep queues it a signal it waits for instead, the kick. `tid << 32 | signal`;
/// 0 while it sleeps on the sigqueue's futex (or none runs). Written by the signal thread
/// before each sleep (before the sigqueue's `IDLE -> RECEIVING`, so the sender that ends that
/// sleep, reading after its own `RECEIVING -> IDLE`, sees this sleep's value).
static KICK: AtomicU64 = AtomicU64::new(0);

/// What a kick carries in `si_value`, with `SI_QUEUE` and this process's pid: an arrival
/// that looks like this is a kick, not a signal for anyone.
const KICK_COOKIE: usize = 0x6b69_636b;

/// The pid whose signal thread runs, 0 if none ever did. Async-signal-safe: one load.
pub(crate) fn owner_pid() -> i32 {
    OWNER.load(SeqCst)
}

/// Records that process `pid` now has a signal thread.
pub(crate) fn set_owner(pid: i32) {
    OWNER.store(pid, SeqCst);
}

/// Async-signal-safe: four relaxed loads. A stale answer after `fork` (the child's new
/// signal thread has other stacks) is impossible: the child clears the ranges first.
pub(crate) fn is_signal_thread_stack(addr: usize) -> bool {
    let within = |r: &[AtomicUsize; 2]| (r[0].load(Relaxed)..r[1].load(Relaxed)).contains(&addr);
    within(&STACK) || within(&ALT_STACK)
}

/// Records the signal thread's stacks; a `None` range stays empty (the handler then
/// simply always wakes the thread).
pub(crate) fn set_stacks(stack: Option<Range>, alt: Option<Range>) {
    set_range(&STACK, stack.unwrap_or((0, 0)));
    set_range(&ALT_STACK, alt.unwrap_or((0, 0)));
}

/// The signal thread (thread `tid`) will sleep in `rt_sigtimedwait` for a set holding
/// `sig`; `sig` 0: it will sleep on the futex.
pub(crate) fn set_kick(tid: i32, sig: i32) {
    let kick = if sig == 0 {
        0
    } else {
        (tid as u32 as u64) << 32 | sig as u32 as u64
    };
    KICK.store(kick, SeqCst);
}

/// Stops kicking and waits out every poke that may have read the kick before (a poke counts
/// itself in the sigqueue's `delivering`): from its return until `resume_kicks` (or the
/// next sleep's `set_kick`), no kick can land; a sender that ends the sleep meanwhile only
/// changes the sigqueue's state, which the signal thread looks at before it sleeps again.
/// Returns the kick to restore. Signal thread only, before it unblocks a signal it takes
/// (`wait_quiet` may sleep).
pub(crate) fn pause_kicks() -> u64 {
    let saved = KICK.swap(0, SeqCst);
    super::QUEUE.wait_quiet();
    saved
}

/// Kicks again as before `pause_kicks` (which returned `saved`).
pub(crate) fn resume_kicks(saved: u64) {
    KICK.store(saved, SeqCst);
}

/// Wakes the signal thread if it sleeps in `rt_sigtimedwait`: queues it the kick. Returns
/// false (and does nothing) when it sleeps on the futex instead. Async-signal-safe: one
/// load and two raw system calls. Callers count themselves in the sigqueue's `delivering`,
/// so the signal thread can wait out a kick in flight before it unblocks the kick's signal.
pub(crate) fn kick() -> bool {
    let kick = KICK.load(SeqCst);
    if kick == 0 {
        return false;
    }
    let (tid, sig) = ((kick >> 32) as i32, (kick & 0xff) as i32);
    let pid = sys::getpid();
    let info = QueuedSiginfo::new(sig, pid, 0, KICK_COOKIE);
    // SAFETY: info is a live 128-byte siginfo_t in the kernel's layout (`QueuedSiginfo`).
    // A kick that fails (the thread is gone) has no one to wake.
    let _ = unsafe { sys::tgsigqueueinfo(pid, tid, sig, &info as *const _ as *const _) };
    true
}

/// Whether `info` is a kick (see `kick`) rather than an arrival.
pub(crate) fn is_kick(info: &libc::siginfo_t) -> bool {
    if info.si_code != SI_QUEUE {
        return false;
    }
    // SAFETY: an SI_QUEUE siginfo carries si_pid and si_value (the `kill`/`rt` union arm).
    let (pid, value) = unsafe { (info.si_pid(), info.si_value().sival_ptr as usize) };
    value == KICK_COOKIE && pid == sys::getpid()
}

/// In a new process: the signal thread and its stacks were the parent's.
pub(crate) fn forget() {
    OWNER.store(0, SeqCst);
    KICK.store(0, SeqCst);
    set_stacks(None, None);
}

fn set_range(r: &[AtomicUsize; 2], (low, high): Range) {
    r[0].store(low, Relaxed);
    r[1].store(high, Relaxed);
}
