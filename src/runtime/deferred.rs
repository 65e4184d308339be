//! User code the signal thread must run, kept out of every sigchan lock.
//!
//! Delivery happens with the registry locked, so a hook only *collects* what would run user
//! code (a stream's `Waker`, a subscriber whose last reference may drop one) into a
//! [`Deferred`]; the caller runs it after unlocking. A `wake` may then poll a task, drop a
//! stream and call `stop` (which takes the registry lock again) without a deadlock, and a
//! panic in it is caught so the signal thread lives on.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::task::Waker;

/// What to run, or drop, once no sigchan lock is held.
#[derive(Default)]
pub(crate) struct Deferred {
    wakers: Vec<Waker>,
    drops: Vec<Box<dyn Any + Send>>,
}

impl Deferred {
    /// Only async streams have wakers.
    #[cfg_attr(not(feature = "async"), allow(dead_code))]
    pub(crate) fn wake(&mut self, waker: Waker) {
        self.wakers.push(waker);
    }

    /// Keeps `value` alive until [`run`](Self::run): its `Drop` may be user code.
    pub(crate) fn drop_later<T: Send + 'static>(&mut self, value: T) {
        self.drops.push(Box::new(value));
    }

    /// Runs the wakers and the drops, each on its own, containing panics. Call it with no
    /// sigchan lock held.
    pub(crate) fn run(self) {
        for w in self.wakers {
            contain(|| w.wake());
        }
        for d in self.drops {
            contain(|| drop(d));
        }
    }
}

/// Runs `f`; a panic is reported once per process on stderr and otherwise swallowed, so a
/// faulty waker cannot take the signal thread down with it.
fn contain(f: impl FnOnce()) {
    static REPORTED: AtomicBool = AtomicBool::new(false);
    if catch_unwind(AssertUnwindSafe(f)).is_err() && !REPORTED.swap(true, Relaxed) {
        let msg = b"sigchan: a waker or a dropped subscriber panicked on the signal thread; \
the panic was contained and delivery goes on (reported once)\n";
        // SAFETY: writes a static buffer to fd 2; a failed write is of no consequence.
        unsafe { libc::write(2, msg.as_ptr().cast(), msg.len()) };
    }
}
