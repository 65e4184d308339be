//! Per-signal event counters since the process started (the public `Stats` reads them):
//! relaxed atomics, always on. The handler bumps the arrival and forwarding counters; the signal thread
//! bumps `DELIVERED` and `DROPPED_FULL`.

use super::queue::Sent;
use crate::sys::signo::TABLE_LEN;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// One count per signal number.
pub(crate) struct Counter([AtomicU64; TABLE_LEN]);

impl Counter {
    const fn new() -> Counter {
        Counter([const { AtomicU64::new(0) }; TABLE_LEN])
    }

    /// The count for signal `sig` (1..=64).
    pub(crate) fn get(&self, sig: usize) -> u64 {
        self.0[sig].load(Relaxed)
    }

    /// One more for signal `sig` (1..=64; others are not counted). Async-signal-safe: no
    /// bounds-check panic path.
    #[inline(always)]
    pub(crate) fn bump(&self, sig: usize) {
        if let Some(c) = self.0.get(sig) {
            c.fetch_add(1, Relaxed);
        }
    }

    fn clear(&self) {
        for c in &self.0 {
            c.store(0, Relaxed);
        }
    }
}

/// Times sigchan's handler ran for the signal while some channel wanted it.
pub(crate) static ARRIVALS: Counter = Counter::new();
/// Arrivals that found their bit already pending.
pub(crate) static COALESCED: Counter = Counter::new();
/// Values sent into channels.
pub(crate) static DELIVERED: Counter = Counter::new();
/// Deliveries dropped because a channel was full.
pub(crate) static DROPPED_FULL: Counter = Counter::new();
/// Arrivals whose origin the full ring could not hold.
pub(crate) static ORIGINS_LOST: Counter = Counter::new();

/// Forwarded arrivals the kernel accepted (`crate::forward`).
pub(crate) static FORWARDED: Counter = Counter::new();
/// Forwarded arrivals the kernel refused (the target is gone, or not ours to signal).
pub(crate) static FORWARD_FAILED: Counter = Counter::new();
/// Arrivals a forward's rewrite table discarded.
pub(crate) static DISCARDED: Counter = Counter::new();

/// Handler side: counts one arrival of `sig` (1..=64, checked by the caller) as `send` saw it.
#[inline(always)]
pub(crate) fn count_arrival(sig: usize, sent: Sent) {
    ARRIVALS.bump(sig);
    if sent.coalesced() {
        COALESCED.bump(sig);
    }
    if matches!(sent, Sent::OriginLost { .. }) {
        ORIGINS_LOST.bump(sig);
    }
}

/// In a forked child: the counters describe this process, which starts with none.
pub(crate) fn reset_after_fork() {
    for c in [
        &ARRIVALS,
        &COALESCED,
        &DELIVERED,
        &DROPPED_FULL,
        &ORIGINS_LOST,
        &FORWARDED,
        &FORWARD_FAILED,
        &DISCARDED,
    ] {
        c.clear();
    }
}
