//! `Stats`: the per-signal counters (`sigctx::counters`) as users read them.

use crate::sigctx::counters::{
    ARRIVALS, COALESCED, DELIVERED, DISCARDED, DROPPED_FULL, FORWARDED, FORWARD_FAILED,
    ORIGINS_LOST,
};
use crate::sys::signo::TABLE_LEN;
use crate::types::signal::Signal;

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
/// use sigchan::channel::bounded;
/// let (tx, rx) = bounded(1);
/// sigchan::notify(&tx, &[sigchan::SIGUSR2])?;
/// unsafe { libc::kill(libc::getpid(), libc::SIGUSR2) };
/// rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap();
/// // The counters trail what a receiver holds by a moment: `stop` waits for the signal
/// // thread to catch up.
/// sigchan::stop(&tx);
/// let s = sigchan::stats(sigchan::SIGUSR2);
/// assert_eq!((s.arrivals, s.delivered, s.dropped_full), (1, 1, 0));
/// # Ok::<(), sigchan::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Times sigchan's handler ran for the signal while some channel or
    /// [fd receiver](crate::fd) wanted it.
    pub arrivals: u64,
    /// Arrivals merged into one still pending (the kernel and Go coalesce the same way):
    /// plain subscribers see them as one. Info subscribers still get each of them. (An
    /// arrival only fd receivers want counts here when every one of them had it pending.)
    pub coalesced: u64,
    /// Values sent into channels, and items fd receivers returned (one signal to three
    /// channels counts three).
    pub delivered: u64,
    /// Deliveries dropped because a channel was full.
    pub dropped_full: u64,
    /// Arrivals whose origin ([`crate::SigInfo`]) the full ring could not hold; each still
    /// reaches every info subscriber, as one `SigInfo` with [`crate::Cause::Lost`].
    pub origins_lost: u64,
    /// Arrivals a [`Forwarding`](crate::forward::Forwarding) sent on and the kernel
    /// accepted. Forwards are counted apart from channels: each arrival handled while the
    /// signal is forwarded bumps exactly one of `forwarded`, `forward_failed` and
    /// `discarded` (and `arrivals` only if a channel also subscribes).
    pub forwarded: u64,
    /// Forwarded arrivals the kernel refused: the target is gone (`ESRCH`) or not ours to
    /// signal (`EPERM`).
    pub forward_failed: u64,
    /// Arrivals a forward's rewrite table discarded.
    pub discarded: u64,
}

/// The counters of `sig`.
///
/// ```
/// use sigchan::channel::bounded;
/// let (tx, _rx) = bounded(1);
/// sigchan::notify(&tx, &[sigchan::SIGWINCH])?;
/// let before = sigchan::stats(sigchan::SIGWINCH);
/// assert_eq!(before.dropped_full, 0);
/// sigchan::stop(&tx);
/// # Ok::<(), sigchan::Error>(())
/// ```
pub fn stats(sig: Signal) -> Stats {
    let i = sig.index();
    Stats {
        arrivals: ARRIVALS.get(i),
        coalesced: COALESCED.get(i),
        delivered: DELIVERED.get(i),
        dropped_full: DROPPED_FULL.get(i),
        origins_lost: ORIGINS_LOST.get(i),
        forwarded: FORWARDED.get(i),
        forward_failed: FORWARD_FAILED.get(i),
        discarded: DISCARDED.get(i),
    }
}

/// The counters of every signal that has any, in ascending signal order.
///
/// ```
/// use sigchan::channel::bounded;
/// let (tx, rx) = bounded(1);
/// sigchan::notify(&tx, &[sigchan::SIGUSR1])?;
/// unsafe { libc::kill(libc::getpid(), libc::SIGUSR1) };
/// rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap();
/// let all = sigchan::stats_all();
/// assert!(all.iter().any(|(sig, s)| *sig == sigchan::SIGUSR1 && s.arrivals >= 1));
/// # Ok::<(), sigchan::Error>(())
/// ```
pub fn stats_all() -> Vec<(Signal, Stats)> {
    (1..TABLE_LEN as i32)
        .map(Signal::from_raw_unchecked)
        .map(|s| (s, stats(s)))
        .filter(|(_, st)| *st != Stats::default())
        .collect()
}
