//! The signal thread as the handler sees it: which process owns it, and where its stacks
//! are. The runtime writes these when it starts the thread (and clears them in a forked
//! child); the handler reads them with plain relaxed loads.

use crate::sys::pthread::Range;
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering::Relaxed, Ordering::SeqCst};

/// The pid of the process whose signal thread runs; 0 before the first one starts. A
/// different pid than ours means we are a child that has none yet.
static OWNER: AtomicI32 = AtomicI32::new(0);

/// The signal thread's stack and alternate signal stack, as `[low, high)` address ranges,
/// so the handler can tell from a local's address, without a syscall, that it interrupted
/// the signal thread (then the sigqueue's futex wake is not needed). Empty until set.
static STACK: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];
static ALT_STACK: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];

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

/// In a new process: the signal thread and its stacks were the parent's.
pub(crate) fn forget() {
    OWNER.store(0, SeqCst);
    set_stacks(None, None);
}

fn set_range(r: &[AtomicUsize; 2], (low, high): Range) {
    r[0].store(low, Relaxed);
    r[1].store(high, Relaxed);
}
