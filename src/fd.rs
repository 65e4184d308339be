//! Fd receivers: a subscription that is a readable file descriptor, for poll loops (mio,
//! `polling`, calloop, glib, a hand-written `epoll`).
//!
//! [`SignalFd`] yields each pending signal (coalesced, as [`notify`](crate::notify)'s
//! channels); [`InfoFd`] yields a [`SigInfo`] per arrival (as
//! [`notify_info`](crate::notify_info)'s). Each holds an `eventfd`: register it with your
//! loop for readability ([`AsFd`]/[`AsRawFd`]), and when it is readable call
//! [`try_recv`](SignalFd::try_recv) until `None` (or [`try_iter`](SignalFd::try_iter)).
//! The descriptor is readable while something is pending for this receiver, and reading
//! every pending item makes it unreadable again, so level- and edge-triggered loops both
//! work.
//!
//! ```
//! use sigchan::fd::SignalFd;
//! use std::os::fd::AsRawFd;
//!
//! let mut hup = SignalFd::new(&[sigchan::SIGHUP])?;
//! // Register `hup.as_raw_fd()` with the poll loop for reading; here, poll(2) directly.
//! unsafe { libc::kill(libc::getpid(), libc::SIGHUP) };
//! let mut pfd = libc::pollfd { fd: hup.as_raw_fd(), events: libc::POLLIN, revents: 0 };
//! assert_eq!(unsafe { libc::poll(&mut pfd, 1, 5_000) }, 1);
//! assert_eq!(hup.try_recv(), Some(sigchan::SIGHUP));
//! assert_eq!(hup.try_recv(), None);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## How it differs from a channel, and from `signalfd(2)`
//! - **No thread in between.** sigchan's handler fills the receiver's slot and writes its
//!   eventfd itself (one `write` per batch: only when the slot was empty), inside the same
//!   protocol that guards forwarding (`stop` races, `ignore`, `reset`, other libraries'
//!   handlers). A signal only fd receivers want wakes no sigchan thread. In [`init`](crate::init)
//!   mode the kernel still runs the handler on the signal thread, the one thread that
//!   takes signals.
//! - **Not `signalfd`.** `signalfd` sees a signal only while every thread blocks it, and
//!   takes it from every other subscriber. An fd receiver works in either mode, beside
//!   channels, streams, forwards and other libraries, and each receiver of a signal gets it.
//! - **Limits.** At most [`MAX_FD_RECEIVERS`] exist at once
//!   ([`Error::TooManyFdReceivers`]). An [`InfoFd`] holds up to [`FD_INFO_CAPACITY`]
//!   origins between two reads; arrivals beyond that still come, one [`SigInfo`] each
//!   with [`Cause::Lost`](crate::Cause::Lost) (counted in
//!   [`Stats::origins_lost`](crate::Stats::origins_lost)). Rarely, the descriptor is
//!   readable and `try_recv` finds nothing (a read raced the handler's write): keep
//!   waiting.
//! - **fork.** A child's copy of a receiver gets an eventfd of its own under the same
//!   number the first time it is used, and receives the child's signals; the parent's is
//!   untouched. (The child's copy of an `epoll` set is the parent's: register again in a
//!   loop of the child's own.)
//! - **Counters.** An arrival only fd receivers want counts in
//!   [`Stats::arrivals`](crate::Stats::arrivals) (and `coalesced` when every receiver had
//!   it pending); each item `try_recv` returns counts in `delivered`.

use crate::runtime::registry;
use crate::sigctx::counters::DELIVERED;
use crate::sigctx::poller::Taken;
use crate::sigctx::{PollSlot, POLLERS, POLL_SLOTS, SLOT_CAPACITY};
use crate::sys;
use crate::types::error::Error;
use crate::types::info::SigInfo;
use crate::types::signal::Signal;
use std::collections::VecDeque;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

/// How many fd receivers can exist at once.
pub const MAX_FD_RECEIVERS: usize = POLL_SLOTS;

/// How many origins an [`InfoFd`] holds between two reads.
pub const FD_INFO_CAPACITY: usize = SLOT_CAPACITY;

/// What a receiver has taken from its slot and not yet returned.
trait Buffer: Default {
    type Item;
    /// Moves what the slot holds into the buffer (protocol step 2 of `sigctx::poller`).
    fn refill(&mut self, slot: &PollSlot);
    fn pop(&mut self) -> Option<Self::Item>;
    fn is_empty(&self) -> bool;
    fn signal(item: &Self::Item) -> Signal;
}

/// A plain receiver's buffer: the pending bits, lowest signal first.
#[derive(Default)]
struct Bits(u64);

impl Buffer for Bits {
    type Item = Signal;
    fn refill(&mut self, slot: &PollSlot) {
        self.0 |= slot.take();
    }
    fn pop(&mut self) -> Option<Signal> {
        if self.0 == 0 {
            return None;
        }
        let i = self.0.trailing_zeros();
        self.0 &= self.0 - 1;
        Some(Signal::from_raw_unchecked(i as i32 + 1))
    }
    fn is_empty(&self) -> bool {
        self.0 == 0
    }
    fn signal(item: &Signal) -> Signal {
        *item
    }
}

/// An info receiver's buffer: one `SigInfo` per arrival, in arrival order, lost ones after.
#[derive(Default)]
struct Infos(VecDeque<SigInfo>);

impl Buffer for Infos {
    type Item = SigInfo;
    fn refill(&mut self, slot: &PollSlot) {
        // The bits only say that records (or lost counts) ride on them.
        slot.take();
        while let Some(t) = slot.next_taken() {
            match t {
                Taken::Origin(rec) => self.0.push_back(SigInfo::from_record(&rec)),
                Taken::Lost { bit, arrivals } => {
                    let sig = Signal::from_raw_unchecked(bit.trailing_zeros() as i32 + 1);
                    for _ in 0..arrivals {
                        self.0.push_back(SigInfo::unknown_origin(sig));
                    }
                }
            }
        }
    }
    fn pop(&mut self) -> Option<SigInfo> {
        self.0.pop_front()
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    fn signal(item: &SigInfo) -> Signal {
        item.signal()
    }
}

/// The part both receiver types share.
struct Receiver<B> {
    fd: OwnedFd,
    slot: usize,
    /// Subscribed (not stopped): the slot is this receiver's.
    live: bool,
    /// The fork generation the slot was armed in (`registry::fork_generation`).
    generation: u64,
    buffer: B,
}

impl<B: Buffer> Receiver<B> {
    fn new(sigs: &[Signal], info: bool) -> Result<Self, Error> {
        let (slot, fd, generation) = registry::fd_subscribe(sigs, info)?;
        Ok(Receiver {
            fd,
            slot,
            live: true,
            generation,
            buffer: B::default(),
        })
    }

    /// In a forked child, re-arms first: until then the eventfd is the parent's.
    fn refresh(&mut self) {
        if self.live && registry::fork_generation() != self.generation {
            if let Ok(g) = registry::fd_refresh() {
                self.generation = g;
            }
        }
    }

    fn try_recv(&mut self) -> Option<B::Item> {
        self.refresh();
        if self.buffer.is_empty() && self.live {
            self.buffer.refill(&POLLERS[self.slot]);
        }
        let item = self.buffer.pop();
        if self.buffer.is_empty() {
            self.settle();
        }
        if let Some(it) = &item {
            DELIVERED.bump(B::signal(it).index());
        }
        item
    }

    /// With the buffer empty: the eventfd readable exactly while something is pending.
    fn settle(&self) {
        let clear = |fd: i32| {
            let mut n = 0u64;
            // SAFETY: reads 8 bytes into `n` from our own non-blocking eventfd; EAGAIN (already
            // 0) is the expected failure.
            unsafe { libc::read(fd, (&mut n as *mut u64).cast(), 8) };
        };
        if self.live {
            POLLERS[self.slot].settle(clear, |fd| {
                let _ = sys::eventfd_add_one(fd);
            });
        } else {
            clear(self.fd.as_raw_fd());
        }
    }

    fn recv_timeout(&mut self, timeout: Option<Duration>) -> Option<B::Item> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            if let Some(item) = self.try_recv() {
                return Some(item);
            }
            if !self.live {
                return None;
            }
            let ms = match deadline {
                None => -1,
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return None;
                    }
                    // Rounded up: never a busy loop on a sub-millisecond remainder.
                    left.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32
                }
            };
            let mut pfd = libc::pollfd {
                fd: self.fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd for the duration of the call. EINTR just loops.
            unsafe { libc::poll(&mut pfd, 1, ms) };
        }
    }

    fn stop(&mut self) {
        if !self.live {
            return;
        }
        self.refresh();
        let buffer = &mut self.buffer;
        registry::fd_unsubscribe(self.slot, |slot| buffer.refill(slot));
        self.live = false;
        // What arrived before the stop stays readable, and the descriptor says so.
        if self.buffer.is_empty() {
            self.settle();
        } else {
            let _ = sys::eventfd_add_one(self.fd.as_raw_fd());
        }
    }
}

impl<B> Drop for Receiver<B> {
    fn drop(&mut self) {
        if self.live {
            registry::fd_unsubscribe(self.slot, |_| {});
        }
    }
}

macro_rules! fd_type {
    ($(#[$doc:meta])* $name:ident, $buffer:ty, $item:ty, $info:expr) => {
        $(#[$doc])*
        pub struct $name {
            rx: Receiver<$buffer>,
        }

        impl $name {
            /// Subscribes to `sigs` (`&[]`: every catchable signal). When it returns, the
            /// signals are being caught, and each arrival makes the descriptor readable.
            ///
            /// # Errors
            /// As for [`notify`](crate::notify) (a bad signal changes nothing), plus
            /// [`Error::TooManyFdReceivers`] when [`MAX_FD_RECEIVERS`] exist, and
            /// [`Error::Os`] when the kernel refuses an eventfd (out of descriptors).
            pub fn new(sigs: &[Signal]) -> Result<Self, Error> {
                Ok($name {
                    rx: Receiver::new(sigs, $info)?,
                })
            }

            /// The next pending item, without waiting; `None` when nothing is pending (the
            /// descriptor is then not readable, until the next arrival).
            pub fn try_recv(&mut self) -> Option<$item> {
                self.rx.try_recv()
            }

            /// Every item pending now, each taken as [`try_recv`](Self::try_recv) would.
            pub fn try_iter(&mut self) -> impl Iterator<Item = $item> + '_ {
                std::iter::from_fn(move || self.rx.try_recv())
            }

            /// Waits up to `timeout` for an item (`poll(2)` on the descriptor): for a
            /// thread with nothing else to wait on. `None` when the time ran out, or
            /// at once after [`stop`](Self::stop) once the items from before are taken.
            pub fn recv_timeout(&mut self, timeout: Duration) -> Option<$item> {
                self.rx.recv_timeout(Some(timeout))
            }

            /// Waits for an item as long as it takes. `None` only after
            /// [`stop`](Self::stop), once the items from before are taken.
            pub fn recv(&mut self) -> Option<$item> {
                self.rx.recv_timeout(None)
            }

            /// Stops receiving, with [`stop`](crate::stop)'s guarantee: when it returns, no
            /// arrival reaches this receiver any more, and each that raced the stop either
            /// reached it (and is still there to read) or took the signal's original action
            /// (or went to the channels that still want it). The descriptor stays open,
            /// readable while those items remain. Dropping the receiver stops it too,
            /// discarding them.
            pub fn stop(&mut self) {
                self.rx.stop();
            }
        }

        impl AsFd for $name {
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.rx.fd.as_fd()
            }
        }

        impl AsRawFd for $name {
            fn as_raw_fd(&self) -> RawFd {
                self.rx.fd.as_raw_fd()
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("fd", &self.rx.fd.as_raw_fd())
                    .field("live", &self.rx.live)
                    .finish()
            }
        }
    };
}

fd_type!(
    /// A readable descriptor that yields each pending [`Signal`], coalesced as the kernel
    /// and [`notify`](crate::notify)'s channels coalesce: one `SIGHUP` for three arrivals
    /// between two reads.
    ///
    /// ```
    /// use sigchan::fd::SignalFd;
    /// use std::time::Duration;
    ///
    /// let mut rx = SignalFd::new(&[sigchan::SIGUSR1, sigchan::SIGUSR2])?;
    /// sigchan::raise(sigchan::SIGUSR2)?;
    /// assert_eq!(rx.recv_timeout(Duration::from_secs(5)), Some(sigchan::SIGUSR2));
    /// rx.stop();
    /// assert_eq!(rx.try_recv(), None);
    /// # Ok::<(), sigchan::Error>(())
    /// ```
    SignalFd,
    Bits,
    Signal,
    false
);

fd_type!(
    /// A readable descriptor that yields a [`SigInfo`] per arrival: who sent it, why, and
    /// the `sigqueue(3)` value; queued real-time signals each come, in arrival order.
    ///
    /// ```
    /// use sigchan::fd::InfoFd;
    /// use std::time::Duration;
    ///
    /// let mut rx = InfoFd::new(&[sigchan::SIGUSR1])?;
    /// unsafe { libc::kill(libc::getpid(), libc::SIGUSR1) };
    /// let info = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    /// assert_eq!(info.pid(), Some(std::process::id() as i32));
    /// # Ok::<(), sigchan::Error>(())
    /// ```
    InfoFd,
    Infos,
    SigInfo,
    true
);
