//! The dispositions sigchan falls back to: for each signal, the action it had before sigchan
//! first touched it (or, after another library replaced a disposition sigchan had given
//! back, the handler sigchan then chains to). The one copy: the registry writes it under its
//! lock and reads it to restore; the handler reads it to chain or to take the original
//! action.
//!
//! Each field is its own atomic. The registry writes every field, then `SAVED` with Release;
//! the handler reads `HANDLER` with Acquire and then `FLAGS`, so a handler that sees a new
//! handler address sees its flags too.

use crate::sys::signo::TABLE_LEN;
use crate::sys::KernelSigaction;
use std::sync::atomic::{
    AtomicBool, AtomicU64, AtomicUsize, Ordering::Acquire, Ordering::Relaxed, Ordering::Release,
};

static SAVED: [AtomicBool; TABLE_LEN] = [const { AtomicBool::new(false) }; TABLE_LEN];
static HANDLER: [AtomicUsize; TABLE_LEN] = [const { AtomicUsize::new(0) }; TABLE_LEN];
static FLAGS: [AtomicU64; TABLE_LEN] = [const { AtomicU64::new(0) }; TABLE_LEN];
static RESTORER: [AtomicUsize; TABLE_LEN] = [const { AtomicUsize::new(0) }; TABLE_LEN];
static MASK: [AtomicU64; TABLE_LEN] = [const { AtomicU64::new(0) }; TABLE_LEN];

/// Records `act` as the action of `sig` to fall back to. Registry only, under its lock.
pub(crate) fn save(sig: i32, act: &KernelSigaction) {
    let i = sig as usize;
    FLAGS[i].store(act.flags, Relaxed);
    RESTORER[i].store(act.restorer, Relaxed);
    MASK[i].store(act.mask, Relaxed);
    HANDLER[i].store(act.handler, Release);
    SAVED[i].store(true, Release);
}

/// The saved action of `sig`, `None` if sigchan never touched it. Registry only.
pub(crate) fn get(sig: i32) -> Option<KernelSigaction> {
    let i = sig as usize;
    SAVED[i].load(Acquire).then(|| KernelSigaction {
        handler: HANDLER[i].load(Acquire),
        flags: FLAGS[i].load(Relaxed),
        restorer: RESTORER[i].load(Relaxed),
        mask: MASK[i].load(Relaxed),
    })
}

/// The saved handler address of `sig` (`SIG_DFL` if none was saved, or `sig` is out of
/// range). Async-signal-safe: no bounds-check panic path.
pub(crate) fn handler(sig: i32) -> usize {
    HANDLER
        .get(sig as usize)
        .map_or(crate::sys::SIG_DFL, |h| h.load(Acquire))
}

/// Whether the saved action of `sig` is a handler function, which sigchan chains to.
/// Async-signal-safe, as `handler`.
pub(crate) fn chains(sig: i32) -> bool {
    crate::sys::is_function(handler(sig))
}

/// The saved flags of `sig`; read after `handler`. Async-signal-safe, as `handler`.
pub(crate) fn flags(sig: i32) -> u64 {
    FLAGS.get(sig as usize).map_or(0, |f| f.load(Relaxed))
}
