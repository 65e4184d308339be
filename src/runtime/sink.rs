//! Where the signal thread delivers: a channel of `Signal`, a channel of `SigInfo`, or an
//! internal hook (the shutdown token, async streams). Each delivery is non-blocking.

use super::deferred::Deferred;
use crate::sigctx::counters;
use crate::types::info::SigInfo;
use crate::types::signal::Signal;
use crossbeam_channel::{Sender, TrySendError};
use std::any::Any;
use std::sync::Arc;

/// The outcome of one delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Delivered {
    Sent,
    /// No room: this delivery is dropped (counted).
    Full,
    /// The receiving side is gone: unsubscribe the sink.
    Gone,
    /// Delivered, and the hook wants nothing more: unsubscribe it (the shutdown token).
    Last,
}

/// A subscriber that is not a channel. Runs on the signal thread with the registry locked:
/// it must not block, call sigchan or run user code; what would (a `Waker`) goes into
/// `later`, which runs once the lock is released.
pub(crate) trait Hook: Send + Sync {
    /// Whether it wants every arrival with its origin (`notify_info`) rather than the
    /// coalesced signal (`notify`).
    fn wants_info(&self) -> bool;
    fn deliver(&self, info: SigInfo, later: &mut Deferred) -> Delivered;
}

#[derive(Clone)]
pub(crate) enum Sink {
    Plain(Sender<Signal>),
    Info(Sender<SigInfo>),
    Hook(Arc<dyn Hook>),
}

impl Sink {
    pub(crate) fn same(&self, other: &Sink) -> bool {
        match (self, other) {
            (Sink::Plain(a), Sink::Plain(b)) => a.same_channel(b),
            (Sink::Info(a), Sink::Info(b)) => a.same_channel(b),
            (Sink::Hook(a), Sink::Hook(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }

    pub(crate) fn wants_info(&self) -> bool {
        match self {
            Sink::Plain(_) => false,
            Sink::Info(_) => true,
            Sink::Hook(h) => h.wants_info(),
        }
    }

    /// One non-blocking delivery, counted in the stats. Channel sends run no user code
    /// (the values are `Copy`); a hook leaves its user code in `later`.
    pub(crate) fn deliver(&self, info: SigInfo, later: &mut Deferred) -> Delivered {
        let d = match self {
            Sink::Plain(tx) => from_try_send(tx.try_send(info.signal())),
            Sink::Info(tx) => from_try_send(tx.try_send(info)),
            Sink::Hook(h) => h.deliver(info, later),
        };
        match d {
            Delivered::Sent | Delivered::Last => counters::DELIVERED.bump(info.signal().index()),
            Delivered::Full => counters::DROPPED_FULL.bump(info.signal().index()),
            Delivered::Gone => {}
        }
        d
    }
}

impl Sink {
    /// The sink of a channel given to `notify` or `notify_info`.
    pub(crate) fn of<T: Message>(tx: &Sender<T>) -> Sink {
        let any: &dyn Any = tx;
        if let Some(tx) = any.downcast_ref::<Sender<Signal>>() {
            Sink::Plain(tx.clone())
        } else if let Some(tx) = any.downcast_ref::<Sender<SigInfo>>() {
            Sink::Info(tx.clone())
        } else {
            unreachable!("Message is sealed: Signal and SigInfo only")
        }
    }
}

fn from_try_send<T>(r: Result<(), TrySendError<T>>) -> Delivered {
    match r {
        Ok(()) => Delivered::Sent,
        Err(TrySendError::Full(_)) => Delivered::Full,
        Err(TrySendError::Disconnected(_)) => Delivered::Gone,
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for crate::types::signal::Signal {}
    impl Sealed for crate::types::info::SigInfo {}
}

/// What sigchan sends into channels: [`Signal`] (from [`notify`](crate::notify)) or
/// [`SigInfo`] (from [`notify_info`](crate::notify_info)). [`stop`](crate::stop) accepts a
/// sender of either. Sealed: implemented for those two types only.
///
/// ```
/// use sigchan::channel::bounded;
/// use sigchan::{SigInfo, Signal};
///
/// let (plain, _rx1) = bounded::<Signal>(1);
/// let (info, _rx2) = bounded::<SigInfo>(1);
/// sigchan::notify(&plain, &[sigchan::SIGUSR1])?;
/// sigchan::notify_info(&info, &[sigchan::SIGUSR1])?;
/// sigchan::stop(&plain);
/// sigchan::stop(&info);
/// # Ok::<(), sigchan::Error>(())
/// ```
pub trait Message: sealed::Sealed + 'static {}

impl Message for Signal {}
impl Message for SigInfo {}
