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

#[cfg(all(not(loom), sigchan_jitter))]
pub(crate) use jittered::{AtomicU32, AtomicU64};
#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU32, AtomicU64, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::Ordering;
#[cfg(all(not(loom), not(sigchan_jitter)))]
pub(crate) use std::sync::atomic::{AtomicU32, AtomicU64};

/// A short random delay after a step of the signal protocol. Only in the window-widening
/// build (`--cfg sigchan_jitter`, never a normal one), where it follows every atomic
/// operation of the sigqueue and the ring (handler and signal thread), every lock the runtime
/// takes and every `sigaction`: races that need a preemption between two steps, a few
/// instructions apart normally, then show up within thousands of rounds. Async-signal-safe:
/// one atomic and a spin.
#[cfg(sigchan_jitter)]
#[inline(never)]
pub(crate) fn jitter() {
    use std::sync::atomic::{AtomicU64 as StdU64, Ordering::Relaxed};
    static STATE: StdU64 = StdU64::new(0x853c_49e6_748f_ea9b);
    // splitmix64 over a shared counter: each call gets its own number, no lock.
    let mut z = STATE
        .fetch_add(0x9e37_79b9_7f4a_7c15, Relaxed)
        .wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    // One step in four waits, up to about 20 us (8,192 spins); the rest run on at once.
    if z & 3 == 0 {
        for _ in 0..(z >> 8) % 8192 {
            std::hint::spin_loop();
        }
    }
}

/// No delay: a normal build compiles every call away.
#[cfg(not(sigchan_jitter))]
#[inline(always)]
pub(crate) fn jitter() {}

/// std's atomics with `jitter()` after each operation (the window-widening build).
#[cfg(all(not(loom), sigchan_jitter))]
mod jittered {
    use super::jitter;
    use std::sync::atomic::Ordering;

    /// Methods that forward to the std atomic, then delay.
    macro_rules! then_jitter {
        ($($op:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
            $(
                pub(crate) fn $op(&self, $($arg: $ty),*) -> $ret {
                    let r = self.0.$op($($arg),*);
                    jitter();
                    r
                }
            )*
        };
    }

    macro_rules! jittered_atomic {
        ($name:ident, $std:ty, $int:ty) => {
            pub(crate) struct $name($std);

            // Each of the two types uses its own subset of the methods.
            #[allow(dead_code)]
            impl $name {
                pub(crate) const fn new(v: $int) -> Self {
                    $name(<$std>::new(v))
                }

                then_jitter! {
                    load(o: Ordering) -> $int;
                    store(v: $int, o: Ordering) -> ();
                    swap(v: $int, o: Ordering) -> $int;
                    fetch_add(v: $int, o: Ordering) -> $int;
                    fetch_sub(v: $int, o: Ordering) -> $int;
                    fetch_or(v: $int, o: Ordering) -> $int;
                    fetch_and(v: $int, o: Ordering) -> $int;
                    compare_exchange(current: $int, new: $int, ok: Ordering, err: Ordering)
                        -> Result<$int, $int>;
                    compare_exchange_weak(current: $int, new: $int, ok: Ordering, err: Ordering)
                        -> Result<$int, $int>;
                }

                /// The std atomic itself, for the futex syscall.
                pub(crate) fn as_std(&self) -> &$std {
                    &self.0
                }
            }
        };
    }

    jittered_atomic!(AtomicU32, std::sync::atomic::AtomicU32, u32);
    jittered_atomic!(AtomicU64, std::sync::atomic::AtomicU64, u64);
}

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
        crate::sys::futex_wait(self.std_word(), expected);
    }

    #[cfg(not(sigchan_jitter))]
    fn std_word(&self) -> &std::sync::atomic::AtomicU32 {
        &self.word
    }

    #[cfg(sigchan_jitter)]
    fn std_word(&self) -> &std::sync::atomic::AtomicU32 {
        self.word.as_std()
    }

    /// Wakes one sleeper. Async-signal-safe: one raw syscall.
    #[inline]
    pub(crate) fn wake_one(&self) {
        crate::sys::futex_wake(self.std_word(), 1);
    }

    /// Wakes every sleeper. Async-signal-safe: one raw syscall.
    #[inline]
    pub(crate) fn wake_all(&self) {
        crate::sys::futex_wake(self.std_word(), i32::MAX as u32);
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
