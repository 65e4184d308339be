//! Async receivers (feature `async`): signal streams for any executor.
//!
//! A [`futures_core::Stream`] of [`Signal`] or [`SigInfo`] fed by the signal thread, which
//! wakes the task's `Waker` itself. No runtime is assumed: any executor that polls futures
//! drives them, and no extra thread or file descriptor is used. The tests run them under
//! tokio, smol (`block_on` and its executor), async-task (smol's task primitive, run on the
//! thread that wakes it, so the stream is dropped on the signal thread), the futures crate's
//! `block_on` and `ThreadPool`, and a minimal hand-written executor that counts wakes: wakes,
//! a cancelled `recv` losing nothing, and drop on the signal thread. async-std is not tested
//! (it is discontinued in favour of smol).

use crate::runtime::deferred::Deferred;
use crate::runtime::lock;
use crate::runtime::registry;
use crate::runtime::sink::{Delivered, Hook, Message, Sink};
use crate::types::error::Error;
use crate::types::info::SigInfo;
use crate::types::signal::Signal;
use std::any::TypeId;
use std::collections::VecDeque;
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

/// Items a stream buffers when [`SignalStream::new`] or [`InfoStream::new`] choose.
pub const DEFAULT_BUFFER: usize = 64;

struct Backlog<T> {
    items: VecDeque<T>,
    waker: Option<Waker>,
}

struct StreamHook<T> {
    buf: Mutex<Backlog<T>>,
    capacity: usize,
}

impl<T: Message + From<SigInfo> + Send> Hook for StreamHook<T> {
    fn wants_info(&self) -> bool {
        TypeId::of::<T>() == TypeId::of::<SigInfo>()
    }

    fn deliver(&self, info: SigInfo, later: &mut Deferred) -> Delivered {
        let waker = {
            let mut b = lock(&self.buf);
            if b.items.len() >= self.capacity {
                return Delivered::Full;
            }
            b.items.push_back(T::from(info));
            b.waker.take()
        };
        // Woken once every sigchan lock is released (registry and buffer): the task may
        // poll at once, on any thread, drop this stream and call `stop`.
        if let Some(w) = waker {
            later.wake(w);
        }
        Delivered::Sent
    }
}

/// The common part of both streams.
struct StreamSubscription<T> {
    hook: Arc<StreamHook<T>>,
    sink: Sink,
}

impl<T: Message + From<SigInfo> + Send> StreamSubscription<T> {
    fn new(sigs: &[Signal], capacity: usize) -> Result<Self, Error> {
        let hook = Arc::new(StreamHook {
            buf: Mutex::new(Backlog {
                items: VecDeque::with_capacity(capacity.max(1)),
                waker: None,
            }),
            capacity: capacity.max(1),
        });
        let sink = Sink::Hook(hook.clone());
        registry::notify(sink.clone(), sigs)?;
        Ok(StreamSubscription { hook, sink })
    }

    fn poll(&self, cx: &mut Context<'_>) -> Poll<T> {
        let replaced = {
            let mut b = lock(&self.hook.buf);
            if let Some(item) = b.items.pop_front() {
                return Poll::Ready(item);
            }
            // Registered under the lock the signal thread takes to push: no lost wake-up.
            match &mut b.waker {
                Some(w) if w.will_wake(cx.waker()) => None,
                slot => slot.replace(cx.waker().clone()),
            }
        };
        // The old waker's drop is user code: never under the buffer's lock.
        drop(replaced);
        Poll::Pending
    }
}

impl<T> Drop for StreamSubscription<T> {
    fn drop(&mut self) {
        registry::stop(&self.sink);
    }
}

macro_rules! stream_type {
    ($(#[$doc:meta])* $name:ident, $item:ty) => {
        $(#[$doc])*
        pub struct $name {
            rx: StreamSubscription<$item>,
        }

        impl $name {
            /// Subscribes to `sigs` (`&[]`: every catchable signal) with a buffer of
            /// [`DEFAULT_BUFFER`] items. When it returns, the signals are being caught.
            ///
            /// # Errors
            /// As for [`notify`](crate::notify): a bad signal changes nothing.
            pub fn new(sigs: &[Signal]) -> Result<Self, Error> {
                Self::with_capacity(sigs, DEFAULT_BUFFER)
            }

            /// As [`new`](Self::new), buffering up to `capacity` items (at least one) while
            /// the task is not polling; beyond that, arrivals are dropped for this stream
            /// and counted in [`Stats::dropped_full`](crate::Stats::dropped_full).
            ///
            /// # Errors
            /// As for [`notify`](crate::notify): a bad signal changes nothing.
            pub fn with_capacity(sigs: &[Signal], capacity: usize) -> Result<Self, Error> {
                Ok($name {
                    rx: StreamSubscription::new(sigs, capacity)?,
                })
            }

            /// The next item; waits without blocking the executor's thread.
            pub async fn recv(&mut self) -> $item {
                poll_fn(|cx| self.rx.poll(cx)).await
            }

            /// Stops the subscription now, with [`stop`](crate::stop)'s guarantee (dropping
            /// the stream does the same). Items already buffered are discarded.
            pub fn stop(self) {}
        }

        impl futures_core::Stream for $name {
            type Item = $item;

            /// Never ends: `None` is never returned while the stream exists.
            fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<$item>> {
                self.rx.poll(cx).map(Some)
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("buffered", &lock(&self.rx.hook.buf).items.len())
                    .finish()
            }
        }
    };
}

stream_type!(
    /// An async stream of [`Signal`]s, coalesced like [`notify`](crate::notify)'s channel.
    ///
    /// Dropping it stops the subscription with [`stop`](crate::stop)'s guarantee.
    ///
    /// ```
    /// use sigchan::stream::SignalStream;
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     use std::task::{Context, Poll, Wake, Waker};
    /// #     struct Unpark(std::thread::Thread);
    /// #     impl Wake for Unpark { fn wake(self: std::sync::Arc<Self>) { self.0.unpark() } }
    /// #     let waker = Waker::from(std::sync::Arc::new(Unpark(std::thread::current())));
    /// #     let mut f = std::pin::pin!(f);
    /// #     loop {
    /// #         match f.as_mut().poll(&mut Context::from_waker(&waker)) {
    /// #             Poll::Ready(v) => return v,
    /// #             Poll::Pending => std::thread::park(),
    /// #         }
    /// #     }
    /// # }
    /// let mut signals = SignalStream::new(&[sigchan::SIGUSR1])?;
    /// unsafe { libc::kill(libc::getpid(), libc::SIGUSR1) };
    /// assert_eq!(block_on(signals.recv()), sigchan::SIGUSR1);
    /// # Ok::<(), sigchan::Error>(())
    /// ```
    SignalStream,
    Signal
);

stream_type!(
    /// An async stream of [`SigInfo`]s, one per arrival like
    /// [`notify_info`](crate::notify_info)'s channel.
    ///
    /// Dropping it stops the subscription with [`stop`](crate::stop)'s guarantee.
    ///
    /// ```
    /// use sigchan::{stream::InfoStream, Cause};
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     use std::task::{Context, Poll, Wake, Waker};
    /// #     struct Unpark(std::thread::Thread);
    /// #     impl Wake for Unpark { fn wake(self: std::sync::Arc<Self>) { self.0.unpark() } }
    /// #     let waker = Waker::from(std::sync::Arc::new(Unpark(std::thread::current())));
    /// #     let mut f = std::pin::pin!(f);
    /// #     loop {
    /// #         match f.as_mut().poll(&mut Context::from_waker(&waker)) {
    /// #             Poll::Ready(v) => return v,
    /// #             Poll::Pending => std::thread::park(),
    /// #         }
    /// #     }
    /// # }
    /// let mut infos = InfoStream::new(&[sigchan::SIGUSR2])?;
    /// unsafe { libc::kill(libc::getpid(), libc::SIGUSR2) };
    /// let info = block_on(infos.recv());
    /// assert_eq!((info.signal(), info.cause()), (sigchan::SIGUSR2, Cause::Kill));
    /// # Ok::<(), sigchan::Error>(())
    /// ```
    InfoStream,
    SigInfo
);
