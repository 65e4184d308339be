//! Fd receivers (`crate::fd`): per receiver, a slot the handler fills directly and an
//! eventfd it makes readable, so a poll loop wakes with no thread in between.
//!
//! State of a slot (atomics, through `super::sync`, so loom checks this file as it is):
//! - `fd`: the receiver's eventfd plus one (0: the slot is free). The registry sets it before
//!   the slot enters any signal's poll mask in the sigqueue, and clears it only after the
//!   slot has left them all and a `wait_quiet` has seen out the handlers that read them.
//! - `pending`: bit `n - 1` set when signal `n` arrived and the receiver has not taken it.
//! - `info`: non-zero when the receiver wants each arrival's origin: then a handler also
//!   pushes a record into `ring`, or, when it is full, counts the arrival in `lost_count`
//!   and sets its bit in `lost` (the sigqueue's scheme, one consumer: the receiver).
//!
//! The readiness protocol. The receiver buffers what it takes, and its eventfd must be
//! readable exactly while its buffer or `pending` holds something:
//! 1. A handler publishes the record (info) before its `fetch_or` on `pending`, and writes
//!    the eventfd after it when `pending` was empty before (0 -> non-zero): one write per
//!    batch, not per arrival.
//! 2. The receiver takes `pending` by `swap` (and after it the records and lost counts,
//!    which ride on the bits as in the sigqueue's invariant 5), and does not touch the
//!    eventfd while its buffer holds anything: the counter stays raised.
//! 3. Once its buffer is empty it settles: it reads the eventfd (the counter drops to 0),
//!    then reads `pending` by read-modify-write and raises the counter again if a bit is
//!    set. A handler whose write the read consumed set its bit before writing, so the
//!    check finds it; one that sets a bit after the check finds `pending` empty and
//!    writes itself. So a pending bit is never left with the counter at 0 (the loom model
//!    `poll_readiness_*` fails when the check is dropped). The reverse can happen for a
//!    moment: a receiver that takes a bit between its handler's `fetch_or` and its write
//!    leaves the counter raised with nothing pending, and the next read finds nothing.

use super::record::Record;
use super::ring::Ring;
use super::sync::{AtomicU32, AtomicU64, Ordering::SeqCst};

/// Signal numbers 1..=64, one lost counter each.
const SIGNALS: usize = 64;

/// One fd receiver's slot.
pub(crate) struct Slot<const CAP: usize> {
    fd: AtomicU32,
    info: AtomicU32,
    pending: AtomicU64,
    ring: Ring<CAP>,
    lost: AtomicU64,
    lost_count: [AtomicU32; SIGNALS],
}

/// What a handler's delivery to one slot did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Delivery {
    /// The bit was already pending in this slot (merged for a plain receiver).
    pub(crate) coalesced: bool,
    /// The receiver wants origins and its ring was full: a lost count carries this one.
    pub(crate) origin_lost: bool,
}

/// One item a receiver takes after the bits: an origin, or lost arrivals of one signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Taken {
    Origin(Record),
    Lost { bit: u64, arrivals: u32 },
}

impl<const CAP: usize> Slot<CAP> {
    maybe_const_fn! {
        pub(crate) fn new() -> Self {
            Slot {
                fd: AtomicU32::new(0),
                info: AtomicU32::new(0),
                pending: AtomicU64::new(0),
                ring: Ring::new(),
                lost: AtomicU64::new(0),
                lost_count: atomic_array![AtomicU32::new(0); SIGNALS],
            }
        }
    }

    /// Registry side, while no handler can reach the slot (it is in no poll mask): the slot
    /// now belongs to the receiver whose eventfd is `fd`, empty.
    pub(crate) fn arm(&self, fd: i32, info: bool) {
        self.pending.store(0, SeqCst);
        self.ring.reset();
        self.lost.store(0, SeqCst);
        for c in &self.lost_count {
            c.store(0, SeqCst);
        }
        self.info.store(u32::from(info), SeqCst);
        self.fd.store(fd as u32 + 1, SeqCst);
    }

    /// Registry side, once no handler can reach the slot any more: free it.
    pub(crate) fn disarm(&self) {
        self.fd.store(0, SeqCst);
    }

    /// Whether the slot's receiver wants origins (`InfoFd`).
    pub(crate) fn wants_info(&self) -> bool {
        self.info.load(SeqCst) != 0
    }

    /// The receiver's eventfd, if the slot is armed.
    pub(crate) fn fd(&self) -> Option<i32> {
        match self.fd.load(SeqCst) {
            0 => None,
            f => Some((f - 1) as i32),
        }
    }

    /// Handler side: one arrival of the signal of `bit` (origin `rec`) for this receiver;
    /// `wake(fd)` makes its eventfd readable (protocol step 1). Async-signal-safe if `wake`
    /// is: atomics, and `wake` at most once.
    pub(crate) fn deliver(&self, bit: u64, rec: &Record, wake: impl FnOnce(i32)) -> Delivery {
        let mut origin_lost = false;
        if self.wants_info() && !self.ring.push(rec) {
            // Count first, hint second: whoever sees the hint finds the count.
            if let Some(c) = self.lost_count.get(bit.trailing_zeros() as usize) {
                c.fetch_add(1, SeqCst);
            }
            self.lost.fetch_or(bit, SeqCst);
            origin_lost = true;
        }
        let before = self.pending.fetch_or(bit, SeqCst);
        if before == 0 {
            if let Some(fd) = self.fd() {
                wake(fd);
            }
        }
        Delivery {
            coalesced: before & bit != 0,
            origin_lost,
        }
    }

    /// Receiver side (step 2): the pending bits, for a plain receiver's buffer. An info
    /// receiver then calls `next_taken` until it answers `None`.
    pub(crate) fn take(&self) -> u64 {
        self.pending.swap(0, SeqCst)
    }

    /// Receiver side, after `take`: the next record, then each signal's lost count.
    pub(crate) fn next_taken(&self) -> Option<Taken> {
        if let Some(rec) = self.ring.pop() {
            return Some(Taken::Origin(rec));
        }
        let hint = self.lost.fetch_or(0, SeqCst);
        if hint == 0 {
            return None;
        }
        let i = hint.trailing_zeros() as usize;
        // Hint bit first, count second, as the handler wrote them in reverse.
        self.lost.fetch_and(!(1u64 << i), SeqCst);
        let arrivals = self.lost_count[i].swap(0, SeqCst);
        if arrivals == 0 {
            // Its count was taken with an earlier hint: nothing more to report for it.
            return self.next_taken();
        }
        Some(Taken::Lost {
            bit: 1u64 << i,
            arrivals,
        })
    }

    /// Receiver side, with its buffer empty (step 3): `clear(fd)` empties the eventfd, then
    /// `raise(fd)` makes it readable again if something arrived meanwhile.
    pub(crate) fn settle(&self, clear: impl FnOnce(i32), raise: impl FnOnce(i32)) {
        let Some(fd) = self.fd() else { return };
        clear(fd);
        if self.pending.fetch_or(0, SeqCst) != 0 {
            raise(fd);
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn rec(signo: u8, value: u64) -> Record {
        Record {
            signo,
            value,
            ..Record::default()
        }
    }

    #[test]
    fn one_wake_per_batch_and_coalescing_per_bit() {
        let s: Slot<4> = Slot::new();
        s.arm(7, false);
        let wakes = Cell::new(0);
        let wake = |fd| {
            assert_eq!(fd, 7);
            wakes.set(wakes.get() + 1)
        };
        assert!(!s.deliver(0b1, &rec(1, 0), wake).coalesced);
        assert!(s.deliver(0b1, &rec(1, 0), wake).coalesced);
        assert!(!s.deliver(0b10, &rec(2, 0), wake).coalesced);
        assert_eq!(wakes.get(), 1, "only the empty -> non-empty arrival writes");
        assert_eq!(s.take(), 0b11);
        assert_eq!(
            s.next_taken(),
            None,
            "a plain receiver's slot keeps no record"
        );
        s.deliver(0b10, &rec(2, 0), wake);
        assert_eq!(wakes.get(), 2);
    }

    #[test]
    fn settle_raises_again_only_for_a_bit_still_pending() {
        let s: Slot<4> = Slot::new();
        s.arm(3, false);
        let raised = Cell::new(0);
        s.settle(|_| {}, |_| raised.set(raised.get() + 1));
        assert_eq!(raised.get(), 0);
        s.deliver(0b100, &rec(3, 0), |_| {});
        s.settle(|_| {}, |_| raised.set(raised.get() + 1));
        assert_eq!(raised.get(), 1, "a pending bit keeps the fd readable");
        s.disarm();
        s.settle(|_| panic!("a free slot has no fd"), |_| {});
    }

    #[test]
    fn records_in_order_then_lost_counts() {
        let s: Slot<2> = Slot::new();
        s.arm(3, true);
        for v in 0..5 {
            let d = s.deliver(1 << 33, &rec(34, v), |_| {});
            assert_eq!(d.origin_lost, v >= 2);
        }
        assert_eq!(s.take(), 1 << 33);
        let mut got = Vec::new();
        while let Some(t) = s.next_taken() {
            got.push(t);
        }
        assert_eq!(
            got,
            vec![
                Taken::Origin(rec(34, 0)),
                Taken::Origin(rec(34, 1)),
                Taken::Lost {
                    bit: 1 << 33,
                    arrivals: 3
                }
            ]
        );
        // Armed again: empty.
        s.deliver(1, &rec(1, 9), |_| {});
        s.arm(4, true);
        assert_eq!(s.take(), 0);
        assert_eq!(s.next_taken(), None);
        assert_eq!(s.fd(), Some(4));
    }
}
