//! The atomics and futex the sigqueue and the ring are written against, and the two macros
//! that let them write each constructor once.
//!
//! Normally std's atomics and the raw futex syscall. Under `--cfg loom`, loom's atomics and a
//! futex model: `Futex::wait` blocks on a `loom::sync::Notify` that `wake_*` signals (a wake
//! with no sleeper leaves a permit, so a wait may return spuriously, as a real futex may).
//! A missing wake therefore shows up in loom as a thread blocked forever.

/// A constructor that is a `const fn` normally (the statics need one) and a plain `fn` under
/// loom, whose atomics cannot be built in const context.
#[cfg(not(loom))]
macro_rules! maybe_const_fn {
    ($(#[$m:meta])* $v:vis fn $name:ident($($a:ident: $t:ty),*) -> $ret:ty $body:block) => {
        $(#[$m])* $v const fn $name($($a: $t),*) -> $ret $body
    };
}
#[cfg(loom)]
macro_rules! maybe_const_fn {
    ($(#[$m:meta])* $v:vis fn $name:ident($($a:ident: $t:ty),*) -> $ret:ty $body:block) => {
        $(#[$m])* $v fn $name($($a: $t),*) -> $ret $body
    };
}

/// `[$e; $n]` for a non-`Copy` `$e`: an inline-const repeat normally, `from_fn` under loom.
#[cfg(not(loom))]
macro_rules! atomic_array {
    ($e:expr; $n:expr) => {
        [const { $e }; $n]
    };
}
#[cfg(loom)]
macro_rules! atomic_array {
    ($e:expr; $n:expr) => {
        std::array::from_fn(|_| $e)
    };
}

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU32, AtomicU64, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// An `AtomicU32` that threads can sleep on (Linux futex, private to the process).
pub(crate) struct Futex {
    word: AtomicU32,
    #[cfg(loom)]
    note: loom::sync::Notify,
    /// Wakes issued, so models can check that one sleep gets at most one wake.
    #[cfg(loom)]
    wakes: loom::sync::atomic::AtomicUsize,
}

impl Futex {
    maybe_const_fn! {
        pub(crate) fn new(v: u32) -> Futex {
            Futex {
                word: AtomicU32::new(v),
                #[cfg(loom)]
                note: loom::sync::Notify::new(),
                #[cfg(loom)]
                wakes: loom::sync::atomic::AtomicUsize::new(0),
            }
        }
    }
}

impl std::ops::Deref for Futex {
    type Target = AtomicU32;
    fn deref(&self) -> &AtomicU32 {
        &self.word
    }
}

#[cfg(not(loom))]
impl Futex {
    /// Sleeps while the word equals `expected`; may return early for any reason (a wake, a
    /// signal, a spurious wake-up), so callers re-check their condition.
    #[inline]
    pub(crate) fn wait(&self, expected: u32) {
        crate::sys::futex_wait(&self.word, expected);
    }

    /// Wakes one sleeper. Async-signal-safe: one raw syscall.
    #[inline]
    pub(crate) fn wake_one(&self) {
        crate::sys::futex_wake(&self.word, 1);
    }

    /// Wakes every sleeper. Async-signal-safe: one raw syscall.
    #[inline]
    pub(crate) fn wake_all(&self) {
        crate::sys::futex_wake(&self.word, i32::MAX as u32);
    }
}

#[cfg(loom)]
impl Futex {
    pub(crate) fn wakes(&self) -> usize {
        self.wakes.load(Ordering::SeqCst)
    }

    pub(crate) fn wait(&self, expected: u32) {
        if self.word.load(Ordering::SeqCst) == expected {
            self.note.wait();
        }
    }

    pub(crate) fn wake_one(&self) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
        self.note.notify();
    }

    /// The models have at most one sleeper per futex.
    pub(crate) fn wake_all(&self) {
        self.note.notify();
    }
}
