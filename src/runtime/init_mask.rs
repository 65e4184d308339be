//! The masked-process mode's masks: which signals `init()` blocks, which it did block, and
//! which threads of the process would still take signals.

use crate::sys;
use crate::types::signal::SignalSet;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};

/// Signals `init()` blocked in its caller; the signal thread keeps them unblocked, children
/// get them unblocked (`restore_signals`), `raise` unblocks them for its own thread.
static INIT_BLOCKED: AtomicU64 = AtomicU64::new(0);

/// Signals `init()` blocked (async-signal-safe: one load).
pub(crate) fn init_blocked() -> u64 {
    INIT_BLOCKED.load(SeqCst)
}

pub(crate) fn add_init_blocked(set: u64) {
    INIT_BLOCKED.fetch_or(set, SeqCst);
}

/// Every signal `init()` blocks: not KILL/STOP (impossible), not the C library's reserved
/// ones (glibc relies on them reaching every thread), not the synchronous fault signals, and
/// not SIGPIPE: all of these are sent to the one thread that caused them, where a block
/// would leave them pending for ever.
pub(crate) fn blockable() -> u64 {
    SignalSet::catchable()
        .iter()
        .filter(|s| !s.is_synchronous() && s.as_raw() != libc::SIGPIPE)
        .fold(0, |m, s| m | s.bit())
}

/// Threads of this process, other than the caller and `signal_thread` (sigchan's own, 0 if
/// none), that do not already block every signal `init()` blocks: the ones that would go on
/// taking signals. A helper thread that blocks them all (as careful libraries' threads do,
/// and qemu-user's own) does not count. 0 when `/proc` cannot be read (the check is then
/// skipped).
pub(crate) fn threads_taking_signals(signal_thread: i32) -> usize {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    let me = procfs_tid();
    let blockable = blockable();
    tasks
        .filter_map(|t| t.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&tid| tid != me && tid != signal_thread)
        .filter(|&tid| settled_mask(tid).is_some_and(|mask| mask & blockable != blockable))
        .count()
}

/// The calling thread's id as `/proc` names it. In a PID namespace whose `/proc` is the
/// parent's (`unshare --pid --fork` without `--mount-proc`, some containers) that differs
/// from `gettid()`, which answers in the caller's namespace: `/proc/thread-self` says which
/// it is. `gettid()` where that link cannot be read.
pub(crate) fn procfs_tid() -> i32 {
    std::fs::read_link("/proc/thread-self")
        .ok()
        .and_then(|p| p.file_name()?.to_str()?.parse().ok())
        .unwrap_or_else(sys::gettid)
}

/// The mask of `tid` once it is not starting: std and glibc block every signal, the fault
/// signals too, while they create a thread, and the new thread restores its mask within
/// microseconds. Such a mask is read again for up to 100 ms; one that stays is the
/// thread's own (it then takes no signal). `None` if the thread is gone.
fn settled_mask(tid: i32) -> Option<u64> {
    let faults = SignalSet::catchable()
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
