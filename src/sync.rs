//! The atomics and futex the sigqueue is written against.
//!
//! Also the lock helper for the registry's and the signal thread's std mutexes.
//!
//! Normally std's atomics and the raw futex syscall; under `--cfg loom` loom's atomics and a
//! futex model (a wait may return spuriously, which every caller tolerates), so the same queue
//! code is model-checked.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU32, AtomicU64, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// Locks a std mutex, ignoring poison: sigchan's critical sections restore their invariants
/// before anything that can panic, and a signal runtime must keep working after a panic.
#[cfg(not(loom))]
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Sleeps while `word == expected`; may return early for any reason.
#[cfg(not(loom))]
#[inline]
pub(crate) fn futex_wait(word: &AtomicU32, expected: u32) {
    crate::sys::futex_wait(word.as_ptr(), expected);
}

/// Wakes every thread sleeping in `futex_wait` on `word`.
#[cfg(not(loom))]
#[inline]
pub(crate) fn futex_wake_all(word: &AtomicU32) {
    crate::sys::futex_wake(word.as_ptr(), i32::MAX as u32);
}

/// Wakes one thread sleeping in `futex_wait` on `word`.
#[cfg(not(loom))]
#[inline]
pub(crate) fn futex_wake_one(word: &AtomicU32) {
    crate::sys::futex_wake(word.as_ptr(), 1);
}

#[cfg(loom)]
pub(crate) fn futex_wait(word: &AtomicU32, expected: u32) {
    if word.load(Ordering::SeqCst) == expected {
        loom::thread::yield_now();
    }
}

#[cfg(loom)]
pub(crate) fn futex_wake_all(_word: &AtomicU32) {}

#[cfg(loom)]
pub(crate) fn futex_wake_one(_word: &AtomicU32) {}
