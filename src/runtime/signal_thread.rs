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
//! call is in force and every signal queued before the call has been delivered. Called on
//! the signal thread itself (user code run after a delivery: a waker dropping a stream),
//! `sync()` runs steps 1 and 2 inline instead of waiting for itself.
//!
//! A thread belongs to one process: `OWNER` holds the pid that started it, so a child made
//! without the fork handlers (`syscall(SYS_fork)`, `clone`) sees it has none and starts one.

use crate::registry::{self, REGISTRY};
use crate::sync::lock;
use crate::{signal, sys, Error, QUEUE};
use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicI32, AtomicU64, AtomicUsize, Ordering::Relaxed, Ordering::SeqCst};
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

/// The pid of the process whose signal thread runs; 0 before the first one starts. A
/// different pid than ours means we are a child that has none yet.
static OWNER: AtomicI32 = AtomicI32::new(0);

/// Signals `init()` blocked in its caller; the signal thread keeps them unblocked, children
/// get them unblocked (`restore_signals`), `raise` unblocks them for its own thread.
static INIT_BLOCKED: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// True on the signal thread.
    static IS_SIGNAL_THREAD: Cell<bool> = const { Cell::new(false) };
    /// The mask the signal thread last applied.
    static APPLIED: Cell<Option<u64>> = const { Cell::new(None) };
}

/// Signals `init()` blocked (async-signal-safe: one load).
pub(crate) fn init_blocked() -> u64 {
    INIT_BLOCKED.load(SeqCst)
}

pub(crate) fn add_init_blocked(set: u64) {
    INIT_BLOCKED.fetch_or(set, SeqCst);
}

/// The pid whose signal thread runs, 0 if none ever did (async-signal-safe: one load).
pub(crate) fn owner_pid() -> i32 {
    OWNER.load(SeqCst)
}

/// True when this process has a signal thread of its own.
pub(crate) fn running_here() -> bool {
    OWNER.load(SeqCst) == sys::getpid()
}

/// The signal thread's tid (0 before it starts, and in a new process until it has one).
static SIGNAL_TID: AtomicI32 = AtomicI32::new(0);

/// Threads of this process, other than the caller and sigchan's own, that do not already
/// block every signal `init()` blocks: the ones that would go on taking signals. A helper
/// thread that blocks them all (as careful libraries' threads do, and qemu-user's own) does
/// not count. 0 when `/proc` cannot be read (the check is then skipped).
pub(crate) fn threads_taking_signals() -> usize {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    let me = sys::gettid();
    let signal_thread = if running_here() {
        SIGNAL_TID.load(SeqCst)
    } else {
        0
    };
    let blockable = blockable();
    tasks
        .filter_map(|t| t.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&tid| tid != me && tid != signal_thread)
        .filter(|&tid| settled_mask(tid).is_some_and(|mask| mask & blockable != blockable))
        .count()
}

/// The mask of `tid` once it is not starting: std and glibc block every signal, the fault
/// signals too, while they create a thread, and the new thread restores its mask within
/// microseconds. Such a mask is read again for up to 100 ms; one that stays is the
/// thread's own (it then takes no signal). `None` if the thread is gone.
fn settled_mask(tid: i32) -> Option<u64> {
    let faults = crate::SignalSet::catchable()
        .iter()
        .filter(|s| s.is_synchronous())
        .fold(0, |m, s| m | s.bit());
    let mut mask = blocked_by(tid)?;
    for _ in 0..100 {
        if mask & faults != faults {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
        mask = blocked_by(tid)?;
    }
    Some(mask)
}

/// The `SigBlk` mask of thread `tid` of this process.
fn blocked_by(tid: i32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/self/task/{tid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("SigBlk:"))?;
    u64::from_str_radix(line["SigBlk:".len()..].trim(), 16).ok()
}

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

/// Every signal `init()` blocks: not KILL/STOP (impossible), not the C library's reserved
/// ones (glibc relies on them reaching every thread), not the synchronous fault signals, and
/// not SIGPIPE: all of these are sent to the one thread that caused them, where a block
/// would leave them pending for ever.
pub(crate) fn blockable() -> u64 {
    crate::SignalSet::catchable()
        .iter()
        .filter(|s| !s.is_synchronous() && s.as_raw() != libc::SIGPIPE)
        .fold(0, |m, s| m | s.bit())
}

/// Asks the signal thread to keep `set` unblocked. Called with the registry locked, so
/// requests reach the thread in registry order.
pub(crate) fn set_unblocked(set: u64) {
    lock(&CONTROL).unblocked = set;
}

/// Starts the signal thread if this process has none (first use, or after `fork`); true
/// if it started one: the registry then re-arms what this process inherited.
/// Called with the registry locked, so two callers cannot both start one.
pub(crate) fn ensure_started() -> Result<bool, Error> {
    let pid = sys::getpid();
    let owner = OWNER.load(SeqCst);
    if owner == pid {
        return Ok(false);
    }
    if owner != 0 {
        // A child the fork handlers did not see (raw fork or clone): reset what they would.
        forget_parent_state();
    }
    register_fork_handlers();
    std::thread::Builder::new()
        .name("sigchan".into())
        .stack_size(STACK_SIZE)
        .spawn(run)
        .map_err(Error::Os)?;
    OWNER.store(pid, SeqCst);
    Ok(true)
}

/// In a new process: the signal thread, its stacks, in-flight counters, pending bits and
/// counters were the parent's. Also stops wanting every signal, so that until this process
/// starts a signal thread its handlers take each signal's original action (see `rearm`).
fn forget_parent_state() {
    OWNER.store(0, SeqCst);
    SIGNAL_TID.store(0, SeqCst);
    set_range(&STACK, 0, 0);
    set_range(&ALT_STACK, 0, 0);
    // With the signals blocked, so no handler in the child touches the queue meanwhile.
    if let Ok(before) = sys::mask_block(blockable()) {
        QUEUE.reset_after_fork();
        let _ = sys::mask_set(before);
    }
    crate::stats::reset_after_fork();
}

/// Waits until the signal thread has completed a full cycle that began after this call: the
/// requested mask is applied and everything queued before is delivered. Parks; never spins.
/// Must not be called with the registry locked (the cycle needs it).
pub(crate) fn sync() {
    if !running_here() {
        return;
    }
    if IS_SIGNAL_THREAD.with(Cell::get) {
        cycle();
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
    IS_SIGNAL_THREAD.with(|t| t.set(true));
    SIGNAL_TID.store(sys::gettid(), SeqCst);
    record_stacks();
    loop {
        let ticket = lock(&CONTROL).requested;
        // A panic here is a sigchan bug (user code is contained in `Deferred`); the thread
        // still lives on, or every later call would hang.
        let _ = std::panic::catch_unwind(cycle);
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

/// Steps 1 and 2 of a cycle: apply the requested mask, deliver what is pending.
fn cycle() {
    let unblocked = lock(&CONTROL).unblocked;
    if APPLIED.with(Cell::get) != Some(unblocked) {
        // Synchronous and reserved signals are never in `blockable`, so stay unblocked.
        let _ = sys::mask_set(blockable() & !unblocked);
        APPLIED.with(|a| a.set(Some(unblocked)));
    }
    // Records and lost counts ride on the pending bits (queue invariant 5): a cycle that
    // takes no bit has nothing to drain.
    let bits = QUEUE.take();
    if bits != 0 {
        registry::dispatch(signal::SignalSet::from_raw_mask(bits));
    }
}

/// `fork` copies only the calling thread. The prepare handler takes sigchan's locks so no
/// other thread holds them at the moment of the fork, and blocks the asynchronous signals on
/// the forking thread, so no handler runs in the child before it is set up. Both sides then
/// release the locks by dropping the guards and put the mask back. The child also forgets
/// the parent's signal thread, queue and counters (`forget_parent_state`): until it calls
/// sigchan again, each subscribed signal takes its original action there instead of waiting
/// for a thread that does not exist; its next call starts a thread and re-arms them.
///
/// The locks are std's futex mutexes on purpose: parking_lot's eventual fairness may hand a
/// lock being released to a thread parked on it, and in the child that thread does not
/// exist, so the lock would stay held forever (seen here as a deadlock after fork).
fn register_fork_handlers() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: the three functions are extern "C" with no arguments; they only take or
        // release sigchan's own mutexes, change the calling thread's mask and store atomics.
        unsafe {
            libc::pthread_atfork(
                Some(before_fork),
                Some(after_fork_parent),
                Some(after_fork_child),
            );
        }
    });
}

struct ForkState {
    _registry: MutexGuard<'static, registry::Registry>,
    _control: MutexGuard<'static, Control>,
    /// The forking thread's mask before the prepare handler blocked the signals.
    mask: Option<u64>,
}

thread_local! {
    /// What the prepare handler holds until the parent's or child's handler.
    /// All three handlers run on the forking thread.
    static FORK_STATE: RefCell<Option<ForkState>> = const { RefCell::new(None) };
}

extern "C" fn before_fork() {
    let registry = lock(&REGISTRY);
    let control = lock(&CONTROL);
    let mask = sys::mask_block(blockable()).ok();
    FORK_STATE.with(|g| {
        *g.borrow_mut() = Some(ForkState {
            _registry: registry,
            _control: control,
            mask,
        })
    });
}

extern "C" fn after_fork_parent() {
    if let Some(state) = FORK_STATE.with(|g| g.borrow_mut().take()) {
        if let Some(mask) = state.mask {
            let _ = sys::mask_set(mask);
        }
    }
}

extern "C" fn after_fork_child() {
    forget_parent_state();
    if let Some(state) = FORK_STATE.with(|g| g.borrow_mut().take()) {
        if let Some(mask) = state.mask {
            // In init() mode the forking thread blocks every asynchronous signal, and the
            // child has no signal thread until it calls sigchan: give this thread its
            // signals back, or TERM would stay pending and the child could not be stopped.
            // The child can call init() again to return to the masked-process mode.
            let _ = sys::mask_set(mask & !init_blocked());
        }
    }
}
