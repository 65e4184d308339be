//! The runtime: everything that runs on ordinary threads to serve the API (Go's `os/signal`
//! package, which owns the loop). The signal thread drains the sigqueue and hands each batch
//! to the dispatch step it was given when it started; the registry, which gives it that step,
//! keeps the subscribers and the dispositions; sinks are where deliveries go.
//!
//! Imports go one way: this folder uses `crate::sys`, `crate::sigctx` and `crate::types`,
//! never the API above it; inside it, `registry` uses `signal_thread`, `init_mask`, `sink`
//! and `deferred`, and `signal_thread` uses `init_mask` only (`tests/layering.rs`).

pub(crate) mod deferred;
pub(crate) mod init_mask;
pub(crate) mod registry;
pub(crate) mod signal_thread;
pub(crate) mod sink;

/// Locks a std mutex, ignoring poison: sigchan's critical sections restore their invariants
/// before anything that can panic, and a signal runtime must keep working after a panic.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    let guard = m.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    // A protocol step: the window-widening build delays here (`sync::jitter`).
    crate::sigctx::sync::jitter();
    guard
}
