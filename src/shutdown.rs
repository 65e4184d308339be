//! The shutdown token (Go's `signal.NotifyContext`): a hook on the signal thread that
//! records the first signal, wakes every waiter (condvar waiters, `done()` receivers in a
//! `select!`, `triggered()` futures), and unsubscribes itself in the same dispatch, so the
//! next arrival takes the signal's original action.

use crate::runtime::deferred::Deferred;
use crate::runtime::lock;
use crate::runtime::registry;
use crate::runtime::sink::{Delivered, Hook, Sink};
use crate::types::error::Error;
use crate::types::info::SigInfo;
use crate::types::signal::{Signal, SignalSet};
use crossbeam_channel::{Receiver, Sender};
use std::sync::atomic::{AtomicBool, Ordering::Acquire, Ordering::Release};
use std::sync::{Arc, Condvar, Mutex};
use std::task::Waker;
use std::time::{Duration, Instant};

/// What every clone of a token shares. Lock order: `fired`, then `wakers`.
struct Trigger {
    /// The first signal that arrived.
    fired: Mutex<Option<Signal>>,
    /// `stop` was called (or the last clone dropped) before any signal.
    stopped: AtomicBool,
    /// Condvar waiters (`wait`, `wait_timeout`).
    done: Condvar,
    /// The sending half of `done()`'s channel; dropped (closing the channel) when the token
    /// triggers or stops. Nothing is ever sent.
    closer: Mutex<Option<Sender<()>>>,
    /// The receiving half, cloned out by `done()`.
    closed: Receiver<()>,
    /// Tasks awaiting `triggered()`.
    wakers: Mutex<Vec<Waker>>,
}

impl Trigger {
    fn new() -> Trigger {
        let (closer, closed) = crossbeam_channel::bounded(0);
        Trigger {
            fired: Mutex::new(None),
            stopped: AtomicBool::new(false),
            done: Condvar::new(),
            closer: Mutex::new(Some(closer)),
            closed,
            wakers: Mutex::new(Vec::new()),
        }
    }

    fn is_done(&self, fired: &Option<Signal>) -> bool {
        fired.is_some() || self.stopped.load(Acquire)
    }

    /// Wakes every kind of waiter; the caller holds `fired` and has just made the token
    /// done. The closing sender and the wakers go into `later`: a waker is user code, and
    /// runs once every sigchan lock is released.
    fn wake_all(&self, later: &mut Deferred) {
        self.done.notify_all();
        if let Some(closer) = lock(&self.closer).take() {
            later.drop_later(closer);
        }
        for w in std::mem::take(&mut *lock(&self.wakers)) {
            later.wake(w);
        }
    }
}

impl Hook for Trigger {
    fn wants_info(&self) -> bool {
        false
    }

    fn deliver(&self, info: SigInfo, later: &mut Deferred) -> Delivered {
        let mut fired = lock(&self.fired);
        if fired.is_none() {
            *fired = Some(info.signal());
            self.wake_all(later);
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
        let mut later = Deferred::default();
        {
            let _fired = lock(&self.trigger.fired);
            self.trigger.stopped.store(true, Release);
            self.trigger.wake_all(&mut later);
        }
        later.run();
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
///
/// **Waiting on it together with other things.** [`done`](Shutdown::done) is a channel
/// receiver that becomes ready (disconnected) when the token triggers, for
/// `crossbeam_channel::select!` beside job queues and other signals; with the feature
/// `async`, [`triggered`](Shutdown::triggered) is a future for `tokio::select!` and any
/// other executor. Neither changes what a second signal does.
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
    let trigger = Arc::new(Trigger::new());
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

    /// A receiver that becomes ready when the token triggers or is stopped, as Go's
    /// `ctx.Done()`: its channel never carries a value and is closed then, so a `recv` on
    /// it returns `Err(RecvError)` at once, in every clone and every `select!`, from then
    /// on. Use it to wait for shutdown together with other channels; [`signal`](Self::signal)
    /// tells a trigger from a stop.
    ///
    /// A worker that serves jobs, reloads on `SIGHUP`, and stops on `SIGTERM`:
    ///
    /// ```
    /// use sigchan::channel::{bounded, select};
    /// use sigchan::{Signal, SIGHUP, SIGTERM};
    ///
    /// let shutdown = sigchan::shutdown_on(&[SIGTERM])?;
    /// let (hup_tx, hup) = bounded::<Signal>(1);
    /// sigchan::notify(&hup_tx, &[SIGHUP])?;
    /// let (jobs_tx, jobs) = bounded::<u32>(16);
    /// jobs_tx.send(7).unwrap();
    /// # unsafe { libc::kill(libc::getpid(), libc::SIGHUP) };
    /// # let sender = std::thread::spawn(|| {
    /// #     std::thread::sleep(std::time::Duration::from_millis(50));
    /// #     unsafe { libc::kill(libc::getpid(), libc::SIGTERM) };
    /// # });
    /// let (mut served, mut reloads) = (0, 0);
    /// loop {
    ///     select! {
    ///         recv(jobs) -> job => { let _ = job; served += 1; }
    ///         recv(hup) -> _ => reloads += 1,
    ///         recv(shutdown.done()) -> _ => break,
    ///     }
    /// }
    /// assert_eq!(shutdown.signal(), Some(SIGTERM));
    /// # sender.join().unwrap();
    /// # assert_eq!(served, 1);
    /// # assert!(reloads <= 1);
    /// sigchan::stop(&hup_tx);
    /// # Ok::<(), sigchan::Error>(())
    /// ```
    pub fn done(&self) -> Receiver<()> {
        self.sub.trigger.closed.clone()
    }

    /// A future that resolves when the token triggers, to the signal (or to `None` if the
    /// token was stopped first), for `tokio::select!` and any other executor. It is woken
    /// by the signal thread; it holds its own reference to the token, so it may outlive
    /// `self` and be moved into a spawned task. Feature `async`.
    ///
    /// ```
    /// # #[cfg(feature = "async")] {
    /// use sigchan::SIGUSR2;
    /// use std::future::Future;
    /// use std::sync::Arc;
    /// use std::task::{Context, Poll, Wake, Waker};
    ///
    /// struct Nothing;
    /// impl Wake for Nothing {
    ///     fn wake(self: Arc<Self>) {}
    /// }
    /// let waker = Waker::from(Arc::new(Nothing));
    /// let shutdown = sigchan::shutdown_on(&[SIGUSR2])?;
    /// let mut fut = Box::pin(shutdown.triggered());
    /// let mut cx = Context::from_waker(&waker);
    /// assert!(fut.as_mut().poll(&mut cx).is_pending());
    /// unsafe { libc::kill(libc::getpid(), libc::SIGUSR2) };
    /// shutdown.wait(); // here only so the doc test need not run an executor
    /// assert_eq!(fut.as_mut().poll(&mut cx), Poll::Ready(Some(SIGUSR2)));
    /// # }
    /// # Ok::<(), sigchan::Error>(())
    /// ```
    ///
    /// With tokio (`tokio::select!` over a listener and the token):
    ///
    /// ```ignore
    /// loop {
    ///     tokio::select! {
    ///         conn = listener.accept() => spawn_handler(conn?),
    ///         sig = shutdown.triggered() => { eprintln!("{sig:?}: draining"); break }
    ///     }
    /// }
    /// ```
    #[cfg(feature = "async")]
    #[cfg_attr(docsrs, doc(cfg(feature = "async")))]
    pub fn triggered(&self) -> impl std::future::Future<Output = Option<Signal>> + Send + 'static {
        let trigger = self.sub.trigger.clone();
        // Keeps the subscription alive while the future waits, as a clone of the token.
        let sub = self.sub.clone();
        std::future::poll_fn(move |cx| {
            let _keep = &sub;
            let fired = lock(&trigger.fired);
            if trigger.is_done(&fired) {
                return std::task::Poll::Ready(*fired);
            }
            let mut wakers = lock(&trigger.wakers);
            if !wakers.iter().any(|w| w.will_wake(cx.waker())) {
                wakers.push(cx.waker().clone());
            }
            std::task::Poll::Pending
        })
    }
}
