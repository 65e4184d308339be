//! Subscribers, per-signal reference counts and the dispositions saved at first touch
//! (Go's `os/signal` `handlers` plus the runtime's `fwdSig`). Guarded by one std mutex
//! (futex-based: safe to release in a forked child, see `thread::before_fork`); the handler
//! never touches any of it.

use crate::deferred::Deferred;
use crate::handler;
use crate::signal::MAX_SIGNAL;
use crate::sink::{Delivered, Sink};
use crate::sync::lock;
use crate::sys::{self, KernelSigaction, SIG_IGN};
use crate::{thread, Error, SigInfo, Signal, SignalSet, QUEUE};
use std::sync::Mutex;

const N: usize = MAX_SIGNAL as usize + 1;

struct Subscriber {
    sink: Sink,
    set: SignalSet,
}

/// A sink being removed from some signals: it still receives them until the signals that
/// raced the removal have drained (Go's `stopping` list), so none is lost.
struct Stopping {
    id: u64,
    sink: Sink,
    set: SignalSet,
}

pub(crate) struct Registry {
    subs: Vec<Subscriber>,
    stopping: Vec<Stopping>,
    next_id: u64,
    /// Number of subscribers per signal; the signal is wanted while it is non-zero.
    refs: [u32; N],
    /// Of those, the ones that want each arrival's origin (info sinks).
    info_refs: [u32; N],
    /// The action each signal had before sigchan first touched it (or, after another
    /// library replaced a restored disposition, the handler sigchan then chained to).
    original: [Option<KernelSigaction>; N],
    /// The handler value sigchan itself last installed for each signal (its `entry`,
    /// `SIG_IGN`, or the original it restored). A disposition that differs from it was set
    /// by someone else, and sigchan leaves it alone.
    installed: [Option<usize>; N],
}

pub(crate) static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    subs: Vec::new(),
    stopping: Vec::new(),
    next_id: 0,
    refs: [0; N],
    info_refs: [0; N],
    original: [None; N],
    installed: [None; N],
});

/// What a signal's disposition becomes when sigchan lets go of it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Release {
    /// The disposition saved at first touch (stop, reset).
    Original,
    /// SIG_IGN (ignore).
    Ignore,
}

/// Validates every signal before anything changes; `&[]` means every catchable signal.
pub(crate) fn resolve(sigs: &[Signal]) -> Result<SignalSet, Error> {
    if sigs.is_empty() {
        return Ok(SignalSet::catchable());
    }
    sigs.iter().map(|s| s.check_catchable()).collect()
}

impl Registry {
    /// Saves the current action of `sig` the first time sigchan touches it.
    fn save_original(&mut self, sig: Signal) -> Result<(), Error> {
        let i = sig.as_raw() as usize;
        if self.original[i].is_none() {
            let act = sys::sigaction(sig.as_raw(), None)?;
            handler::set_original(sig.as_raw(), &act);
            self.original[i] = Some(act);
        }
        Ok(())
    }

    /// Who set the current disposition of `sig`: sigchan (`None`), or someone else, whose
    /// action is returned. Before sigchan installs anything, everything is its "original".
    fn foreign(&self, sig: Signal) -> Result<Option<KernelSigaction>, Error> {
        let i = sig.as_raw() as usize;
        let current = sys::sigaction(sig.as_raw(), None)?;
        Ok(match self.installed[i] {
            Some(h) if h != current.handler => Some(current),
            _ => None,
        })
    }

    /// First subscriber of `sig`: mark it wanted, then install the handler, so an arrival
    /// right after the install is queued.
    ///
    /// If another library installed a handler over sigchan's (tokio, signal-hook), that
    /// handler chains to sigchan's: it stays, and sigchan is reached through it. If one was
    /// installed over a disposition sigchan had given back, it does not know sigchan:
    /// sigchan installs its own and chains to it.
    fn enable(&mut self, sig: Signal) -> Result<(), Error> {
        self.save_original(sig)?;
        let i = sig.as_raw() as usize;
        let entry = handler::entry_address();
        let foreign = self.foreign(sig)?;
        handler::set_ignore_fallback(sig.bit(), false);
        QUEUE.enable(sig.bit());
        match foreign {
            Some(f) if self.installed[i] == Some(entry) && is_function(f.handler) => {}
            other => {
                if let Some(f) = other.filter(|f| f.handler != entry) {
                    handler::set_original(sig.as_raw(), &f);
                    self.original[i] = Some(f);
                }
                sys::sigaction(sig.as_raw(), Some(&handler::action()))?;
                self.installed[i] = Some(entry);
            }
        }
        Ok(())
    }

    /// Last subscriber of `sig` gone, or ignore/reset: stop wanting it and give the
    /// disposition back. Handlers already running see it unwanted and fall back.
    ///
    /// A disposition someone else installed after sigchan is never removed by stop or
    /// reset (their handler calls sigchan's, which then does nothing: see `handler.rs`).
    /// `ignore` is an explicit request and sets `SIG_IGN` whoever holds the signal.
    fn release(&mut self, sig: Signal, to: Release) -> Result<(), Error> {
        self.save_original(sig)?;
        let i = sig.as_raw() as usize;
        let bit = sig.bit();
        handler::set_ignore_fallback(bit, to == Release::Ignore);
        QUEUE.disable(bit);
        let act = match to {
            Release::Ignore => KernelSigaction {
                handler: SIG_IGN,
                ..Default::default()
            },
            Release::Original => {
                if self.foreign(sig)?.is_some() {
                    return Ok(());
                }
                match self.original[i] {
                    Some(a) if a.handler != handler::entry_address() => a,
                    _ => KernelSigaction::default(),
                }
            }
        };
        sys::sigaction(sig.as_raw(), Some(&act))?;
        self.installed[i] = Some(act.handler);
        Ok(())
    }

    /// A process that has just started its signal thread: if it inherited this registry
    /// (`fork`, raw or not), the stopping list was the parent's, whose threads wait for it
    /// there (forgotten, not dropped: a few bytes leak once per child), and what is
    /// subscribed is wanted again (until now it took its original action here). In the
    /// first process both lists are empty and this changes nothing.
    fn rearm(&mut self) {
        std::mem::forget(std::mem::take(&mut self.stopping));
        for i in 1..N {
            let bit = 1u64 << (i - 1);
            if self.info_refs[i] > 0 {
                QUEUE.want_info(bit, true);
            }
            if self.refs[i] > 0 {
                QUEUE.enable(bit);
            }
        }
    }

    /// Starts the signal thread if this process has none, re-arming inherited
    /// subscriptions when it starts one.
    fn ensure_thread(&mut self) -> Result<(), Error> {
        if thread::ensure_started()? {
            self.rearm();
        }
        Ok(())
    }

    fn find(&self, sink: &Sink) -> Option<usize> {
        self.subs.iter().position(|s| s.sink.same(sink))
    }

    fn push_stopping(&mut self, sink: Sink, set: SignalSet) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        self.stopping.push(Stopping { id, sink, set });
        id
    }

    /// Counts one more subscriber of `sig`; the first one turns the signal on.
    fn add_ref(&mut self, sig: Signal, info: bool) -> Result<(), Error> {
        let i = sig.as_raw() as usize;
        if info {
            self.info_refs[i] += 1;
            if self.info_refs[i] == 1 {
                QUEUE.want_info(sig.bit(), true);
            }
        }
        self.refs[i] += 1;
        if self.refs[i] == 1 {
            self.enable(sig)?;
        }
        Ok(())
    }

    /// Counts one subscriber of `sig` less; the last one gives the disposition back.
    fn drop_ref(&mut self, sig: Signal, info: bool) -> Result<(), Error> {
        let i = sig.as_raw() as usize;
        if info {
            self.info_refs[i] -= 1;
            if self.info_refs[i] == 0 {
                QUEUE.want_info(sig.bit(), false);
            }
        }
        self.refs[i] -= 1;
        if self.refs[i] == 0 {
            self.release(sig, Release::Original)?;
        }
        Ok(())
    }

    /// Removes `sigs` from every subscriber; each affected channel goes on the stopping
    /// list. Returns the stopping ids to wait for.
    fn remove_everywhere(&mut self, sigs: SignalSet, to: Release) -> Result<Vec<u64>, Error> {
        let mut ids = Vec::new();
        let mut i = 0;
        while i < self.subs.len() {
            let removed =
                SignalSet::from_raw_mask(self.subs[i].set.as_raw_mask() & sigs.as_raw_mask());
            if !removed.is_empty() {
                let sink = self.subs[i].sink.clone();
                self.subs[i].set = SignalSet::from_raw_mask(
                    self.subs[i].set.as_raw_mask() & !removed.as_raw_mask(),
                );
                ids.push(self.push_stopping(sink, removed));
            }
            if self.subs[i].set.is_empty() {
                self.subs.swap_remove(i);
            } else {
                i += 1;
            }
        }
        for sig in sigs {
            self.refs[sig.as_raw() as usize] = 0;
            self.info_refs[sig.as_raw() as usize] = 0;
            self.release(sig, to)?;
        }
        self.publish_mask();
        Ok(ids)
    }

    fn unsubscribe(&mut self, pos: usize) -> Result<Subscriber, Error> {
        let sub = self.subs.swap_remove(pos);
        let info = sub.sink.wants_info();
        for sig in sub.set {
            self.drop_ref(sig, info)?;
        }
        self.publish_mask();
        Ok(sub)
    }

    fn publish_mask(&self) {
        thread::set_unblocked(self.subscribed() | thread::init_blocked());
    }

    /// Signals some subscriber or stopping sink receives.
    fn subscribers_mask(&self) -> u64 {
        let subs = self.subs.iter().map(|s| s.set.as_raw_mask());
        let stopping = self.stopping.iter().map(|s| s.set.as_raw_mask());
        subs.chain(stopping).fold(0, |m, set| m | set)
    }

    /// Signals with at least one subscriber (the ones the signal thread must keep unblocked).
    fn subscribed(&self) -> u64 {
        (1..N)
            .filter(|&i| self.refs[i] > 0)
            .fold(0, |m, i| m | 1u64 << (i - 1))
    }
}

fn is_function(handler: usize) -> bool {
    handler != sys::SIG_DFL && handler != SIG_IGN
}

/// Waits until no signal that raced the removal can still reach the stopping channels, then
/// takes them off the list: handlers that saw the signals wanted have finished
/// (`wait_quiet`), and what they queued has been delivered (`thread::sync`). The removed
/// sinks are dropped after the lock is released (a stream's waker is user code).
fn quiesce(ids: &[u64]) {
    if ids.is_empty() {
        return;
    }
    QUEUE.wait_quiet();
    thread::sync();
    let mut later = Deferred::default();
    {
        let mut reg = lock(&REGISTRY);
        let (gone, kept) = std::mem::take(&mut reg.stopping)
            .into_iter()
            .partition(|s| ids.contains(&s.id));
        reg.stopping = kept;
        later.drop_later(gone);
    }
    later.run();
}

/// `notify`, `notify_info` and the hooks: adds `sigs` to `sink`'s subscription.
pub(crate) fn notify(sink: Sink, sigs: &[Signal]) -> Result<(), Error> {
    let set = resolve(sigs)?;
    {
        let mut reg = lock(&REGISTRY);
        reg.ensure_thread()?;
        let info = sink.wants_info();
        let pos = match reg.find(&sink) {
            Some(p) => p,
            None => {
                reg.subs.push(Subscriber {
                    sink,
                    set: SignalSet::new(),
                });
                reg.subs.len() - 1
            }
        };
        for sig in set {
            if reg.subs[pos].set.insert(sig) {
                reg.add_ref(sig, info)?;
            }
        }
        reg.publish_mask();
    }
    // Go's handshake: the signal thread has unblocked the new signals before we return.
    thread::sync();
    Ok(())
}

pub(crate) fn stop(sink: &Sink) {
    let id = {
        let mut reg = lock(&REGISTRY);
        let Some(pos) = reg.find(sink) else {
            // Never subscribed (or already stopped): nothing to wait for; Go's hang fixed.
            return;
        };
        // After fork the child has no signal thread yet; the barrier needs one.
        let _ = reg.ensure_thread();
        // Cannot fail: the signal numbers were validated when subscribed.
        let sub = match reg.unsubscribe(pos) {
            Ok(s) => s,
            Err(_) => return,
        };
        reg.push_stopping(sub.sink, sub.set)
    };
    quiesce(&[id]);
}

pub(crate) fn ignore(sigs: &[Signal]) -> Result<(), Error> {
    let set = resolve(sigs)?;
    let ids = {
        let mut reg = lock(&REGISTRY);
        reg.ensure_thread()?;
        reg.remove_everywhere(set, Release::Ignore)?
    };
    quiesce(&ids);
    Ok(())
}

pub(crate) fn reset(sigs: &[Signal]) -> Result<(), Error> {
    let set = resolve(sigs)?;
    let ids = {
        let mut reg = lock(&REGISTRY);
        reg.ensure_thread()?;
        // Only signals sigchan touched have anything to restore.
        let touched: SignalSet = set
            .iter()
            .filter(|s| reg.original[s.as_raw() as usize].is_some())
            .collect();
        reg.remove_everywhere(touched, Release::Original)?
    };
    quiesce(&ids);
    Ok(())
}

pub(crate) fn init() -> Result<(), Error> {
    let blockable = thread::blockable();
    {
        let mut reg = lock(&REGISTRY);
        // A repeat call (from the first caller or a thread spawned after it) changes nothing.
        let repeat = sys::mask_block(0)? & blockable == blockable && thread::running_here();
        if !repeat {
            let others = thread::threads_taking_signals();
            if others > 0 {
                return Err(Error::TooLate { threads: others });
            }
        }
        let before = sys::mask_block(blockable)?;
        thread::add_init_blocked(blockable & !before);
        reg.ensure_thread()?;
        reg.publish_mask();
    }
    thread::sync();
    Ok(())
}

/// Signal thread: delivers what the handlers queued, without blocking.
/// 1. each pending signal in `sigs` (ascending) to every plain sink that wants it;
/// 2. each origin record in the ring, in arrival order, to every info sink that wants it;
/// 3. for each signal whose origin the full ring lost, one `Cause::Lost` arrival to them.
///
/// A full sink drops that delivery (counted); a sink whose receivers are gone (or a hook
/// that is done) is unsubscribed. Stopping sinks still get what raced their removal.
///
/// User code (wakers, the drop of a removed hook) runs after the registry is unlocked.
pub(crate) fn dispatch(sigs: SignalSet) {
    reraise(deliver_all(sigs));
}

/// `dispatch` but the re-raise: delivers, runs the deferred user code, and returns the
/// signals that arrived for nobody.
fn deliver_all(sigs: SignalSet) -> SignalSet {
    let mut later = Deferred::default();
    let orphans = {
        let mut reg = lock(&REGISTRY);
        // What nobody wants any more (its last subscriber left in an earlier dispatch, found
        // gone or done) arrived in the moment before it left: see `reraise`.
        let wanted = reg.subscribers_mask();
        let mut arrived = sigs.as_raw_mask();
        let mut dead: Vec<usize> = Vec::new();
        for sig in sigs {
            reg.deliver(SigInfo::unknown_origin(sig), false, &mut dead, &mut later);
        }
        while let Some(rec) = QUEUE.pop_record() {
            let info = SigInfo::from_record(&rec);
            arrived |= info.signal().bit();
            reg.deliver(info, true, &mut dead, &mut later);
        }
        // One `Cause::Lost` per arrival whose origin the full ring could not keep.
        for (bit, arrivals) in QUEUE.take_lost() {
            arrived |= bit;
            let sig = Signal::from_raw_unchecked(bit.trailing_zeros() as i32 + 1);
            for _ in 0..arrivals {
                reg.deliver(SigInfo::unknown_origin(sig), true, &mut dead, &mut later);
            }
        }
        // Remove from the highest index down so swap_remove keeps the others valid.
        dead.sort_unstable_by(|a, b| b.cmp(a));
        for pos in dead {
            if let Ok(sub) = reg.unsubscribe(pos) {
                later.drop_later(sub.sink);
            }
        }
        SignalSet::from_raw_mask(arrived & !wanted)
    };
    later.run();
    orphans
}

/// Signals queued while their last subscriber was being removed by the signal thread (a
/// `Shutdown` token that just fired, a channel found gone): their original disposition is
/// back, so sending them again makes them take their original action, as if sigchan had
/// never caught them (a second Ctrl-C kills), instead of being dropped for nobody. Signals
/// removed by `stop`, `ignore` or `reset` never get here: the stopping list receives what
/// raced those.
fn reraise(orphans: SignalSet) {
    for sig in orphans {
        let _ = sys::kill(sys::getpid(), sig.as_raw());
    }
}

impl Registry {
    /// Delivers `info` to every sink of the kind `info_sinks` that wants its signal.
    fn deliver(
        &self,
        info: SigInfo,
        info_sinks: bool,
        dead: &mut Vec<usize>,
        later: &mut Deferred,
    ) {
        let sig = info.signal();
        for (i, sub) in self.subs.iter().enumerate() {
            // A sink found gone (or done) earlier in this dispatch gets nothing more.
            if !sub.set.contains(sig) || sub.sink.wants_info() != info_sinks || dead.contains(&i) {
                continue;
            }
            if matches!(
                sub.sink.deliver(info, later),
                Delivered::Gone | Delivered::Last
            ) {
                dead.push(i);
            }
        }
        for st in &self.stopping {
            let also_subscribed = self
                .subs
                .iter()
                .any(|s| s.set.contains(sig) && s.sink.same(&st.sink));
            if st.set.contains(sig) && st.sink.wants_info() == info_sinks && !also_subscribed {
                st.sink.deliver(info, later);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SIGHUP, SIGTERM, SIGUSR1};
    use crossbeam_channel::{bounded, unbounded, Sender};

    // These touch only the registry's lists, never a disposition or mask; they are the only
    // unit tests that use the registry, and they run one at a time under this lock.
    static SERIAL: Mutex<()> = Mutex::new(());

    fn serial() -> std::sync::MutexGuard<'static, ()> {
        lock(&SERIAL)
    }

    fn subscribe(tx: &Sender<Signal>, set: SignalSet) {
        lock(&REGISTRY).subs.push(Subscriber {
            sink: Sink::Plain(tx.clone()),
            set,
        });
    }

    fn unsubscribe_all() {
        lock(&REGISTRY).subs.clear();
    }

    #[test]
    fn dispatch_sends_lower_numbers_first() {
        let _serial = serial();
        let (tx, rx) = unbounded();
        subscribe(&tx, [SIGHUP, SIGUSR1, SIGTERM].into_iter().collect());
        deliver_all([SIGTERM, SIGHUP, SIGUSR1].into_iter().collect());
        unsubscribe_all();
        assert_eq!(
            rx.try_iter().collect::<Vec<_>>(),
            vec![SIGHUP, SIGUSR1, SIGTERM]
        );
    }

    #[test]
    fn dispatch_sends_only_what_each_channel_wants_and_never_blocks() {
        let _serial = serial();
        let (full, full_rx) = bounded(1);
        let (other, other_rx) = unbounded();
        subscribe(&full, [SIGHUP, SIGTERM].into_iter().collect());
        subscribe(&other, [SIGTERM].into_iter().collect());
        deliver_all([SIGHUP, SIGTERM].into_iter().collect());
        unsubscribe_all();
        assert_eq!(
            full_rx.try_iter().collect::<Vec<_>>(),
            vec![SIGHUP],
            "TERM dropped: full"
        );
        assert_eq!(other_rx.try_iter().collect::<Vec<_>>(), vec![SIGTERM]);
    }

    #[test]
    fn stopping_channels_still_receive_until_removed() {
        let _serial = serial();
        let (tx, rx) = unbounded();
        let id =
            lock(&REGISTRY).push_stopping(Sink::Plain(tx.clone()), [SIGUSR1].into_iter().collect());
        let orphans = deliver_all([SIGUSR1, SIGHUP].into_iter().collect());
        assert_eq!(
            orphans,
            [SIGHUP].into_iter().collect(),
            "HUP arrived for nobody"
        );
        lock(&REGISTRY).stopping.retain(|s| s.id != id);
        let orphans = deliver_all([SIGUSR1].into_iter().collect());
        assert_eq!(orphans, [SIGUSR1].into_iter().collect());
        assert_eq!(rx.try_iter().collect::<Vec<_>>(), vec![SIGUSR1]);
    }

    #[test]
    fn resolve_rejects_the_whole_call_on_one_bad_signal() {
        assert!(resolve(&[SIGHUP, crate::SIGKILL]).is_err());
        assert_eq!(resolve(&[]).unwrap(), SignalSet::catchable());
        assert_eq!(resolve(&[SIGHUP, SIGHUP]).unwrap().len(), 1);
    }
}
