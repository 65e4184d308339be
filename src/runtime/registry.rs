//! Subscribers and per-signal reference counts (Go's `os/signal` `handlers`), the
//! dispositions sigchan installed, and the dispatch step the signal thread runs. Guarded by
//! one std mutex (futex-based: safe to release in a forked child, see `before_fork`); the
//! handler never touches any of it. The dispositions to fall back to (Go's `fwdSig`) live
//! in `sigctx::original`, where the handler reads them; this file writes them.

use super::deferred::Deferred;
use super::init_mask;
use super::lock;
use super::signal_thread::{self, ForkHold};
use super::sink::{Delivered, Sink};
use crate::sigctx::queue::{Arrival, Unwanted};
use crate::sigctx::sync::jitter;
use crate::sigctx::{handler, original, PollSlot, SigDrain, POLLERS, POLL_SLOTS, QUEUE};
use crate::sys::signo::TABLE_LEN as N;
use crate::sys::{self, KernelSigaction, SIG_IGN};
use crate::types::error::Error;
use crate::types::info::SigInfo;
use crate::types::signal::{Signal, SignalSet};
use std::cell::RefCell;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::{Mutex, MutexGuard, Once};

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
    /// Signals forwarded by a `Forwarding` (`crate::forward`): the route lives in the
    /// sigqueue, where the handler reads it; sigchan's handler stays installed for them.
    forwarded: u64,
    /// Which `Forwarding` forwards each signal (its id; 0: none).
    forward_owner: [u64; N],
    /// The fd receivers' slots in use (`crate::fd`), one bit each.
    poll_taken: u64,
    /// The signals each slot's receiver still receives (`ignore` and `reset` take some).
    polls: [u64; POLL_SLOTS],
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
    forwarded: 0,
    forward_owner: [0; N],
    poll_taken: 0,
    polls: [0; POLL_SLOTS],
    installed: [None; N],
});

/// Forks this process has gone through (bumped in each child): an fd receiver that finds a
/// number other than its own is a copy in a child, and re-arms before reading its eventfd,
/// which until then is the parent's (`fd_refresh`).
static FORK_GENERATION: AtomicU64 = AtomicU64::new(0);

/// What a signal's disposition becomes when sigchan lets go of it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum GiveBack {
    /// The disposition saved at first touch (stop, reset).
    Original,
    /// SIG_IGN (ignore).
    Ignore,
}

/// Validates every signal before anything changes; `&[]` means every catchable signal.
pub(crate) fn validate(sigs: &[Signal]) -> Result<SignalSet, Error> {
    if sigs.is_empty() {
        return Ok(SignalSet::catchable());
    }
    sigs.iter().map(|s| s.check_catchable()).collect()
}

impl Registry {
    /// Saves the current action of `sig` the first time sigchan touches it.
    fn save_original(&mut self, sig: Signal) -> Result<(), Error> {
        if original::get(sig.as_raw()).is_none() {
            original::save(sig.as_raw(), &sys::sigaction_get(sig.as_raw())?);
        }
        Ok(())
    }

    /// Who set the current disposition of `sig`: sigchan (`None`), or someone else, whose
    /// action is returned. Before sigchan installs anything, everything is its "original".
    fn foreign(&self, sig: Signal) -> Result<Option<KernelSigaction>, Error> {
        let i = sig.as_raw() as usize;
        let current = sys::sigaction_get(sig.as_raw())?;
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
        QUEUE.enable(sig.bit());
        self.install(sig)
    }

    /// Installs sigchan's handler for `sig` unless it is already reached (directly, or
    /// through another library's handler that chains to it). Idempotent.
    fn install(&mut self, sig: Signal) -> Result<(), Error> {
        self.save_original(sig)?;
        let i = sig.as_raw() as usize;
        let entry = handler::entry_address();
        let foreign = self.foreign(sig)?;
        match foreign {
            Some(f) if self.installed[i] == Some(entry) && sys::is_function(f.handler) => {}
            other => {
                if let Some(f) = other.filter(|f| f.handler != entry) {
                    original::save(sig.as_raw(), &f);
                }
                // SAFETY: sigchan's own handler and restorer (`handler::action`).
                unsafe { sys::sigaction_set(sig.as_raw(), &handler::action())? };
                jitter();
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
    fn release(&mut self, sig: Signal, to: GiveBack) -> Result<(), Error> {
        self.save_original(sig)?;
        let i = sig.as_raw() as usize;
        let bit = sig.bit();
        QUEUE.disable(
            bit,
            match to {
                GiveBack::Ignore => Unwanted::Ignored,
                GiveBack::Original => Unwanted::Original,
            },
        );
        let act = match to {
            GiveBack::Ignore => KernelSigaction {
                handler: SIG_IGN,
                ..Default::default()
            },
            GiveBack::Original => {
                if self.foreign(sig)?.is_some() {
                    return Ok(());
                }
                match original::get(sig.as_raw()) {
                    Some(a) if a.handler != handler::entry_address() => a,
                    _ => KernelSigaction::default(),
                }
            }
        };
        // SAFETY: SIG_IGN, SIG_DFL, or the action the kernel reported for this signal
        // before sigchan replaced it, given back as it was.
        unsafe { sys::sigaction_set(sig.as_raw(), &act)? };
        jitter();
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
        // The parent's forwards (their routes were cleared with the queue): not this
        // process's to make. What only they held goes back to its original disposition.
        let forwarded = std::mem::take(&mut self.forwarded);
        self.forward_owner = [0; N];
        for sig in SignalSet::from_raw_mask(forwarded) {
            if self.refs[sig.as_raw() as usize] == 0 {
                let _ = self.release(sig, GiveBack::Original);
            }
        }
        // The fd receivers copied into this child: each gets an eventfd of its own under the
        // same number (the parent's is shared with the parent), empty.
        for (slot, poller) in POLLERS.iter().enumerate() {
            if self.poll_taken & 1 << slot == 0 {
                continue;
            }
            let old = poller.fd();
            if let (Some(old), Ok(new)) = (old, new_eventfd()) {
                // SAFETY: dup3 between descriptors this process owns: `old` stays open, now
                // the new eventfd; `new` closes when it drops.
                unsafe { libc::dup3(new.as_raw_fd(), old, libc::O_CLOEXEC) };
                poller.arm(old, poller.wants_info());
                for sig in SignalSet::from_raw_mask(self.polls[slot]) {
                    QUEUE.start_polling(sig.bit(), slot);
                }
            }
        }
        for i in 1..N {
            let bit = 1u64 << (i - 1);
            if self.info_refs[i] > 0 {
                QUEUE.want_info(bit);
            }
            if self.refs[i] > 0 {
                QUEUE.enable(bit);
            }
        }
    }

    /// Starts the signal thread if this process has none, re-arming inherited
    /// subscriptions when it starts one.
    fn ensure_thread(&mut self) -> Result<(), Error> {
        register_fork_handlers();
        if signal_thread::ensure_started(dispatch)? {
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
                QUEUE.want_info(sig.bit());
            }
        }
        self.refs[i] += 1;
        if self.refs[i] == 1 {
            self.enable(sig)?;
        }
        Ok(())
    }

    /// Counts one subscriber of `sig` less; the last one gives the disposition back. Returns
    /// the signal's bit if that was its last info subscriber: the caller withdraws the info
    /// interest (`Queue::withdraw_info`) once every signal is released, never before: a
    /// handler that saw the signal wanted must also see its origin wanted, or the stopping
    /// info channel, which gets records only, would miss it (sigqueue invariant 6).
    fn drop_ref(&mut self, sig: Signal, info: bool) -> Result<u64, Error> {
        let i = sig.as_raw() as usize;
        let mut last_info = 0;
        if info {
            self.info_refs[i] -= 1;
            if self.info_refs[i] == 0 {
                last_info = sig.bit();
            }
        }
        self.refs[i] -= 1;
        if self.refs[i] == 0 {
            if self.diverted(sig) {
                // Still forwarded or polled: only the queueing stops (invariant 7's route or
                // poll mask was set first).
                QUEUE.disable(sig.bit(), Unwanted::Original);
            } else {
                self.release(sig, GiveBack::Original)?;
            }
        }
        Ok(last_info)
    }

    /// Removes `sigs` from every subscriber; each affected channel goes on the stopping
    /// list. Returns the stopping ids to wait for.
    fn remove_everywhere(&mut self, sigs: SignalSet, to: GiveBack) -> Result<Vec<u64>, Error> {
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
        // Their forwards end first: marked ignored (or not) and unwanted, then the routes
        // cleared (sigqueue invariant 7), so a racing arrival is forwarded or dropped as
        // ignored (or takes the original action), never lost in between.
        let forwarded = self.forwarded & sigs.as_raw_mask();
        if forwarded != 0 {
            QUEUE.disable(
                forwarded,
                match to {
                    GiveBack::Ignore => Unwanted::Ignored,
                    GiveBack::Original => Unwanted::Original,
                },
            );
            self.unroute(forwarded);
        }
        // The fd receivers' share of them, the same way (a poll mask is a route).
        let polled = self.polled() & sigs.as_raw_mask();
        if polled != 0 {
            QUEUE.disable(
                polled,
                match to {
                    GiveBack::Ignore => Unwanted::Ignored,
                    GiveBack::Original => Unwanted::Original,
                },
            );
            for slot in 0..POLL_SLOTS {
                QUEUE.stop_polling(self.polls[slot] & polled, slot);
                self.polls[slot] &= !polled;
            }
        }
        let mut info = 0;
        for sig in sigs {
            let i = sig.as_raw() as usize;
            if self.info_refs[i] > 0 {
                info |= sig.bit();
            }
            self.refs[i] = 0;
            self.info_refs[i] = 0;
            self.release(sig, to)?;
        }
        // After every release (see `drop_ref`).
        QUEUE.withdraw_info(info);
        self.publish_mask();
        Ok(ids)
    }

    fn unsubscribe(&mut self, pos: usize) -> Result<Subscriber, Error> {
        let sub = self.subs.swap_remove(pos);
        let info = sub.sink.wants_info();
        let mut last_info = 0;
        for sig in sub.set {
            last_info |= self.drop_ref(sig, info)?;
        }
        QUEUE.withdraw_info(last_info);
        self.publish_mask();
        Ok(sub)
    }

    fn publish_mask(&self) {
        signal_thread::set_unblocked(
            self.subscribed() | init_mask::init_blocked(),
            self.takeable(),
        );
    }

    /// Signals the signal thread may take without a handler frame: sigchan's handler is
    /// what sigchan last installed for them, and it chains to no handler function.
    fn takeable(&self) -> u64 {
        let entry = handler::entry_address();
        (1..N)
            .filter(|&i| self.installed[i] == Some(entry))
            .filter(|&i| !original::chains(i as i32))
            .fold(0, |m, i| m | 1u64 << (i - 1))
    }

    /// Signals some subscriber or stopping sink receives.
    fn subscribers_mask(&self) -> u64 {
        let subs = self.subs.iter().map(|s| s.set.as_raw_mask());
        let stopping = self.stopping.iter().map(|s| s.set.as_raw_mask());
        subs.chain(stopping).fold(0, |m, set| m | set)
    }

    /// Signals with at least one subscriber, a forward or an fd receiver (the ones the
    /// signal thread must keep unblocked).
    fn subscribed(&self) -> u64 {
        (1..N)
            .filter(|&i| self.refs[i] > 0)
            .fold(self.forwarded | self.polled(), |m, i| m | 1u64 << (i - 1))
    }

    /// Signals some fd receiver receives.
    fn polled(&self) -> u64 {
        self.polls.iter().fold(0, |m, p| m | p)
    }

    /// Whether `sig` reaches a forward or an fd receiver (its handler must stay).
    fn diverted(&self, sig: Signal) -> bool {
        (self.forwarded | self.polled()) & sig.bit() != 0
    }

    /// Clears the routes of `bits` (waiting out the handlers that read them) and forgets
    /// their owners. The dispositions are the caller's business.
    fn unroute(&mut self, bits: u64) {
        QUEUE.stop_forwarding(bits);
        self.forwarded &= !bits;
        for sig in SignalSet::from_raw_mask(bits) {
            self.forward_owner[sig.as_raw() as usize] = 0;
        }
    }
}

/// Waits until no signal that raced the removal can still reach the stopping channels, then
/// takes them off the list: handlers that saw the signals wanted have finished
/// (`wait_quiet`), and what they queued has been delivered (`signal_thread::sync`). The removed
/// sinks are dropped after the lock is released (a stream's waker is user code).
fn quiesce(ids: &[u64]) {
    if ids.is_empty() {
        return;
    }
    QUEUE.wait_quiet();
    signal_thread::sync();
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
    let set = validate(sigs)?;
    {
        let mut reg = lock(&REGISTRY);
        reg.ensure_thread()?;
        reg.subscribe(sink, set)?;
        reg.publish_mask();
    }
    // Go's handshake: the signal thread has unblocked the new signals before we return.
    signal_thread::sync();
    Ok(())
}

impl Registry {
    /// Adds `set` to `sink`'s subscription (the caller publishes the mask).
    fn subscribe(&mut self, sink: Sink, set: SignalSet) -> Result<(), Error> {
        let info = sink.wants_info();
        let pos = match self.find(&sink) {
            Some(p) => p,
            None => {
                self.subs.push(Subscriber {
                    sink,
                    set: SignalSet::new(),
                });
                self.subs.len() - 1
            }
        };
        for sig in set {
            if self.subs[pos].set.insert(sig) {
                self.add_ref(sig, info)?;
            }
        }
        Ok(())
    }
}

/// `Forward::start`: forwards each signal of `sigs` along `route(sig)` (see
/// `sigctx::route`) under a fresh forward id (returned), and subscribes `tap` (a sink and its signals) in
/// the same step: the signal thread unblocks nothing new until both are in place, so an
/// arrival pending from before is both forwarded and tapped. Fails, changing nothing, if one
/// of them is already forwarded.
pub(crate) fn forward(
    sigs: &[Signal],
    route: impl Fn(Signal) -> u64,
    tap: Option<(Sink, SignalSet)>,
) -> Result<u64, Error> {
    let set = validate(sigs)?;
    let id = {
        let mut reg = lock(&REGISTRY);
        if let Some(taken) = set.iter().find(|s| reg.forwarded & s.bit() != 0) {
            return Err(Error::AlreadyForwarded(taken));
        }
        reg.ensure_thread()?;
        reg.next_id += 1;
        let id = reg.next_id;
        for sig in set {
            // Route first, handler second: an arrival right after the install is forwarded.
            QUEUE.start_forwarding(sig.bit(), route(sig));
            reg.forwarded |= sig.bit();
            reg.forward_owner[sig.as_raw() as usize] = id;
            reg.install(sig)?;
        }
        if let Some((sink, tapped)) = tap {
            reg.subscribe(sink, tapped)?;
        }
        reg.publish_mask();
        id
    };
    // As `notify`: the signal thread has unblocked them before we return.
    signal_thread::sync();
    Ok(id)
}

/// Ends the forward `id` (whatever of it `ignore` or `reset` left). When it returns no
/// arrival is forwarded for it any more; each one that raced it was forwarded or took its
/// original action (or reached the channels that still want it).
pub(crate) fn unforward(id: u64) {
    let mut reg = lock(&REGISTRY);
    let bits = (1..N)
        .filter(|&i| reg.forward_owner[i] == id)
        .fold(0u64, |m, i| m | 1 << (i - 1));
    if bits == 0 {
        return;
    }
    reg.unroute(bits);
    for sig in SignalSet::from_raw_mask(bits) {
        if reg.refs[sig.as_raw() as usize] == 0 && !reg.diverted(sig) {
            // Cannot fail: the signal was validated when forwarded.
            let _ = reg.release(sig, GiveBack::Original);
        }
    }
    reg.publish_mask();
}

/// A new eventfd for an fd receiver: non-blocking, closed on exec.
fn new_eventfd() -> Result<OwnedFd, Error> {
    // SAFETY: eventfd takes two integers and returns a new descriptor or -1.
    let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error().into());
    }
    // SAFETY: a descriptor just made, owned by no one else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `fd::SignalFd::new` and `fd::InfoFd::new`: an fd receiver of `sigs` (origins if `info`).
/// Returns its slot, its eventfd and the fork generation it was made in. Fails, changing
/// nothing (the eventfd closes as it drops), on a bad signal, when every slot is taken, or
/// when the kernel refuses the eventfd.
pub(crate) fn fd_subscribe(sigs: &[Signal], info: bool) -> Result<(usize, OwnedFd, u64), Error> {
    let set = validate(sigs)?;
    let fd = new_eventfd()?;
    let slot = {
        let mut reg = lock(&REGISTRY);
        let slot = (!reg.poll_taken).trailing_zeros() as usize;
        if slot >= POLL_SLOTS {
            return Err(Error::TooManyFdReceivers { limit: POLL_SLOTS });
        }
        reg.ensure_thread()?;
        reg.poll_taken |= 1 << slot;
        POLLERS[slot].arm(fd.as_raw_fd(), info);
        for sig in set {
            // Mask first, handler second: an arrival right after the install reaches it.
            QUEUE.start_polling(sig.bit(), slot);
            reg.polls[slot] |= sig.bit();
            if let Err(e) = reg.install(sig) {
                drop(reg);
                fd_unsubscribe(slot, |_| {});
                return Err(e);
            }
        }
        reg.publish_mask();
        slot
    };
    // As `notify`: the signal thread has unblocked them before we return.
    signal_thread::sync();
    Ok((slot, fd, FORK_GENERATION.load(SeqCst)))
}

/// Ends the fd receiver of `slot`. When it returns no handler touches the slot: each
/// arrival that raced it reached the slot, a channel that wants it or its original action.
/// `take` then sees the slot with what arrived before (still under the lock, so the slot
/// is not handed out meanwhile); afterwards it is free. The eventfd is the caller's.
pub(crate) fn fd_unsubscribe(slot: usize, take: impl FnOnce(&PollSlot)) {
    let mut reg = lock(&REGISTRY);
    if reg.poll_taken & 1 << slot == 0 {
        return;
    }
    let bits = reg.polls[slot];
    QUEUE.stop_polling(bits, slot);
    reg.polls[slot] = 0;
    for sig in SignalSet::from_raw_mask(bits) {
        if reg.refs[sig.as_raw() as usize] == 0 && !reg.diverted(sig) {
            // Cannot fail: the signal was validated when subscribed.
            let _ = reg.release(sig, GiveBack::Original);
        }
    }
    take(&POLLERS[slot]);
    POLLERS[slot].disarm();
    reg.poll_taken &= !(1 << slot);
    reg.publish_mask();
}

/// The fork generation now (see `FORK_GENERATION`).
pub(crate) fn fork_generation() -> u64 {
    FORK_GENERATION.load(SeqCst)
}

/// In a forked child, before an fd receiver copied from the parent reads its eventfd:
/// starts this process's signal thread, which re-arms every receiver with an eventfd of
/// its own (`rearm`). Returns the generation to remember.
pub(crate) fn fd_refresh() -> Result<u64, Error> {
    {
        let mut reg = lock(&REGISTRY);
        reg.ensure_thread()?;
        reg.publish_mask();
    }
    signal_thread::sync();
    Ok(FORK_GENERATION.load(SeqCst))
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
    let set = validate(sigs)?;
    let ids = {
        let mut reg = lock(&REGISTRY);
        reg.ensure_thread()?;
        reg.remove_everywhere(set, GiveBack::Ignore)?
    };
    quiesce(&ids);
    Ok(())
}

pub(crate) fn reset(sigs: &[Signal]) -> Result<(), Error> {
    let set = validate(sigs)?;
    let ids = {
        let mut reg = lock(&REGISTRY);
        reg.ensure_thread()?;
        // Only signals sigchan touched have anything to restore.
        let touched: SignalSet = set
            .iter()
            .filter(|s| original::get(s.as_raw()).is_some())
            .collect();
        reg.remove_everywhere(touched, GiveBack::Original)?
    };
    quiesce(&ids);
    Ok(())
}

pub(crate) fn init() -> Result<(), Error> {
    let blockable = init_mask::blockable();
    {
        let mut reg = lock(&REGISTRY);
        // A repeat call (from the first caller or a thread spawned after it) changes nothing.
        let repeat = sys::mask_block(0)? & blockable == blockable && signal_thread::running_here();
        if !repeat {
            let others = init_mask::threads_taking_signals(signal_thread::tid_here());
            if others > 0 {
                return Err(Error::TooLate { threads: others });
            }
        }
        let before = sys::mask_block(blockable)?;
        init_mask::add_init_blocked(blockable & !before);
        reg.ensure_thread()?;
        reg.publish_mask();
    }
    signal_thread::sync();
    Ok(())
}

/// The signal thread's dispatch step: delivers one drain, without blocking.
/// 1. each pending signal (ascending) to every plain sink that wants it;
/// 2. each origin record in the ring, in arrival order, to every info sink that wants it;
/// 3. for each signal whose origin the full ring lost, one `Cause::Lost` arrival to them.
///
/// A full sink drops that delivery (counted); a sink whose receivers are gone (or a hook
/// that is done) is unsubscribed. Stopping sinks still get what raced their removal.
///
/// User code (wakers, the drop of a removed hook) runs after the registry is unlocked.
fn dispatch(drained: SigDrain<'_>) {
    let signals = drained.signals;
    reraise(deliver_all(signals, drained));
}

/// `dispatch` but the re-raise: delivers `signals` (pending bits) and then `arrivals` (what
/// rode on them), runs the deferred user code, and returns the signals that arrived for
/// nobody.
fn deliver_all(signals: u64, arrivals: impl Iterator<Item = Arrival>) -> SignalSet {
    let mut later = Deferred::default();
    let orphans = {
        let mut reg = lock(&REGISTRY);
        // What nobody wants any more (its last subscriber left in an earlier dispatch, found
        // gone or done) arrived in the moment before it left: see `reraise`.
        let wanted = reg.subscribers_mask();
        let mut arrived = signals;
        let mut dead: Vec<usize> = Vec::new();
        for sig in SignalSet::from_raw_mask(signals) {
            reg.deliver(SigInfo::unknown_origin(sig), false, &mut dead, &mut later);
        }
        for arrival in arrivals {
            match arrival {
                Arrival::Origin(rec) => {
                    let info = SigInfo::from_record(&rec);
                    arrived |= info.signal().bit();
                    reg.deliver(info, true, &mut dead, &mut later);
                }
                // One `Cause::Lost` per arrival whose origin the full ring could not keep.
                Arrival::Lost { bit, arrivals } => {
                    arrived |= bit;
                    let sig = Signal::from_raw_unchecked(bit.trailing_zeros() as i32 + 1);
                    for _ in 0..arrivals {
                        reg.deliver(SigInfo::unknown_origin(sig), true, &mut dead, &mut later);
                    }
                }
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

/// `fork` copies only the calling thread. The prepare handler takes sigchan's locks, the
/// registry's first and then the signal thread's control (the order every other path takes
/// them in), so no other thread holds them at the moment of the fork; both sides then
/// release them. The signal thread's part (`signal_thread::before_fork` and the two after
/// it) also blocks signals across the fork and, in the child, forgets the parent's thread.
///
/// The locks are std's futex mutexes on purpose: parking_lot's eventual fairness may hand a
/// lock being released to a thread parked on it, and in the child that thread does not
/// exist, so the lock would stay held forever (seen here as a deadlock after fork).
fn register_fork_handlers() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| sys::pthread::at_fork(before_fork, after_fork_parent, after_fork_child));
}

/// What the prepare handler holds until the parent's or child's handler.
struct ForkState {
    _registry: MutexGuard<'static, Registry>,
    thread: ForkHold,
}

thread_local! {
    /// All three handlers run on the forking thread.
    static FORK_STATE: RefCell<Option<ForkState>> = const { RefCell::new(None) };
}

extern "C" fn before_fork() {
    let registry = lock(&REGISTRY);
    let thread = signal_thread::before_fork();
    FORK_STATE.with(|g| {
        *g.borrow_mut() = Some(ForkState {
            _registry: registry,
            thread,
        })
    });
}

extern "C" fn after_fork_parent() {
    if let Some(state) = FORK_STATE.with(|g| g.borrow_mut().take()) {
        signal_thread::after_fork_in_parent(state.thread);
    }
}

extern "C" fn after_fork_child() {
    FORK_GENERATION.fetch_add(1, SeqCst);
    if let Some(state) = FORK_STATE.with(|g| g.borrow_mut().take()) {
        signal_thread::after_fork_in_child(state.thread);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::signal::{SIGHUP, SIGKILL, SIGTERM, SIGUSR1};
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

    /// A dispatch of pending `sigs` with no records behind them.
    fn deliver_plain(sigs: impl IntoIterator<Item = Signal>) -> SignalSet {
        let bits = sigs.into_iter().fold(0, |m, s| m | s.bit());
        deliver_all(bits, std::iter::empty())
    }

    fn unsubscribe_all() {
        lock(&REGISTRY).subs.clear();
    }

    #[test]
    fn dispatch_sends_lower_numbers_first() {
        let _serial = serial();
        let (tx, rx) = unbounded();
        subscribe(&tx, [SIGHUP, SIGUSR1, SIGTERM].into_iter().collect());
        deliver_plain([SIGTERM, SIGHUP, SIGUSR1]);
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
        deliver_plain([SIGHUP, SIGTERM]);
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
        let orphans = deliver_plain([SIGUSR1, SIGHUP]);
        assert_eq!(
            orphans,
            [SIGHUP].into_iter().collect(),
            "HUP arrived for nobody"
        );
        lock(&REGISTRY).stopping.retain(|s| s.id != id);
        let orphans = deliver_plain([SIGUSR1]);
        assert_eq!(orphans, [SIGUSR1].into_iter().collect());
        assert_eq!(rx.try_iter().collect::<Vec<_>>(), vec![SIGUSR1]);
    }

    #[test]
    fn validate_rejects_the_whole_call_on_one_bad_signal() {
        assert!(validate(&[SIGHUP, SIGKILL]).is_err());
        assert_eq!(validate(&[]).unwrap(), SignalSet::catchable());
        assert_eq!(validate(&[SIGHUP, SIGHUP]).unwrap().len(), 1);
    }
}
