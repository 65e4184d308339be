//! The origin ring: a fixed-capacity, lock-free, many-producer one-consumer queue of
//! `siginfo` records, between the handlers (producers, in signal context) and the signal
//! thread (the consumer). A bounded queue in the style of Dmitry Vyukov's, with a turn
//! counter per slot instead of a sequence number so a `static` ring needs no initialiser.
//!
//! State (all atomics, through `super::sync`, so loom checks this file as it is):
//! - `tail`: positions claimed by producers so far. Position `p` lives in slot `p % CAP`,
//!   on lap `p / CAP`.
//! - `head`: the next position the consumer reads (only the consumer writes it).
//! - `turn` of each slot: `2 * lap` while the slot is free for lap `lap` (or claimed and
//!   being written), `2 * lap + 1` once the record of lap `lap` is published.
//!
//! Invariants:
//! 1. A producer writes a slot only after claiming its position with a CAS on `tail` that
//!    it made after reading `turn == 2 * lap`: the consumer has finished with the previous
//!    lap (it stored that turn with Release after reading) and no other producer holds
//!    the position (the CAS is unique per position).
//! 2. The consumer reads a slot only after an Acquire load of `turn == 2 * lap + 1`, which
//!    the producer stored with Release after writing: it sees the whole record.
//! 3. `push` never waits: a slot still holding an unread record of the previous lap means
//!    the ring is full, and `push` fails at once. The caller falls back to the bitmask.
//!    A producer interrupted between claim and publish (descheduled, or stopped) only
//!    holds back the consumer at that position; it publishes when it resumes and then
//!    wakes the consumer itself, so nothing waits on anything that cannot run.
//! 4. Records come out in the order their positions were claimed.

use super::record::Record;
use super::sync::{AtomicU64, Ordering::Acquire, Ordering::Relaxed, Ordering::Release};

struct Slot {
    turn: AtomicU64,
    // The record as plain words: written by one producer, then read by the consumer, each
    // ordered by `turn` (Relaxed accesses suffice; atomics keep it free of `unsafe`).
    words: [AtomicU64; 3],
    value: AtomicU64,
}

impl Slot {
    maybe_const_fn! {
        fn new() -> Slot {
            Slot {
                turn: AtomicU64::new(0),
                words: [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)],
                value: AtomicU64::new(0),
            }
        }
    }
}

pub(crate) struct Ring<const CAP: usize> {
    tail: AtomicU64,
    head: AtomicU64,
    slots: [Slot; CAP],
}

impl<const CAP: usize> Ring<CAP> {
    maybe_const_fn! {
        pub(crate) fn new() -> Self {
            Ring {
                tail: AtomicU64::new(0),
                head: AtomicU64::new(0),
                slots: atomic_array![Slot::new(); CAP],
            }
        }
    }

    fn slot(&self, pos: u64) -> (&Slot, u64) {
        (&self.slots[(pos % CAP as u64) as usize], pos / CAP as u64)
    }

    /// Producer side (handlers): appends `rec`, or returns false at once if the ring is full.
    /// Lock-free and async-signal-safe: loads, one CAS per attempt, stores.
    pub(crate) fn push(&self, rec: &Record) -> bool {
        let mut pos = self.tail.load(Relaxed);
        loop {
            let (slot, lap) = self.slot(pos);
            let turn = slot.turn.load(Acquire);
            if turn == 2 * lap {
                match self
                    .tail
                    .compare_exchange_weak(pos, pos + 1, Relaxed, Relaxed)
                {
                    Ok(_) => {
                        for (w, v) in slot.words.iter().zip(rec.to_words()) {
                            w.store(v, Relaxed);
                        }
                        slot.value.store(rec.value, Relaxed);
                        slot.turn.store(2 * lap + 1, Release);
                        return true;
                    }
                    Err(now) => pos = now,
                }
            } else if turn < 2 * lap {
                // The consumer has not yet read this slot's previous lap: full.
                return false;
            } else {
                // Our `tail` was stale: another producer already took this position.
                pos = self.tail.load(Relaxed);
            }
        }
    }

    /// Consumer side (the signal thread only): the next published record, if any. Stops at
    /// a claimed but unpublished position; its producer wakes the consumer once done.
    pub(crate) fn pop(&self) -> Option<Record> {
        let pos = self.head.load(Relaxed);
        let (slot, lap) = self.slot(pos);
        if slot.turn.load(Acquire) != 2 * lap + 1 {
            return None;
        }
        let w = [
            slot.words[0].load(Relaxed),
            slot.words[1].load(Relaxed),
            slot.words[2].load(Relaxed),
        ];
        let rec = Record::from_words(w, slot.value.load(Relaxed));
        slot.turn.store(2 * lap + 2, Release);
        self.head.store(pos + 1, Relaxed);
        Some(rec)
    }

    /// In a forked child, with signals blocked: pending records belonged to the parent (the
    /// kernel does not give a child its parent's pending signals either), and a position a
    /// parent thread claimed would never be published. Start empty. (Also an fd receiver's
    /// slot when it is handed out, with no producer able to reach it.)
    pub(crate) fn reset(&self) {
        for s in &self.slots {
            s.turn.store(0, Relaxed);
        }
        self.head.store(0, Relaxed);
        self.tail.store(0, Release);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn rec(v: u64) -> Record {
        Record {
            signo: 35,
            code: -1,
            pid: 1234,
            uid: 1000,
            value: v,
            status: -7,
        }
    }

    #[test]
    fn records_round_trip_every_field() {
        let r: Ring<4> = Ring::new();
        assert!(r.push(&rec(u64::MAX)));
        assert_eq!(r.pop(), Some(rec(u64::MAX)));
        assert_eq!(r.pop(), None);
    }

    #[test]
    fn full_ring_refuses_and_recovers_in_order_across_laps() {
        let r: Ring<3> = Ring::new();
        let mut next_out = 0;
        for v in 0..10 {
            if !r.push(&rec(v)) {
                // Full: exactly CAP records are waiting.
                assert_eq!(v - next_out, 3);
                assert_eq!(r.pop().unwrap().value, next_out);
                next_out += 1;
                assert!(r.push(&rec(v)));
            }
        }
        while let Some(x) = r.pop() {
            assert_eq!(x.value, next_out);
            next_out += 1;
        }
        assert_eq!(next_out, 10);
    }

    #[test]
    fn an_unpublished_position_holds_back_the_consumer() {
        let r: Ring<4> = Ring::new();
        // Claim position 0 without publishing it, as a producer stopped mid-push would.
        r.tail.store(1, Relaxed);
        assert!(r.push(&rec(1)));
        assert_eq!(r.pop(), None);
        // The producer resumes and publishes.
        r.slots[0].value.store(0, Relaxed);
        r.slots[0].turn.store(1, Release);
        assert_eq!(r.pop().map(|x| x.value), Some(0));
        assert_eq!(r.pop().map(|x| x.value), Some(1));
    }

    #[test]
    fn concurrent_producers_lose_nothing_and_keep_each_ones_order() {
        let r: std::sync::Arc<Ring<64>> = std::sync::Arc::new(Ring::new());
        let producers: Vec<_> = (0..2u64)
            .map(|p| {
                let r = r.clone();
                std::thread::spawn(move || {
                    for i in 0..5000u64 {
                        while !r.push(&rec(p << 32 | i)) {
                            std::thread::yield_now();
                        }
                    }
                })
            })
            .collect();
        let mut next = [0u64; 2];
        while next != [5000, 5000] {
            match r.pop() {
                Some(x) => {
                    let p = (x.value >> 32) as usize;
                    assert_eq!(x.value & 0xffff_ffff, next[p], "producer {p} out of order");
                    next[p] += 1;
                }
                None => std::thread::yield_now(),
            }
        }
        for p in producers {
            p.join().unwrap();
        }
    }
}
