//! The signal thread: Go's `ensureSigM` and `signal_recv` loop in one thread.
//!
//! Started lazily by the first call that needs it, named `sigchan`, with the dispatch step
//! it runs (the registry's; this file never names the registry). Each cycle it
//! 1. applies the mask asked for (it unblocks exactly the subscribed signals plus those
//!    `init()` blocked elsewhere; everything else stays blocked here, as in Go), except the
//!    ones it takes itself (below), which it blocks,
//! 2. drains the sigqueue and hands the batch to the dispatch step,
//! 3. acknowledges the barrier requests it saw before step 2, and
//! 4. sleeps until a handler or an API call pokes it: on the queue's futex, or, while it
//!    takes signals itself, in `rt_sigtimedwait`, where a poke reaches it as a kick
//!    (`sigctx::receiver::kick`).
//!
//! **Taking signals without a frame.** A signal every other thread blocks (the ones `init()`
//! blocked, or that the thread which started this one had blocked, as a container init
//! does) can only reach this thread. When sigchan's handler is installed for it and chains
//! to no handler function, this thread blocks it too and takes it with `rt_sigtimedwait`,
//! handing it to the handler's own steps (`handler::take`): no signal frame, no
//! `rt_sigreturn`, no interrupted futex wait to restart. A forward is sent from the sleep
//! itself, without a cycle. Before such a signal is unblocked again (its last subscriber
//! left), the thread clears the kick and waits out every poke in flight (`wait_quiet`), then
//! takes what is pending of it, so no kick can reach it with its original disposition.
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
use crate::sigctx::handler::{self, Taken};
use crate::sigctx::{counters, receiver, SigDrain, QUEUE};
use crate::sys;
use crate::types::error::Error;
use std::cell::Cell;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering::SeqCst};
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
    /// Of those, the ones it may take itself (sigchan's handler installed, chaining to no
    /// handler function).
    takeable: u64,
    /// Barrier tickets requested and acknowledged.
    requested: u64,
    acknowledged: u64,
}

static CONTROL: Mutex<Control> = Mutex::new(Control {
    unblocked: 0,
    takeable: 0,
    requested: 0,
    acknowledged: 0,
});
static ACKED: Condvar = Condvar::new();

/// The signal thread's tid as `/proc` names it (0 before it starts, and in a new process
/// until it has one).
static SIGNAL_TID: AtomicI32 = AtomicI32::new(0);

/// The signals the thread that started the signal thread had blocked: a program that blocks
/// everything before its first sigchan call (a container init, as tini does) keeps them away
/// from every thread but the signal thread.
static STARTER_BLOCKED: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// On the signal thread, its dispatch step; `None` on every other thread.
    static DISPATCH: Cell<Option<Dispatch>> = const { Cell::new(None) };
    /// What the signal thread last applied: the requested `(unblocked, takeable)` and the
    /// signals it found it had to give back to the kernel (`GIVEN_BACK`) at the time.
    static APPLIED: Cell<Option<(u64, u64, u64)>> = const { Cell::new(None) };
    /// The signals the signal thread blocks and takes with `rt_sigtimedwait`.
    static TAKING: Cell<u64> = const { Cell::new(0) };
    /// Taken signals `handler::take` gave back to the kernel (another handler is installed
    /// over sigchan's): left to the kernel until the next request.
    static GIVEN_BACK: Cell<u64> = const { Cell::new(0) };
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

/// Asks the signal thread to keep `set` unblocked, taking those of `takeable` that no other
/// thread takes itself. Callers serialise their requests (the registry calls it under its
/// lock), so they reach the thread in order.
pub(crate) fn set_unblocked(set: u64, takeable: u64) {
    let mut c = lock(&CONTROL);
    c.unblocked = set;
    c.takeable = takeable & set;
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
    STARTER_BLOCKED.store(sys::mask_block(0).unwrap_or(0), SeqCst);
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
    // The kick names this thread as the kernel does in this process's namespace.
    let tid = sys::gettid();
    // The last ticket acknowledged by this thread: only a cycle that saw a newer request
    // takes the lock again to acknowledge it (one lock per cycle in the common case).
    let mut acked = 0;
    loop {
        let (ticket, unblocked, takeable) = {
            let c = lock(&CONTROL);
            (c.requested, c.unblocked, c.takeable)
        };
        // A panic here is a sigchan bug (user code is contained in `Deferred`); the thread
        // still lives on, or every later call would hang.
        let synced = ticket > acked;
        let _ = std::panic::catch_unwind(|| cycle_with(dispatch, unblocked, takeable, synced));
        if ticket > acked {
            let mut c = lock(&CONTROL);
            if c.acknowledged < ticket {
                c.acknowledged = ticket;
                ACKED.notify_all();
            }
            acked = ticket;
        }
        sleep(tid);
    }
}

/// Step 4: sleeps until something was sent or poked (the sigqueue's `wait`), taking the
/// signals of `TAKING` meanwhile if there are any.
fn sleep(tid: i32) {
    let taking = TAKING.with(Cell::get);
    if taking == 0 {
        receiver::set_kick(tid, 0);
        QUEUE.wait();
        return;
    }
    // Kicked with the lowest signal it takes: blocked here, so a kick waits pending for the
    // next `rt_sigtimedwait` even if it lands while this thread is awake.
    receiver::set_kick(tid, taking.trailing_zeros() as i32 + 1);
    // SAFETY: siginfo_t is plain data; all zeroes is a valid value.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    QUEUE.wait_with(|| {
        // EINTR: a handler ran on this thread (a signal it leaves to the kernel); the wait
        // looks at the sigqueue again either way.
        if let Ok(sig) = sys::sigtimedwait(taking, &mut info, true) {
            take(sig, &mut info);
        }
    });
}

/// `handler::take`, remembering a signal it had to give back to the kernel.
fn take(sig: i32, info: &mut libc::siginfo_t) -> Taken {
    let taken = handler::take(sig, info);
    if taken == Taken::Redelivered {
        GIVEN_BACK.with(|g| g.set(g.get() | 1 << (sig - 1)));
    }
    taken
}

/// Steps 1 and 2 of a cycle: apply the requested mask, deliver what is pending.
fn cycle(dispatch: Dispatch) {
    let (unblocked, takeable) = {
        let c = lock(&CONTROL);
        (c.unblocked, c.takeable)
    };
    cycle_with(dispatch, unblocked, takeable, true);
}

/// `cycle` with the request already read under the control lock. `synced`: a `sync` caller
/// waits for this cycle, which must then deliver every signal sent before its call too.
fn cycle_with(dispatch: Dispatch, unblocked: u64, takeable: u64, synced: bool) {
    let applied = APPLIED.with(Cell::get);
    if applied.is_some_and(|(u, t, _)| (u, t) != (unblocked, takeable)) {
        // A new request: what another handler held may be sigchan's again.
        GIVEN_BACK.with(|g| g.set(0));
    }
    let given_back = GIVEN_BACK.with(Cell::get);
    if applied != Some((unblocked, takeable, given_back)) {
        apply_mask(unblocked, takeable & !given_back);
        APPLIED.with(|a| a.set(Some((unblocked, takeable, given_back))));
    }
    if synced {
        take_pending();
    }
    // Records and lost counts ride on the pending bits (queue invariant 5): a cycle that
    // takes no bit has nothing to deliver.
    let drained = QUEUE.drain();
    if drained.signals != 0 {
        dispatch(drained);
    }
}

/// Takes every signal of `TAKING` already pending. A handler would have run for each as soon
/// as this thread returned to user space; a taken signal waits for the next
/// `rt_sigtimedwait`, and the kernel hands out a kick (queued to this thread) before a
/// signal pending for the whole process.
fn take_pending() {
    let taking = TAKING.with(Cell::get);
    if taking == 0 {
        return;
    }
    // SAFETY: siginfo_t is plain data; all zeroes is a valid value.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    while let Ok(sig) = sys::sigtimedwait(taking, &mut info, false) {
        take(sig, &mut info);
    }
}

/// Unblocks `unblocked` but the signals it takes itself, which it blocks: those of
/// `takeable` no other thread takes (`init()` or the starting thread blocked them).
fn apply_mask(unblocked: u64, takeable: u64) {
    let taking = takeable & (init_blocked() | STARTER_BLOCKED.load(SeqCst)) & blockable();
    let leaving = TAKING.with(Cell::get) & !taking;
    if leaving != 0 {
        // No kick may arrive once these are unblocked: pause kicks (the next sleep arms its
        // own), then take what is pending of them (kicks, and arrivals handled as the handler
        // would).
        receiver::pause_kicks();
        // SAFETY: siginfo_t is plain data; all zeroes is a valid value.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        while let Ok(sig) = sys::sigtimedwait(leaving, &mut info, false) {
            handler::take(sig, &mut info);
        }
    }
    // Synchronous and reserved signals are never in `blockable`, so stay unblocked.
    let _ = sys::mask_set(blockable() & !(unblocked & !taking));
    TAKING.with(|t| t.set(taking));
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
