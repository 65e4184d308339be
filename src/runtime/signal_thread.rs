//! The signal thread: Go's `ensureSigM` and `signal_recv` loop in one thread.
//!
//! Started lazily by the first call that needs it, named `sigchan`, with the dispatch step
//! it runs (the registry's; this file never names the registry). Each cycle it
//! 1. applies the mask asked for (it unblocks exactly the subscribed signals plus those
//!    `init()` blocked elsewhere; everything else stays blocked here, as in Go),
//! 2. drains the sigqueue and hands the batch to the dispatch step,
//! 3. acknowledges the barrier requests it saw before step 2, and
//! 4. sleeps on the queue's futex until a handler or an API call pokes it.
//!
//! It never polls and never uses a timeout: idle, it costs no CPU.
//! `sync()` is the handshake with it: after `sync()` returns, the mask requested before the
//! call is in force and every signal queued before the call has been delivered. Called on
//! the signal thread itself (user code run after a delivery: a waker dropping a stream),
//! `sync()` runs steps 1 and 2 inline instead of waiting for itself.
//!
//! A thread belongs to one process: `receiver::owner_pid()` holds the pid that started it,
//! so a child made without the fork handlers (`syscall(SYS_fork)`, `clone`) sees it has none
//! and starts one.

use super::init_mask::{blockable, init_blocked, procfs_tid};
use super::lock;
use crate::sigctx::{counters, receiver, SigDrain, QUEUE};
use crate::sys;
use crate::types::error::Error;
use std::cell::Cell;
use std::sync::atomic::{AtomicI32, Ordering::SeqCst};
use std::sync::{Condvar, Mutex, MutexGuard};

/// Stack of the signal thread: it only moves bits into channels, but handlers (sigchan's and
/// any chained one) may run on it when it is the only unblocked thread.
const STACK_SIZE: usize = 128 * 1024;

/// What each cycle does with what it drained: deliver it. Given when the thread starts.
pub(crate) type Dispatch = fn(SigDrain<'_>);

/// What API calls ask of the signal thread, under one lock.
struct Control {
    /// Signals the signal thread must keep unblocked (bit n-1 = signal n).
    unblocked: u64,
    /// Barrier tickets requested and acknowledged.
    requested: u64,
    acknowledged: u64,
}

static CONTROL: Mutex<Control> = Mutex::new(Control {
    unblocked: 0,
    requested: 0,
    acknowledged: 0,
});
static ACKED: Condvar = Condvar::new();

/// The signal thread's tid as `/proc` names it (0 before it starts, and in a new process
/// until it has one).
static SIGNAL_TID: AtomicI32 = AtomicI32::new(0);

thread_local! {
    /// On the signal thread, its dispatch step; `None` on every other thread.
    static DISPATCH: Cell<Option<Dispatch>> = const { Cell::new(None) };
    /// The mask the signal thread last applied.
    static APPLIED: Cell<Option<u64>> = const { Cell::new(None) };
}

/// True when this process has a signal thread of its own.
pub(crate) fn running_here() -> bool {
    receiver::owner_pid() == sys::getpid()
}

/// The tid of this process's signal thread, 0 if it has none.
pub(crate) fn tid_here() -> i32 {
    if running_here() {
        SIGNAL_TID.load(SeqCst)
    } else {
        0
    }
}

/// Asks the signal thread to keep `set` unblocked. Callers serialise their requests (the
/// registry calls it under its lock), so they reach the thread in order.
pub(crate) fn set_unblocked(set: u64) {
    lock(&CONTROL).unblocked = set;
}

/// Starts the signal thread, running `dispatch`, if this process has none (first use, or
/// after `fork`); true if it started one: the caller then re-arms what this process
/// inherited. Callers serialise (the registry's lock), so two cannot both start one.
pub(crate) fn ensure_started(dispatch: Dispatch) -> Result<bool, Error> {
    let pid = sys::getpid();
    let owner = receiver::owner_pid();
    if owner == pid {
        return Ok(false);
    }
    if owner != 0 {
        // A child the fork handlers did not see (raw fork or clone): reset what they would.
        forget_parent_state();
    }
    // Not `std::thread`: see `spawn_detached` (a child of a multi-threaded parent).
    sys::pthread::spawn_detached(c"sigchan", STACK_SIZE, Box::new(move || run(dispatch)))
        .map_err(Error::Os)?;
    receiver::set_owner(pid);
    Ok(true)
}

/// In a new process: the signal thread, its stacks, in-flight counters, pending bits and
/// counters were the parent's. Also stops wanting every signal, so that until this process
/// starts a signal thread its handlers take each signal's original action (the registry
/// re-arms them when it starts one).
fn forget_parent_state() {
    receiver::forget();
    SIGNAL_TID.store(0, SeqCst);
    // With the signals blocked, so no handler in the child touches the queue meanwhile.
    if let Ok(before) = sys::mask_block(blockable()) {
        QUEUE.reset_after_fork();
        let _ = sys::mask_set(before);
    }
    counters::reset_after_fork();
}

/// Waits until the signal thread has completed a full cycle that began after this call: the
/// requested mask is applied and everything queued before is delivered. Parks; never spins.
/// Must not be called with a lock the dispatch step takes.
pub(crate) fn sync() {
    if !running_here() {
        return;
    }
    if let Some(dispatch) = DISPATCH.with(Cell::get) {
        cycle(dispatch);
        return;
    }
    let ticket = {
        let mut c = lock(&CONTROL);
        c.requested += 1;
        c.requested
    };
    QUEUE.poke();
    let mut c = lock(&CONTROL);
    while c.acknowledged < ticket {
        c = ACKED
            .wait(c)
            .unwrap_or_else(std::sync::PoisonError::into_inner);
    }
}

fn run(dispatch: Dispatch) -> ! {
    DISPATCH.with(|d| d.set(Some(dispatch)));
    SIGNAL_TID.store(procfs_tid(), SeqCst);
    receiver::set_stacks(
        sys::pthread::current_stack(),
        sys::pthread::current_alt_stack(),
    );
    // The last ticket acknowledged by this thread: only a cycle that saw a newer request
    // takes the lock again to acknowledge it (one lock per cycle in the common case).
    let mut acked = 0;
    loop {
        let (ticket, unblocked) = {
            let c = lock(&CONTROL);
            (c.requested, c.unblocked)
        };
        // A panic here is a sigchan bug (user code is contained in `Deferred`); the thread
        // still lives on, or every later call would hang.
        let _ = std::panic::catch_unwind(|| cycle_with(dispatch, unblocked));
        if ticket > acked {
            let mut c = lock(&CONTROL);
            if c.acknowledged < ticket {
                c.acknowledged = ticket;
                ACKED.notify_all();
            }
            acked = ticket;
        }
        QUEUE.wait();
    }
}

/// Steps 1 and 2 of a cycle: apply the requested mask, deliver what is pending.
fn cycle(dispatch: Dispatch) {
    let unblocked = lock(&CONTROL).unblocked;
    cycle_with(dispatch, unblocked);
}

/// `cycle` with the mask already read under the control lock.
fn cycle_with(dispatch: Dispatch, unblocked: u64) {
    if APPLIED.with(Cell::get) != Some(unblocked) {
        // Synchronous and reserved signals are never in `blockable`, so stay unblocked.
        let _ = sys::mask_set(blockable() & !unblocked);
        APPLIED.with(|a| a.set(Some(unblocked)));
    }
    // Records and lost counts ride on the pending bits (queue invariant 5): a cycle that
    // takes no bit has nothing to deliver.
    let drained = QUEUE.drain();
    if drained.signals != 0 {
        dispatch(drained);
    }
}

/// The signal thread's part of a fork, held from the prepare handler to the parent's or
/// child's (the registry's fork handlers, which take its own lock first, call these).
pub(crate) struct ForkHold {
    _control: MutexGuard<'static, Control>,
    /// The forking thread's mask before `before_fork` blocked the signals.
    mask: Option<u64>,
}

/// Prepare: takes the control lock so no other thread holds it at the fork, and blocks the
/// asynchronous signals on the forking thread, so no handler runs in the child before it
/// is set up.
pub(crate) fn before_fork() -> ForkHold {
    let control = lock(&CONTROL);
    ForkHold {
        _control: control,
        mask: sys::mask_block(blockable()).ok(),
    }
}

/// Parent: puts the mask back and releases the lock.
pub(crate) fn after_fork_in_parent(hold: ForkHold) {
    if let Some(mask) = hold.mask {
        let _ = sys::mask_set(mask);
    }
}

/// Child: forgets the parent's signal thread, queue and counters (until it calls sigchan
/// again, each subscribed signal takes its original action here instead of waiting for a
/// thread that does not exist), then puts the mask back and releases the lock.
pub(crate) fn after_fork_in_child(hold: ForkHold) {
    forget_parent_state();
    if let Some(mask) = hold.mask {
        // In init() mode the forking thread blocks every asynchronous signal, and the
        // child has no signal thread until it calls sigchan: give this thread its
        // signals back, or TERM would stay pending and the child could not be stopped.
        // The child can call init() again to return to the masked-process mode.
        let _ = sys::mask_set(mask & !init_blocked());
    }
}
