//! The signal thread: Go's `ensureSigM` and `signal_recv` loop in one thread.
//!
//! Started lazily by the first call that needs it, named `sigchan`. Each cycle it
//! 1. applies the mask the registry asked for (it unblocks exactly the subscribed signals plus
//!    those `init()` blocked elsewhere; everything else stays blocked here, as in Go),
//! 2. takes the pending bits and delivers them (`registry::dispatch`),
//! 3. acknowledges the barrier requests it saw before step 2, and
//! 4. sleeps on the queue's futex until a handler or an API call pokes it.
//!
//! It never polls and never uses a timeout: idle, it costs no CPU.
//! `sync()` is the handshake with it: after `sync()` returns, the mask requested before the
//! call is in force and every signal queued before the call has been delivered.

use crate::registry::{self, REGISTRY};
use crate::sync::lock;
use crate::{signal, sys, Error, QUEUE};
use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed, Ordering::SeqCst};
use std::sync::{Condvar, Mutex, MutexGuard, Once};

/// Stack of the signal thread: it only moves bits into channels, but handlers (sigchan's and
/// any chained one) may run on it when it is the only unblocked thread.
const STACK_SIZE: usize = 128 * 1024;

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

/// True while this process has a signal thread (cleared in a forked child).
static RUNNING: AtomicBool = AtomicBool::new(false);

/// The signal thread's stack and alternate signal stack, as `[low, high)` address ranges,
/// so the handler can tell from a local's address, without a syscall, that it interrupted
/// the signal thread (then the sigqueue's futex wake is not needed). Empty until set.
static STACK: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];
static ALT_STACK: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];

/// Async-signal-safe: four relaxed loads. A stale answer after `fork` (the child's new
/// signal thread has other stacks) is impossible: the child clears the ranges first.
pub(crate) fn is_signal_thread_stack(addr: usize) -> bool {
    let within = |r: &[AtomicUsize; 2]| (r[0].load(Relaxed)..r[1].load(Relaxed)).contains(&addr);
    within(&STACK) || within(&ALT_STACK)
}

fn set_range(r: &[AtomicUsize; 2], low: usize, high: usize) {
    r[0].store(low, Relaxed);
    r[1].store(high, Relaxed);
}

/// Records the calling thread's stacks (see `STACK`): the stack glibc allocated for it (as
/// `pthread_getattr_np` reports it) and the alternate stack std installed for it, if any.
/// If either query fails, that range stays empty and the handler simply always wakes.
fn record_stacks() {
    // SAFETY: pthread_getattr_np fills an attr for the calling thread, which we query and
    // destroy; both out-pointers are valid locals.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) == 0 {
            let mut addr: *mut libc::c_void = std::ptr::null_mut();
            let mut size: libc::size_t = 0;
            if libc::pthread_attr_getstack(&attr, &mut addr, &mut size) == 0 && !addr.is_null() {
                set_range(&STACK, addr as usize, addr as usize + size);
            }
            libc::pthread_attr_destroy(&mut attr);
        }
    }
    // SAFETY: querying (null new stack) into a zeroed stack_t.
    let mut ss: libc::stack_t = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::sigaltstack(std::ptr::null(), &mut ss) } == 0
        && ss.ss_flags & libc::SS_DISABLE == 0
        && !ss.ss_sp.is_null()
    {
        let low = ss.ss_sp as usize;
        set_range(&ALT_STACK, low, low + ss.ss_size);
    }
}

/// Every signal a thread may block: not KILL/STOP (impossible), not the C library's reserved
/// ones (glibc relies on them reaching every thread), not the synchronous fault signals.
pub(crate) fn blockable() -> u64 {
    crate::SignalSet::catchable()
        .iter()
        .filter(|s| !s.is_synchronous())
        .fold(0, |m, s| m | s.bit())
}

/// Asks the signal thread to keep `set` unblocked. Called with the registry locked, so
/// requests reach the thread in registry order.
pub(crate) fn set_unblocked(set: u64) {
    lock(&CONTROL).unblocked = set;
}

/// Starts the signal thread if this process has none (first use, or after `fork`).
/// Called with the registry locked, so two callers cannot both start one.
pub(crate) fn ensure_started() -> Result<(), Error> {
    if RUNNING.load(SeqCst) {
        return Ok(());
    }
    register_fork_handlers();
    std::thread::Builder::new()
        .name("sigchan".into())
        .stack_size(STACK_SIZE)
        .spawn(run)
        .map_err(Error::Os)?;
    RUNNING.store(true, SeqCst);
    Ok(())
}

/// Waits until the signal thread has completed a full cycle that began after this call: the
/// requested mask is applied and everything queued before is delivered. Parks; never spins.
/// Must not be called with the registry locked (the cycle needs it).
pub(crate) fn sync() {
    if !RUNNING.load(SeqCst) {
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

fn run() {
    let blockable = blockable();
    record_stacks();
    let mut applied: Option<u64> = None;
    loop {
        let (unblocked, ticket) = {
            let c = lock(&CONTROL);
            (c.unblocked, c.requested)
        };
        if applied != Some(unblocked) {
            // Synchronous and reserved signals are never in `blockable`, so stay unblocked.
            let _ = sys::mask_set(blockable & !unblocked);
            applied = Some(unblocked);
        }
        // Records and lost marks ride on the pending bits (queue invariant 5): a cycle that
        // takes no bit has nothing to drain.
        let bits = QUEUE.take();
        if bits != 0 {
            registry::dispatch(signal::SignalSet::from_raw_mask(bits));
        }
        {
            let mut c = lock(&CONTROL);
            if c.acknowledged < ticket {
                c.acknowledged = ticket;
                ACKED.notify_all();
            }
        }
        QUEUE.wait();
    }
}

/// `fork` copies only the calling thread. The prepare handler takes sigchan's locks so no
/// other thread holds them at the moment of the fork; both sides then release them by
/// dropping the guards; the child also forgets the signal thread (the next sigchan call
/// starts a new one) and resets the queue's in-flight counters, which counted threads that
/// do not exist in the child.
///
/// The locks are std's futex mutexes on purpose: parking_lot's eventual fairness may hand a
/// lock being released to a thread parked on it, and in the child that thread does not
/// exist, so the lock would stay held forever (seen here as a deadlock after fork).
fn register_fork_handlers() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: the three functions are extern "C" with no arguments; they only take or
        // release sigchan's own mutexes and store atomics.
        unsafe {
            libc::pthread_atfork(
                Some(before_fork),
                Some(after_fork_parent),
                Some(after_fork_child),
            );
        }
    });
}

type ForkGuards = (
    MutexGuard<'static, registry::Registry>,
    MutexGuard<'static, Control>,
);

thread_local! {
    /// The locks held across `fork`, from the prepare handler to the parent's or child's.
    /// All three handlers run on the forking thread.
    static FORK_GUARDS: RefCell<Option<ForkGuards>> = const { RefCell::new(None) };
}

extern "C" fn before_fork() {
    let guards = (lock(&REGISTRY), lock(&CONTROL));
    FORK_GUARDS.with(|g| *g.borrow_mut() = Some(guards));
}

extern "C" fn after_fork_parent() {
    FORK_GUARDS.with(|g| drop(g.borrow_mut().take()));
}

extern "C" fn after_fork_child() {
    RUNNING.store(false, SeqCst);
    set_range(&STACK, 0, 0);
    set_range(&ALT_STACK, 0, 0);
    // With every signal blocked, so no handler in the child pushes into the ring meanwhile.
    if let Ok(before) = sys::mask_block(!0) {
        QUEUE.reset_after_fork();
        let _ = sys::mask_set(before);
    }
    FORK_GUARDS.with(|g| {
        if let Some((reg, _)) = g.borrow_mut().take() {
            // In init() mode the forking thread blocks every asynchronous signal, and the
            // child has no signal thread until it calls sigchan: give this thread its
            // signals back, or TERM would stay pending and the child could not be stopped.
            // The child can call init() again to return to the masked-process mode.
            let _ = sys::mask_unblock(reg.init_blocked());
        }
    });
}
