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

/// `PF_EXITING` in `/proc/.../stat`'s flags: set when a thread starts to exit, before a
/// `join` of it returns.
const PF_EXITING: u64 = 0x4;

/// The `SigBlk` mask of thread `tid` of this process; `None` if it is gone or exiting. A
/// thread that is exiting takes no signal (the kernel never picks it), yet stays listed for a
/// moment after a `join` of it returned, and once the kernel has detached its signal state
/// its status reads `Threads: 0` and an empty `SigBlk`, a thread taking every signal.
fn blocked_by(tid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).ok()?;
    let status = std::fs::read_to_string(format!("/proc/self/task/{tid}/status")).ok()?;
    live_mask(&stat, &status)
}

/// `blocked_by` on the texts of a thread's `stat` and `status` (`stat` read first: a thread
/// that starts to exit between the two reads shows in `status` as `Threads: 0`).
fn live_mask(stat: &str, status: &str) -> Option<u64> {
    // After the command name, which may hold spaces and parentheses: state, ppid, pgrp,
    // session, tty_nr, tpgid, flags.
    let flags: u64 = stat
        .rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(6)?
        .parse()
        .ok()?;
    if flags & PF_EXITING != 0 {
        return None;
    }
    let field = |name: &str| {
        let line = status.lines().find(|l| l.starts_with(name))?;
        Some(line[name.len()..].trim())
    };
    if field("Threads:")? == "0" {
        return None;
    }
    u64::from_str_radix(field("SigBlk:")?, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::live_mask;

    /// A thread's `stat` with these flags (its name has a space and a parenthesis).
    fn stat(flags: u64) -> String {
        format!("4242 (a (b) c) S 4240 4240 4240 0 -1 {flags} 0 0 0 0 1 2 0 0 20 0 1 0")
    }

    fn status(threads: u32, blocked: &str) -> String {
        format!("Name:\ta (b) c\nState:\tS (sleeping)\nThreads:\t{threads}\nSigBlk:\t{blocked}\n")
    }

    #[test]
    fn a_live_thread_reports_its_mask() {
        let s = status(3, "fffffffe7ffbfeff");
        assert_eq!(live_mask(&stat(0x40_4040), &s), Some(0xffff_fffe_7ffb_feff));
        assert_eq!(
            live_mask(&stat(0x40_4040), &status(3, "0000000000000000")),
            Some(0)
        );
    }

    /// What `/proc` can show for a moment of a thread a `join` already returned for:
    /// exiting, or with its signal state detached.
    #[test]
    fn an_exiting_or_detached_thread_reports_nothing() {
        let blocked = status(3, "fffffffe7ffbfeff");
        assert_eq!(live_mask(&stat(0x40_4044), &blocked), None, "PF_EXITING");
        let detached = status(0, "0000000000000000");
        assert_eq!(live_mask(&stat(0x40_4040), &detached), None, "Threads: 0");
    }
}
