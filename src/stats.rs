//! Per-signal counters since the process started: cheap relaxed atomics, always on.

use crate::queue::Sent;
use crate::Signal;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

const N: usize = crate::signal::MAX_SIGNAL as usize + 1;

static ARRIVALS: [AtomicU64; N] = [const { AtomicU64::new(0) }; N];
static COALESCED: [AtomicU64; N] = [const { AtomicU64::new(0) }; N];
static DELIVERED: [AtomicU64; N] = [const { AtomicU64::new(0) }; N];
static DROPPED_FULL: [AtomicU64; N] = [const { AtomicU64::new(0) }; N];
static ORIGINS_LOST: [AtomicU64; N] = [const { AtomicU64::new(0) }; N];

/// Counts for one signal since the process started (all channels together).
///
/// Each counter is bumped right after its event (a value sent, a bit queued), so it can trail
/// by a moment what a receiver already holds; it never runs ahead.
///
/// **The identity they satisfy.** Once the signal thread has caught up (for example after
/// [`stop`](crate::stop) returns), for a signal whose subscribers did not change while the
/// arrivals were counted, with `P` plain subscribers ([`notify`](crate::notify) channels,
/// [`Shutdown`](crate::Shutdown) tokens, `SignalStream`s) and `I` info subscribers
/// ([`notify_info`](crate::notify_info) channels, `InfoStream`s), none of them gone:
///
/// ```text
/// delivered + dropped_full == P * (arrivals - coalesced) + I * arrivals
/// ```
///
/// Plain subscribers get one value per arrival that was not merged into a pending one; info
/// subscribers get one value per arrival, [`Cause::Lost`](crate::Cause::Lost) for each of
/// the `origins_lost` ones. `coalesced` counts merges whatever kinds of subscriber there are.
///
/// **In a forked child** the counters start again from zero: they describe the process
/// they are read in, not its parent.
///
/// ```
/// use crossbeam_channel::bounded;
/// let (tx, rx) = bounded(1);
/// sigchan::notify(&tx, &[sigchan::SIGUSR2])?;
/// unsafe { libc::kill(libc::getpid(), libc::SIGUSR2) };
/// rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap();
/// let s = sigchan::stats(sigchan::SIGUSR2);
/// assert_eq!((s.arrivals, s.delivered, s.dropped_full), (1, 1, 0));
/// # Ok::<(), sigchan::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Times sigchan's handler ran for the signal while some channel wanted it.
    pub arrivals: u64,
    /// Arrivals merged into one still pending (the kernel and Go coalesce the same way):
    /// plain subscribers see them as one. Info subscribers still get each of them.
    pub coalesced: u64,
    /// Values sent into channels (one signal to three channels counts three).
    pub delivered: u64,
    /// Deliveries dropped because a channel was full.
    pub dropped_full: u64,
    /// Arrivals whose origin ([`crate::SigInfo`]) the full ring could not hold; each still
    /// reaches every info subscriber, as one `SigInfo` with [`crate::Cause::Lost`].
    pub origins_lost: u64,
}

/// The counters of `sig`.
///
/// ```
/// use crossbeam_channel::bounded;
/// let (tx, _rx) = bounded(1);
/// sigchan::notify(&tx, &[sigchan::SIGWINCH])?;
/// let before = sigchan::stats(sigchan::SIGWINCH);
/// assert_eq!(before.dropped_full, 0);
/// sigchan::stop(&tx);
/// # Ok::<(), sigchan::Error>(())
/// ```
pub fn stats(sig: Signal) -> Stats {
    let i = sig.as_raw() as usize;
    Stats {
        arrivals: ARRIVALS[i].load(Relaxed),
        coalesced: COALESCED[i].load(Relaxed),
        delivered: DELIVERED[i].load(Relaxed),
        dropped_full: DROPPED_FULL[i].load(Relaxed),
        origins_lost: ORIGINS_LOST[i].load(Relaxed),
    }
}

/// The counters of every signal that has any, in ascending signal order.
///
/// ```
/// use crossbeam_channel::bounded;
/// let (tx, rx) = bounded(1);
/// sigchan::notify(&tx, &[sigchan::SIGUSR1])?;
/// unsafe { libc::kill(libc::getpid(), libc::SIGUSR1) };
/// rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap();
/// let all = sigchan::stats_all();
/// assert!(all.iter().any(|(sig, s)| *sig == sigchan::SIGUSR1 && s.arrivals >= 1));
/// # Ok::<(), sigchan::Error>(())
/// ```
pub fn stats_all() -> Vec<(Signal, Stats)> {
    (1..N as i32)
        .map(Signal::from_raw_unchecked)
        .map(|s| (s, stats(s)))
        .filter(|(_, st)| *st != Stats::default())
        .collect()
}

/// Handler side; `sig` is 1..=64, checked by the caller.
#[inline(always)]
pub(crate) fn count_arrival(sig: usize, sent: Sent) {
    ARRIVALS[sig].fetch_add(1, Relaxed);
    if sent.coalesced() {
        COALESCED[sig].fetch_add(1, Relaxed);
    }
    if matches!(sent, Sent::OriginLost { .. }) {
        ORIGINS_LOST[sig].fetch_add(1, Relaxed);
    }
}

/// In a forked child: the counters describe this process, which starts with none.
pub(crate) fn reset_after_fork() {
    for counters in [
        &ARRIVALS,
        &COALESCED,
        &DELIVERED,
        &DROPPED_FULL,
        &ORIGINS_LOST,
    ] {
        for c in counters {
            c.store(0, Relaxed);
        }
    }
}

pub(crate) fn count_delivered(sig: Signal) {
    DELIVERED[sig.as_raw() as usize].fetch_add(1, Relaxed);
}

pub(crate) fn count_dropped(sig: Signal) {
    DROPPED_FULL[sig.as_raw() as usize].fetch_add(1, Relaxed);
}
