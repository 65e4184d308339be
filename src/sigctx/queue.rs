//! The sigqueue: Go's `runtime/sigqueue.go`, between the handlers (many senders, in signal
//! context) and the signal thread (the one receiver).
//!
//! State, all atomics (through `super::sync`, so loom can check this file as it is):
//! - `pending`: bit `n - 1` set when signal `n` arrived and the receiver has not taken it.
//! - `wanted`: bit set while some channel subscribes to the signal. Handlers read it.
//! - `state`: `IDLE` (the receiver is awake, processing), `RECEIVING` (it sleeps, or is about
//!   to, on the futex of this very word), `SENDING` (a sender posted bits while it was awake).
//!   Go keeps a separate `note`; here the state word is the note, so a wake-up and the state
//!   change that justifies it are one atomic.
//! - `delivering`: low 16 bits count senders inside `send`; high 16 bits count threads in
//!   `wait_quiet` (the stop protocol). `quiet` is an epoch bumped when the count falls to zero
//!   while someone waits, and the futex word those waiters sleep on.
//! - `info_wanted`: the signals whose subscribers (or stopping channels) want each
//!   arrival's origin; for these a sender that finds the signal wanted also pushes a record
//!   into `ring` (see `ring.rs`), or, when the ring is full, counts the arrival in
//!   `lost_count` and sets the signal's bit in `lost` (a hint of which counts to take), so
//!   every arrival whose origin was lost is accounted for.
//! - `ignoring`: the signals `ignore` took from their subscribers: a sender that finds such a
//!   signal unwanted drops it (`Sent::Ignored`) instead of taking its original action.
//! - `routes`: per signal, where its arrivals are forwarded (`crate::forward`): an opaque
//!   non-zero word the handler decodes (`super::route`), 0 when the signal is not forwarded.
//!   A sender that finds a route forwards the arrival itself, inside its `delivering`
//!   count: no bit, no wake-up, the receiver never hears of it.
//! - `polled`: per signal, the fd receivers (`crate::fd`) that want it, one bit per slot of
//!   `super::POLLERS`. A sender hands the arrival to each of them itself, inside its
//!   `delivering` count, exactly as it forwards along a route: a poll mask is a route.
//!
//! Invariants:
//! 1. A bit is set in `pending` only by a sender that saw it in `wanted` after incrementing
//!    `delivering` (SeqCst on both sides, so `disable` + `wait_quiet` see every such sender).
//! 2. After a sender sets a new bit, it leaves `state` in `IDLE` or `SENDING`, never
//!    `RECEIVING`: either it moved `RECEIVING -> IDLE` and woke the receiver, or it moved
//!    `IDLE -> SENDING`, or found `SENDING`. So the receiver always comes round to `take`
//!    after the bit was set: no lost wake-up.
//! 3. Only a sender moves `RECEIVING -> IDLE`, and only the receiver moves `IDLE -> RECEIVING`
//!    and `SENDING -> IDLE`; the receiver never leaves `wait` while `state == RECEIVING`.
//!    Hence `state == RECEIVING` means everything sent so far has been taken and processed.
//! 4. The handler does at most one futex wake for the receiver, and only if it was asleep
//!    (`RECEIVING`); a second wake happens only while a `wait_quiet` caller is registered.
//!    A handler running on the receiver's own thread (init mode: it interrupted the
//!    receiver's `FUTEX_WAIT`) ends `RECEIVING` without the wake: the interrupted wait
//!    restarts, finds the word changed and returns. So does the receiver's own sleep when it
//!    takes a signal itself (`wait_with`): it is a sender on the receiver's thread. While the
//!    receiver sleeps in `rt_sigtimedwait` rather than on the futex, the wake is a kick
//!    (`super::receiver::kick`); `poke` counts itself in `delivering` as a sender does, so a
//!    `wait_quiet` sees out every kick in flight.
//! 5. A sender publishes its record (or its `lost` count and bit) before its `fetch_or` on
//!    `pending`; the receiver takes `pending` before it drains `ring` and takes `lost`. The take that
//!    clears the bit reads from that `fetch_or` (or a later RMW), so the drain after it sees
//!    the record. Every record is thus followed by a bit the receiver has still to take, and
//!    invariant 2 brings the receiver round for it: no wake-up of its own is needed, even
//!    when the bit coalesced, or when the receiver stopped at a claimed slot whose record was
//!    not yet published (its sender's `fetch_or` comes after it publishes).
//! 6. A sender reads `wanted` first and the word that qualifies its answer second
//!    (`info_wanted` when wanted, `ignoring` when not), both inside its `delivering` count:
//!    two words read apart. So a qualifier changes only after `wanted` has changed and a
//!    `wait_quiet` has seen out every sender that read the old `wanted`: `withdraw_info`
//!    clears `info_wanted` after the `disable` of its signals, and `enable` clears `ignoring`
//!    after setting the bit. (Setting a qualifier goes first instead: `want_info` before
//!    `enable`, `ignoring` before the bit is cleared.) A sender therefore never sees a
//!    signal wanted without the origin its stopping info channel needs, nor sees it unwanted
//!    without the `ignore` that made it so.
//! 7. A sender reads its route after `wanted` (and before `ignoring`) and forwards before it
//!    leaves its `delivering` count. A route is set before anything that may stop the
//!    signal being wanted; it is cleared between two `wait_quiet`s (`stop_forwarding`): the
//!    first sees out every sender that read `wanted` before the change that made it
//!    wanted (a hand-over from forwarding to a channel), the second every sender that read
//!    the route before it was cleared. So an arrival is always queued, forwarded or given
//!    its original action (or dropped as ignored) and never none of these, and once
//!    `stop_forwarding` returns nothing more is forwarded on the old route. A poll mask
//!    follows the same rule (`start_polling`, `stop_polling`): a slot is added before
//!    anything that may stop the signal being wanted, and removed between two
//!    `wait_quiet`s, after which no sender touches the slot for that signal.
//!
//! Every decision rests on a read-modify-write (which reads the latest value and
//! synchronizes with the RMW before it), never on a plain load alone: the argument then
//! holds in the C11 model as loom checks it (loom treats SeqCst loads as acquire loads),
//! not only on hardware that happens to be stronger. No fence is needed in the handler.

use super::record::Record;
use super::ring::Ring;
use super::sync::{AtomicU32, AtomicU64, Futex, Ordering::SeqCst};

const IDLE: u32 = 0;
const RECEIVING: u32 = 1;
const SENDING: u32 = 2;

const COUNT_MASK: u32 = 0xffff;
const WAITER: u32 = 0x1_0000;

/// What a sender does with a signal nobody wants (`Queue::disable`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Unwanted {
    /// Its original action.
    Original,
    /// Nothing: `ignore` took it.
    Ignored,
}

/// What `send` did with a signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sent {
    /// Nobody wants the signal: the caller must take its original action.
    NotWanted,
    /// Nobody wants the signal because `ignore` took it: the caller drops it.
    Ignored,
    /// No channel wants the signal; its route or its fd receivers took it (`send_routed`'s
    /// `divert`).
    Diverted,
    /// Newly queued; the receiver will deliver it.
    Queued,
    /// Already pending: coalesced into the earlier arrival.
    Coalesced,
    /// Its origin was recorded in the ring (the pending bit is set too). `coalesced`: the
    /// bit was already pending, so plain subscribers see this arrival merged.
    Recorded { coalesced: bool },
    /// Its origin was wanted but the ring was full: the bit and a `lost` count carry it.
    OriginLost { coalesced: bool },
}

impl Sent {
    /// The arrival found its bit already pending (merged for plain subscribers).
    pub(crate) fn coalesced(self) -> bool {
        matches!(
            self,
            Sent::Coalesced
                | Sent::Recorded { coalesced: true }
                | Sent::OriginLost { coalesced: true }
        )
    }
}

/// Number of signal numbers (1..=64), one lost counter each.
const SIGNALS: usize = 64;

/// What one `drain` took: the signals that arrived, then what rode on them.
pub(crate) struct Drain<'q, const CAP: usize> {
    queue: &'q Queue<CAP>,
    /// The pending bits taken (bit `n - 1` = signal `n`), for plain subscribers.
    pub(crate) signals: u64,
    stage: Stage,
}

enum Stage {
    Records,
    /// Lost counts of the signals in the hint not yet visited (`lost` was swapped once).
    Lost(u64),
    Done,
}

/// One item of a `Drain`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Arrival {
    /// An arrival whose origin the ring kept.
    Origin(Record),
    /// `arrivals` arrivals of the signal of `bit` whose origin a full ring lost.
    Lost { bit: u64, arrivals: u32 },
}

impl<const CAP: usize> Iterator for Drain<'_, CAP> {
    type Item = Arrival;

    /// Records first, lost counts after (the ring is drained before `lost` is taken). Every
    /// lost arrival is counted exactly once: a count taken early (its sender's hint still to
    /// come) is simply not found again when the hint shows up, and a hint whose count was
    /// already taken yields nothing.
    fn next(&mut self) -> Option<Arrival> {
        loop {
            match self.stage {
                Stage::Records => match self.queue.ring.pop() {
                    Some(rec) => return Some(Arrival::Origin(rec)),
                    None => self.stage = Stage::Lost(self.queue.lost.swap(0, SeqCst)),
                },
                Stage::Lost(0) | Stage::Done => {
                    self.stage = Stage::Done;
                    return None;
                }
                Stage::Lost(hint) => {
                    let i = hint.trailing_zeros() as usize;
                    self.stage = Stage::Lost(hint & (hint - 1));
                    let arrivals = self.queue.lost_count[i].swap(0, SeqCst);
                    if arrivals > 0 {
                        let bit = 1u64 << i;
                        return Some(Arrival::Lost { bit, arrivals });
                    }
                }
            }
        }
    }
}

pub(crate) struct Queue<const CAP: usize> {
    pending: AtomicU64,
    wanted: AtomicU64,
    info_wanted: AtomicU64,
    ignoring: AtomicU64,
    routes: [AtomicU64; SIGNALS],
    polled: [AtomicU64; SIGNALS],
    lost: AtomicU64,
    lost_count: [AtomicU32; SIGNALS],
    state: Futex,
    delivering: AtomicU32,
    quiet: Futex,
    ring: Ring<CAP>,
    /// The models' stand-in for `super::receiver::KICK` (the signal a sleeping receiver is
    /// kicked with, 0: none) and for the kicks that landed on the receiver's thread.
    #[cfg(loom)]
    kick: AtomicU64,
    #[cfg(loom)]
    kicked: AtomicU64,
}

impl<const CAP: usize> Queue<CAP> {
    maybe_const_fn! {
        pub(crate) fn new() -> Self {
            Queue {
                pending: AtomicU64::new(0),
                wanted: AtomicU64::new(0),
                info_wanted: AtomicU64::new(0),
                ignoring: AtomicU64::new(0),
                routes: atomic_array![AtomicU64::new(0); SIGNALS],
                polled: atomic_array![AtomicU64::new(0); SIGNALS],
                lost: AtomicU64::new(0),
                lost_count: atomic_array![AtomicU32::new(0); SIGNALS],
                state: Futex::new(IDLE),
                delivering: AtomicU32::new(0),
                quiet: Futex::new(0),
                #[cfg(loom)]
                kick: AtomicU64::new(0),
                #[cfg(loom)]
                kicked: AtomicU64::new(0),
                ring: Ring::new(),
            }
        }
    }

    /// `send_routed` for a signal nobody forwards (the models and unit tests).
    #[cfg(any(test, loom))]
    pub(crate) fn send(&self, bit: u64, rec: &Record, on_receiver: bool) -> Sent {
        self.send_routed(bit, rec, on_receiver, |_, _| {})
    }

    /// Handler side (Go's `sigsend`): if the signal has a route or fd receivers, calls
    /// `divert(route, poll_mask)` (either may be 0) inside the `delivering` count (invariant
    /// 7); queues `bit` if a channel wants it, and `rec` (this arrival's origin) if an info
    /// subscriber wants it. Async-signal-safe if `divert` is: atomics, and at most one futex
    /// wake when the receiver sleeps. `on_receiver`: the caller runs on the receiver's thread
    /// (invariant 4).
    pub(crate) fn send_routed(
        &self,
        bit: u64,
        rec: &Record,
        on_receiver: bool,
        divert: impl FnOnce(u64, u64),
    ) -> Sent {
        // Counted before reading `wanted`. `wait_quiet` reads this counter only by
        // read-modify-write, so one of the two RMWs comes first: if ours, `wait_quiet` sees
        // this sender counted; if theirs, our RMW reads from it, so the `disable` before it
        // happens-before our load of `wanted`, which then sees the bit cleared.
        self.delivering.fetch_add(1, SeqCst);
        let wanted = self.wanted.load(SeqCst) & bit != 0;
        // Invariant 7: after `wanted`, inside the count. `get`: no panic path in a handler.
        let i = bit.trailing_zeros() as usize;
        let route = self.routes.get(i).map_or(0, |r| r.load(SeqCst));
        let polled = self.polled.get(i).map_or(0, |p| p.load(SeqCst));
        let diverted = route != 0 || polled != 0;
        if diverted {
            divert(route, polled);
        }
        let sent = if !wanted {
            if diverted {
                Sent::Diverted
            // Invariant 6: `ignoring` is read inside the count, like `info_wanted` below.
            } else if self.ignoring.load(SeqCst) & bit == 0 {
                Sent::NotWanted
            } else {
                Sent::Ignored
            }
        } else {
            // Record first, bit second (invariant 5).
            let recorded = if self.info_wanted.load(SeqCst) & bit == 0 {
                None
            } else if self.ring.push(rec) {
                Some(true)
            } else {
                // Count first, hint second: whoever sees the hint finds the count.
                // `get`: a bit beyond 64 cannot occur, and the handler has no panic path.
                if let Some(c) = self.lost_count.get(bit.trailing_zeros() as usize) {
                    c.fetch_add(1, SeqCst);
                }
                self.lost.fetch_or(bit, SeqCst);
                Some(false)
            };
            let new = self.set_pending(bit);
            if new {
                self.notify_receiver(!on_receiver);
            }
            let coalesced = !new;
            match recorded {
                Some(true) => Sent::Recorded { coalesced },
                Some(false) => Sent::OriginLost { coalesced },
                None if new => Sent::Queued,
                None => Sent::Coalesced,
            }
        };
        self.leave();
        sent
    }

    /// Ends a sender's (or a poke's) `delivering` count.
    fn leave(&self) {
        let prev = self.delivering.fetch_sub(1, SeqCst);
        if prev & COUNT_MASK == 1 && prev & !COUNT_MASK != 0 {
            // The last sender left while a stop waits for exactly this moment.
            self.quiet.fetch_add(1, SeqCst);
            self.quiet.wake_all();
        }
    }

    /// Sets `bit` in `pending`; false if it was already set. Go uses a CAS loop; `fetch_or`
    /// is the same read-modify-write in one instruction, and its answer ("already set") comes
    /// from the latest value, so a bit the receiver just took is never mistaken for pending.
    fn set_pending(&self, bit: u64) -> bool {
        self.pending.fetch_or(bit, SeqCst) & bit == 0
    }

    /// Makes the receiver come round (invariant 2). Used by senders and by `poke`. `wake`
    /// false only on the receiver's own thread, which is not in the futex then.
    fn notify_receiver(&self, wake: bool) {
        loop {
            match self.state.load(SeqCst) {
                IDLE => {
                    if self
                        .state
                        .compare_exchange(IDLE, SENDING, SeqCst, SeqCst)
                        .is_ok()
                    {
                        return;
                    }
                }
                RECEIVING => {
                    if self
                        .state
                        .compare_exchange(RECEIVING, IDLE, SeqCst, SeqCst)
                        .is_ok()
                    {
                        if wake {
                            self.wake_receiver();
                        }
                        return;
                    }
                }
                // SENDING: a wake-up is already due. Confirm with a read-modify-write: the
                // receiver's later `SENDING -> IDLE` then reads from it and its `take` sees
                // our bit. Any other value cannot occur.
                _ => {
                    if self
                        .state
                        .compare_exchange(SENDING, SENDING, SeqCst, SeqCst)
                        .is_ok()
                    {
                        return;
                    }
                }
            }
        }
    }

    /// Wakes the receiver out of its sleep: the futex wake, or, while it sleeps in
    /// `rt_sigtimedwait` (`wait_with`), the kick `super::receiver` describes.
    #[cfg(not(loom))]
    fn wake_receiver(&self) {
        if !super::receiver::kick() {
            self.state.wake_one();
        }
    }

    /// The models' receiver always sleeps on the futex; a kick, read as the real one is
    /// (after ending `RECEIVING`), lands in `kicked`.
    #[cfg(loom)]
    fn wake_receiver(&self) {
        let kick = self.kick.load(SeqCst);
        if kick != 0 {
            self.kicked.fetch_or(kick, SeqCst);
        }
        self.state.wake_one();
    }

    /// Models `receiver::set_kick`: the signal the receiver's next sleep is kicked with.
    #[cfg(loom)]
    pub(crate) fn set_kick(&self, bits: u64) {
        self.kick.store(bits, SeqCst);
    }

    /// Models `receiver::pause_kicks`: no kick, and every poke that read one before waited
    /// out, until `resume_kicks`; returns the kick to restore.
    #[cfg(loom)]
    pub(crate) fn pause_kicks(&self) -> u64 {
        let saved = self.kick.swap(0, SeqCst);
        self.wait_quiet();
        saved
    }

    /// Models `receiver::resume_kicks`.
    #[cfg(loom)]
    pub(crate) fn resume_kicks(&self, saved: u64) {
        self.kick.store(saved, SeqCst);
    }

    /// Models the receiver taking the kicks pending on its thread.
    #[cfg(loom)]
    pub(crate) fn take_kicks(&self) -> u64 {
        self.kicked.swap(0, SeqCst)
    }

    /// Makes the receiver run one more cycle even if nothing is pending (mask changes and
    /// the stop barrier ride on it). Counted in `delivering` like a sender, so `wait_quiet`
    /// also sees out a poke's wake-up (the kick a receiver waits out before it unblocks the
    /// kick's signal).
    pub(crate) fn poke(&self) {
        self.delivering.fetch_add(1, SeqCst);
        self.notify_receiver(true);
        self.leave();
    }

    /// Receiver side, once per cycle: takes every pending bit and returns them with what
    /// rides on them (invariant 5). Iterate the `Drain` to the end: it yields each published
    /// origin record in ring order, then, per signal whose origin a full ring lost, how many
    /// arrivals were lost. With no bit taken it yields nothing: a record is always followed
    /// by a bit still to take, so the cycle that takes it drains it.
    pub(crate) fn drain(&self) -> Drain<'_, CAP> {
        let signals = self.pending.swap(0, SeqCst);
        Drain {
            queue: self,
            signals,
            stage: if signals == 0 {
                Stage::Done
            } else {
                Stage::Records
            },
        }
    }

    /// Receiver side (the `Receive` loop of Go's `signal_recv`): returns once something was
    /// sent since the last `take`, sleeping on the futex meanwhile. Never times out.
    pub(crate) fn wait(&self) {
        self.wait_with(|| self.state.wait(RECEIVING));
    }

    /// `wait`, sleeping with `sleep` instead of the futex: `sleep` returns after a wake-up
    /// (or spuriously) and may itself send (`on_receiver`), which ends the wait like any
    /// sender does. The signal thread's sleep in `rt_sigtimedwait`, woken by the kick.
    pub(crate) fn wait_with(&self, mut sleep: impl FnMut()) {
        loop {
            match self.state.load(SeqCst) {
                IDLE => {
                    if self
                        .state
                        .compare_exchange(IDLE, RECEIVING, SeqCst, SeqCst)
                        .is_ok()
                    {
                        // Invariant 3: only a sender ends RECEIVING; spurious wake-ups loop.
                        while self.state.load(SeqCst) == RECEIVING {
                            sleep();
                        }
                        return;
                    }
                }
                SENDING => {
                    if self
                        .state
                        .compare_exchange(SENDING, IDLE, SeqCst, SeqCst)
                        .is_ok()
                    {
                        return;
                    }
                }
                _ => unreachable!("only the receiver sets RECEIVING"),
            }
        }
    }

    /// A first subscriber of the signals in `bits`: senders queue them from now on. Ends
    /// an `ignore` of them once no sender can still be reading `wanted` from before this
    /// call (invariant 6): until then, one that saw them unwanted drops them as ignored.
    pub(crate) fn enable(&self, bits: u64) {
        self.wanted.fetch_or(bits, SeqCst);
        // A read-modify-write: the latest value (the registry serialises its callers).
        if self.ignoring.fetch_or(0, SeqCst) & bits != 0 {
            self.wait_quiet();
            self.ignoring.fetch_and(!bits, SeqCst);
        }
    }

    /// Also record the origin of each arrival of the signals in `bits`. Call it before
    /// `enable`, so a signal wanted by an info subscriber only is recorded from the start.
    pub(crate) fn want_info(&self, bits: u64) {
        self.info_wanted.fetch_or(bits, SeqCst);
    }

    /// The last subscriber of the signals in `bits` left: senders no longer queue them, and
    /// from now on drop them (`then == Unwanted::Ignored`) or take their original action.
    /// Their origins are still recorded until `withdraw_info` (invariant 6).
    pub(crate) fn disable(&self, bits: u64, then: Unwanted) {
        match then {
            Unwanted::Ignored => self.ignoring.fetch_or(bits, SeqCst),
            Unwanted::Original => self.ignoring.fetch_and(!bits, SeqCst),
        };
        self.wanted.fetch_and(!bits, SeqCst);
    }

    /// Stops recording origins of the signals in `bits`: their last info subscriber left,
    /// and the `disable` of those of them nobody wants any more was called before. Waits
    /// until every sender that may have read `wanted` before that `disable` has finished
    /// (invariant 6), so each of those recorded its origin for the stopping info channels.
    pub(crate) fn withdraw_info(&self, bits: u64) {
        if bits == 0 {
            return;
        }
        self.wait_quiet();
        self.info_wanted.fetch_and(!bits, SeqCst);
    }

    /// Forwards the signal of `bit` along `route` (non-zero; `super::route` encodes it) from
    /// now on, whether or not a channel also wants it. Set before the signal stops being
    /// wanted (invariant 7); ends an `ignore` of it as `enable` does (invariant 6).
    pub(crate) fn start_forwarding(&self, bit: u64, route: u64) {
        if let Some(r) = self.routes.get(bit.trailing_zeros() as usize) {
            r.swap(route, SeqCst);
        }
        if self.ignoring.fetch_or(0, SeqCst) & bit != 0 {
            self.wait_quiet();
            self.ignoring.fetch_and(!bit, SeqCst);
        }
    }

    /// Stops forwarding the signals in `bits`. When it returns, no sender forwards them any
    /// more, and each arrival that raced it was forwarded, queued for a channel that wants
    /// it, or given its original action (dropped if ignored): invariant 7.
    pub(crate) fn stop_forwarding(&self, bits: u64) {
        self.unroute(
            bits,
            |r| {
                r.swap(0, SeqCst);
            },
            &self.routes,
        );
    }

    /// Hands the signal of `bit` to the fd receiver of slot `slot` (0..64) from now on (its
    /// slot armed before), whether or not a channel also wants it: `start_forwarding`'s
    /// rules (invariant 7).
    pub(crate) fn start_polling(&self, bit: u64, slot: usize) {
        if let Some(p) = self.polled.get(bit.trailing_zeros() as usize) {
            p.fetch_or(1u64 << slot, SeqCst);
        }
        if self.ignoring.fetch_or(0, SeqCst) & bit != 0 {
            self.wait_quiet();
            self.ignoring.fetch_and(!bit, SeqCst);
        }
    }

    /// Stops handing the signals in `bits` to the fd receiver of slot `slot`. When it
    /// returns no sender touches the slot for them, and each arrival that raced it reached
    /// the slot, a channel that wants it, or its original action (invariant 7).
    pub(crate) fn stop_polling(&self, bits: u64, slot: usize) {
        self.unroute(
            bits,
            |p| {
                p.fetch_and(!(1u64 << slot), SeqCst);
            },
            &self.polled,
        );
    }

    /// Invariant 7's removal: `clear` on the word of each signal in `bits`, between two
    /// `wait_quiet`s.
    fn unroute(&self, bits: u64, clear: impl Fn(&AtomicU64), words: &[AtomicU64; SIGNALS]) {
        if bits == 0 {
            return;
        }
        self.wait_quiet();
        for (i, w) in words.iter().enumerate() {
            if bits & 1 << i != 0 {
                clear(w);
            }
        }
        self.wait_quiet();
    }

    #[cfg(test)]
    pub(crate) fn wanted(&self) -> u64 {
        self.wanted.load(SeqCst)
    }

    /// The first half of Go's `signalWaitUntilIdle`, parked instead of spinning: returns once
    /// every `send` that started before this call has finished. Together with `disable`
    /// before it, afterwards no sender can still set a bit it saw wanted earlier.
    pub(crate) fn wait_quiet(&self) {
        // A read-modify-write after the caller's `disable`: see the comment in `send`.
        self.delivering.fetch_add(WAITER, SeqCst);
        loop {
            // Epoch first, then the count, both by read-modify-write (latest values): a
            // sender that empties the count after our read bumps the epoch after it too.
            let epoch = self.quiet.fetch_add(0, SeqCst);
            if self.delivering.fetch_add(0, SeqCst) & COUNT_MASK == 0 {
                break;
            }
            self.quiet.wait(epoch);
            if self.quiet.fetch_add(0, SeqCst) != epoch {
                // A sender saw the count reach zero after we registered: that moment
                // suffices even if new senders have started since (they read `wanted` late).
                break;
            }
        }
        self.delivering.fetch_sub(WAITER, SeqCst);
    }

    /// Futex wakes sent to the receiver so far (loom models only).
    #[cfg(loom)]
    pub(crate) fn receiver_wakes(&self) -> usize {
        self.state.wakes()
    }

    /// In a child after `fork`: only the forking thread survives, so no sender or waiter is
    /// in flight and no receiver exists. Pending bits and records were the parent's (it
    /// delivers them), and so were the routes (the child forwards nothing) and the poll masks
    /// (the registry re-arms the fd receivers with eventfds of the child's own). Nothing is wanted until the child starts a receiver and the registry
    /// re-arms its subscriptions: meanwhile a handler takes each signal's original action
    /// instead of queueing it for nobody. The new receiver starts in `IDLE` (processing).
    /// Called with the signals blocked, so no handler in the child races the reset.
    #[cfg(not(loom))]
    pub(crate) fn reset_after_fork(&self) {
        self.wanted.store(0, SeqCst);
        self.info_wanted.store(0, SeqCst);
        for r in self.routes.iter().chain(&self.polled) {
            r.store(0, SeqCst);
        }
        self.pending.store(0, SeqCst);
        self.delivering.store(0, SeqCst);
        self.state.store(IDLE, SeqCst);
        self.ring.reset();
        self.lost.store(0, SeqCst);
        for c in &self.lost_count {
            c.store(0, SeqCst);
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    type Q = Queue<4>;

    /// The signals a drain takes, leaving what rides on them unread.
    fn take(q: &Q) -> u64 {
        q.drain().signals
    }

    fn send(q: &Q, bit: u64) -> Sent {
        q.send(bit, &Record::default(), false)
    }

    #[test]
    fn unwanted_signals_are_refused() {
        let q = Q::new();
        assert_eq!(send(&q, 1 << 1), Sent::NotWanted);
        assert_eq!(take(&q), 0);
    }

    #[test]
    fn second_arrival_coalesces_until_taken() {
        let q = Q::new();
        q.enable(0b110);
        assert_eq!(send(&q, 0b10), Sent::Queued);
        assert_eq!(send(&q, 0b10), Sent::Coalesced);
        assert_eq!(send(&q, 0b100), Sent::Queued);
        assert_eq!(take(&q), 0b110);
        assert_eq!(send(&q, 0b10), Sent::Queued);
    }

    #[test]
    fn disable_clears_only_its_bit() {
        let q = Q::new();
        q.enable(0b11);
        q.disable(0b01, Unwanted::Original);
        assert_eq!(q.wanted(), 0b10);
        assert_eq!(send(&q, 0b01), Sent::NotWanted);
    }

    #[test]
    fn an_ignored_signal_is_dropped_until_enabled_again() {
        let q = Q::new();
        q.enable(0b11);
        q.disable(0b11, Unwanted::Ignored);
        assert_eq!(send(&q, 0b01), Sent::Ignored);
        q.enable(0b01);
        assert_eq!(send(&q, 0b01), Sent::Queued);
        assert_eq!(send(&q, 0b10), Sent::Ignored, "still ignored");
        q.disable(0b11, Unwanted::Original);
        assert_eq!(send(&q, 0b10), Sent::NotWanted);
    }

    #[test]
    fn origins_are_recorded_after_disable_until_withdrawn() {
        let q = Q::new();
        q.want_info(0b1);
        q.enable(0b1);
        q.disable(0b1, Unwanted::Original);
        assert_eq!(send(&q, 0b1), Sent::NotWanted);
        q.enable(0b1);
        assert_eq!(send(&q, 0b1), Sent::Recorded { coalesced: false });
        q.withdraw_info(0b1);
        assert_eq!(send(&q, 0b1), Sent::Coalesced, "wanted, no longer recorded");
    }

    #[test]
    fn wait_returns_at_once_after_a_send_while_awake() {
        let q = Q::new();
        q.enable(1);
        send(&q, 1); // IDLE -> SENDING
        q.wait(); // SENDING -> IDLE without sleeping
        assert_eq!(take(&q), 1);
    }

    #[test]
    fn sleeping_receiver_is_woken_by_a_sender() {
        let q = std::sync::Arc::new(Q::new());
        q.enable(1 << 4);
        let r = q.clone();
        let receiver = std::thread::spawn(move || {
            r.wait();
            r.drain().signals
        });
        while q.state.load(SeqCst) != RECEIVING {
            std::thread::yield_now();
        }
        assert_eq!(send(&q, 1 << 4), Sent::Queued);
        assert_eq!(receiver.join().unwrap(), 1 << 4);
    }

    #[test]
    fn info_signals_are_recorded_until_the_ring_is_full_then_marked_lost() {
        let q = Q::new();
        q.want_info(0b10);
        q.enable(0b11);
        let rec = |v| Record {
            signo: 2,
            value: v,
            ..Record::default()
        };
        assert_eq!(
            q.send(0b10, &rec(0), false),
            Sent::Recorded { coalesced: false }
        );
        for v in 1..4 {
            assert_eq!(
                q.send(0b10, &rec(v), false),
                Sent::Recorded { coalesced: true }
            );
        }
        for v in 4..7 {
            assert_eq!(
                q.send(0b10, &rec(v), false),
                Sent::OriginLost { coalesced: true }
            );
        }
        // A plain-only signal coalesces as before, with no record.
        assert_eq!(send(&q, 0b01), Sent::Queued);
        assert_eq!(send(&q, 0b01), Sent::Coalesced);
        let drain = q.drain();
        assert_eq!(drain.signals, 0b11);
        let got: Vec<Arrival> = drain.collect();
        let mut want: Vec<Arrival> = (0..4).map(|v| Arrival::Origin(rec(v))).collect();
        // Each lost arrival counted, after the records.
        want.push(Arrival::Lost {
            bit: 0b10,
            arrivals: 3,
        });
        assert_eq!(got, want);
        q.disable(0b10, Unwanted::Original);
        assert_eq!(q.send(0b10, &rec(5), false), Sent::NotWanted);
        // Nothing pending, nothing drained (and nothing was left behind).
        let drain = q.drain();
        assert_eq!(drain.signals, 0);
        assert_eq!(drain.count(), 0);
        assert_eq!(q.ring.pop(), None);
    }

    #[test]
    fn wait_quiet_returns_when_no_sender_is_inside() {
        let q = Q::new();
        q.wait_quiet();
        assert_eq!(q.delivering.load(SeqCst), 0);
    }
}
