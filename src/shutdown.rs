//! The shutdown token (Go's `signal.NotifyContext`): a hook on the signal thread that
//! records the first signal, wakes every waiter, and unsubscribes itself in the same
//! dispatch, so the next arrival takes the signal's original action.

use crate::runtime::deferred::Deferred;
use crate::runtime::lock;
use crate::runtime::registry;
use crate::runtime::sink::{Delivered, Hook, Sink};
use crate::types::error::Error;
use crate::types::info::SigInfo;
use crate::types::signal::{Signal, SignalSet};
use std::sync::atomic::{AtomicBool, Ordering::Acquire, Ordering::Release};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

#[derive(Default)]
struct Trigger {
    /// The first signal that arrived.
    fired: Mutex<Option<Signal>>,
    /// `stop` was called (or the last clone dropped) before any signal.
    stopped: AtomicBool,
    done: Condvar,
}

impl Trigger {
    fn is_done(&self, fired: &Option<Signal>) -> bool {
        fired.is_some() || self.stopped.load(Acquire)
    }
}

impl Hook for Trigger {
    fn wants_info(&self) -> bool {
        false
    }

    fn deliver(&self, info: SigInfo, _later: &mut Deferred) -> Delivered {
        let mut fired = lock(&self.fired);
        if fired.is_none() {
            *fired = Some(info.signal());
            self.done.notify_all();
        }
        Delivered::Last
    }
}

/// Owns the subscription; dropped with the last clone of the token.
struct Subscription {
    trigger: Arc<Trigger>,
    sink: Sink,
}

impl Subscription {
    fn stop(&self) {
        registry::stop(&self.sink);
        let _fired = lock(&self.trigger.fired);
        self.trigger.stopped.store(true, Release);
        self.trigger.done.notify_all();
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A token that triggers when one of its signals first arrives: Go's `signal.NotifyContext`.
///
/// Made by [`shutdown_on`]. Clones share one subscription; the last one dropped (or
/// [`stop`](Shutdown::stop)) ends it and gives the signals their previous disposition back.
///
/// **The second signal takes the original action.** The first arrival triggers the token
/// and, in the same step on the signal thread, unsubscribes it: when nothing else
/// subscribes to that signal, its disposition from before sigchan comes back, so a second
/// Ctrl-C kills a program stuck in its shutdown (the default action of `SIGINT`), as users
/// of every signal crate ask for. If a [`notify`](crate::notify) channel also subscribes to
/// the signal, that channel keeps receiving it instead. A second arrival so close to the
/// first that it is taken in the same delivery step is merged into the first (coalescing);
/// a human pressing Ctrl-C twice is far slower than that.
///
/// ```no_run
/// use std::time::Duration;
/// use sigchan::{SIGINT, SIGTERM};
///
/// let shutdown = sigchan::shutdown_on(&[SIGINT, SIGTERM])?;
/// let worker = {
///     let shutdown = shutdown.clone();
///     std::thread::spawn(move || {
///         while !shutdown.wait_timeout(Duration::from_millis(100)) {
///             // ... one unit of work ...
///         }
///     })
/// };
/// let sig = shutdown.wait();
/// println!("{sig:?}: finishing; press Ctrl-C again to quit at once");
/// worker.join().unwrap();
/// # Ok::<(), sigchan::Error>(())
/// ```
#[derive(Clone)]
pub struct Shutdown {
    sub: Arc<Subscription>,
}

impl std::fmt::Debug for Shutdown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shutdown")
            .field("signal", &self.signal())
            .field("stopped", &self.sub.trigger.stopped.load(Acquire))
            .finish()
    }
}

/// Returns a [`Shutdown`] token that triggers on the first of `sigs` to arrive; `&[]` means
/// the requests to end the process, [`SignalSet::termination_requests`] (`SIGHUP`,
/// `SIGINT`, `SIGQUIT`, `SIGTERM`, `SIGUSR1`, `SIGUSR2`, `SIGSTKFLT`, `SIGPWR`): not every
/// catchable signal, so a child ending (`SIGCHLD`) or a terminal resize (`SIGWINCH`) does
/// not shut the program down.
///
/// When it returns, the signals are being caught. After the token has triggered, its
/// signals are no longer caught by it (see [`Shutdown`]).
///
/// # Errors
/// As for [`notify`](crate::notify): a bad signal changes nothing.
///
/// ```
/// use std::time::Duration;
/// let shutdown = sigchan::shutdown_on(&[sigchan::SIGUSR1])?;
/// assert!(!shutdown.is_triggered());
/// unsafe { libc::kill(libc::getpid(), libc::SIGUSR1) };
/// assert!(shutdown.wait_timeout(Duration::from_secs(5)));
/// assert_eq!(shutdown.signal(), Some(sigchan::SIGUSR1));
/// # Ok::<(), sigchan::Error>(())
/// ```
pub fn shutdown_on(sigs: &[Signal]) -> Result<Shutdown, Error> {
    let trigger = Arc::new(Trigger::default());
    let sink = Sink::Hook(trigger.clone());
    let requests: Vec<Signal>;
    let sigs = if sigs.is_empty() {
        requests = SignalSet::termination_requests().iter().collect();
        &requests[..]
    } else {
        sigs
    };
    registry::notify(sink.clone(), sigs)?;
    Ok(Shutdown {
        sub: Arc::new(Subscription { trigger, sink }),
    })
}

impl Shutdown {
    /// Blocks until a signal arrives, and returns it; returns `None` at once if the token
    /// was stopped before any signal did.
    ///
    /// ```
    /// let shutdown = sigchan::shutdown_on(&[sigchan::SIGUSR2])?;
    /// unsafe { libc::kill(libc::getpid(), libc::SIGUSR2) };
    /// assert_eq!(shutdown.wait(), Some(sigchan::SIGUSR2));
    /// # Ok::<(), sigchan::Error>(())
    /// ```
    pub fn wait(&self) -> Option<Signal> {
        let st = &self.sub.trigger;
        let mut fired = lock(&st.fired);
        while !st.is_done(&fired) {
            fired = st
                .done
                .wait(fired)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        *fired
    }

    /// Waits at most `timeout` for a signal; true if the token has triggered (or was
    /// stopped), false if the time ran out first.
    ///
    /// ```
    /// use std::time::Duration;
    /// let shutdown = sigchan::shutdown_on(&[sigchan::SIGUSR2])?;
    /// assert!(!shutdown.wait_timeout(Duration::from_millis(10)));
    /// # Ok::<(), sigchan::Error>(())
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        let st = &self.sub.trigger;
        let deadline = Instant::now().checked_add(timeout);
        let mut fired = lock(&st.fired);
        while !st.is_done(&fired) {
            let left = match deadline {
                Some(d) => d.saturating_duration_since(Instant::now()),
                None => Duration::from_secs(3600),
            };
            if left.is_zero() {
                return false;
            }
            fired = st
                .done
                .wait_timeout(fired, left)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
        true
    }

    /// True once one of its signals has arrived. Never blocks.
    ///
    /// ```
    /// let shutdown = sigchan::shutdown_on(&[sigchan::SIGUSR2])?;
    /// assert!(!shutdown.is_triggered());
    /// # Ok::<(), sigchan::Error>(())
    /// ```
    pub fn is_triggered(&self) -> bool {
        self.signal().is_some()
    }

    /// The signal that triggered it, if one has.
    ///
    /// ```
    /// let shutdown = sigchan::shutdown_on(&[sigchan::SIGUSR2])?;
    /// assert_eq!(shutdown.signal(), None);
    /// # Ok::<(), sigchan::Error>(())
    /// ```
    pub fn signal(&self) -> Option<Signal> {
        *lock(&self.sub.trigger.fired)
    }

    /// Stops catching the signals for this token (for every clone) with [`stop`]'s
    /// guarantee, restores their disposition if nothing else subscribes, and wakes the
    /// waiters: [`wait`](Self::wait) returns the signal if one arrived first, else `None`.
    /// Dropping the last clone does the same.
    ///
    /// [`stop`]: crate::stop
    ///
    /// ```
    /// let shutdown = sigchan::shutdown_on(&[sigchan::SIGUSR2])?;
    /// shutdown.stop();
    /// assert_eq!(shutdown.wait(), None);
    /// # Ok::<(), sigchan::Error>(())
    /// ```
    pub fn stop(&self) {
        self.sub.stop();
    }
}
