#![cfg(loom)]
//! loom models of the sigqueue protocol, run against the real `src/sigctx/queue.rs` and
//! `ring.rs`, compiled here through their sync shim with loom's atomics:
//! `RUSTFLAGS="--cfg loom" cargo test --release --test loom`. (The library itself is empty
//! under `--cfg loom`; these four files are all the models need.)
//! `LOOM_MAX_PREEMPTIONS` bounds the search (default here: 3).
//!
//! The models stand for: senders = signal handlers on any thread; the receiver = the signal
//! thread's cycle in `runtime::signal_thread::run`; the stopper = `registry::stop` with its stopping list and
//! `signal_thread::sync` barrier, mirrored with loom's Mutex/Condvar exactly as the real code uses
//! std's.

#![allow(dead_code)] // the queue files' non-loom parts (the handler's side) are unused here

#[macro_use]
#[path = "../src/sigctx/sync.rs"]
mod sync;
#[path = "../src/sigctx/poller.rs"]
mod poller;
#[path = "../src/sigctx/queue.rs"]
mod queue;
#[path = "../src/sigctx/record.rs"]
mod record;
#[path = "../src/sigctx/ring.rs"]
mod ring;

use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;
use queue::{Arrival, Queue, Sent, Unwanted};
use record::Record;
use ring::Ring;

const A: u64 = 1 << 0;
const B: u64 = 1 << 1;

/// The queue with a two-record ring: small enough to explore, big enough to fill.
type Q = Queue<2>;

/// A record carrying `value` (the `sigqueue` payload) for signal A.
fn rec(value: u64) -> Record {
    Record {
        signo: 1,
        value,
        ..Record::default()
    }
}

/// Handler threads, one per entry of `bits`, each sending its bit once; sender `i` carries
/// the record `rec(i)`.
fn spawn_senders(q: &Arc<Q>, bits: &[u64]) -> Vec<thread::JoinHandle<Sent>> {
    bits.iter()
        .enumerate()
        .map(|(i, &bit)| {
            let q = q.clone();
            thread::spawn(move || q.send(bit, &rec(i as u64), false))
        })
        .collect()
}

/// Runs `f` under loom and reports how many executions it explored (the model's size).
fn model<F: Fn() + Sync + Send + 'static>(name: &str, f: F) {
    static EXECUTIONS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(3);
    }
    let before = EXECUTIONS.load(std::sync::atomic::Ordering::Relaxed);
    builder.check(move || {
        EXECUTIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        f()
    });
    let n = EXECUTIONS.load(std::sync::atomic::Ordering::Relaxed) - before;
    eprintln!(
        "loom model {name}: {n} executions, preemption bound {:?}",
        builder.preemption_bound
    );
}

/// Two handlers send different signals while the receiver drains and sleeps. No lost wake-up
/// (a missed one leaves the receiver blocked: loom reports the deadlock), every bit posted is
/// taken, and each sleep is ended by at most one wake.
#[test]
fn two_senders_and_the_receiver_lose_nothing() {
    model("two_senders_and_the_receiver_lose_nothing", || {
        let q = Arc::new(Q::new());
        q.enable(A | B);
        let senders = spawn_senders(&q, &[A, B]);
        let mut got = q.drain().signals;
        let mut waits = 0;
        while got != A | B {
            q.wait();
            waits += 1;
            got |= q.drain().signals;
        }
        for s in senders {
            assert_eq!(
                s.join().unwrap(),
                Sent::Queued,
                "distinct bits are each queued once"
            );
        }
        assert!(
            q.receiver_wakes() <= waits,
            "{} wakes for {waits} waits",
            q.receiver_wakes()
        );
        assert_eq!(q.drain().signals, 0);
    });
}

/// The same signal twice: the second arrival coalesces or is queued after the first was
/// taken; either way the receiver sees it and nothing is left over.
#[test]
fn a_repeated_signal_is_coalesced_or_queued_never_lost() {
    model(
        "a_repeated_signal_is_coalesced_or_queued_never_lost",
        || {
            let q = Arc::new(Q::new());
            q.enable(A);
            let senders = spawn_senders(&q, &[A, A]);
            let results: Vec<Sent> = senders.into_iter().map(|s| s.join().unwrap()).collect();
            assert!(results.contains(&Sent::Queued));
            let mut got = q.drain().signals;
            while got != A {
                q.wait();
                got |= q.drain().signals;
            }
        },
    );
}

/// What the registry holds for the one channel in the stop model.
struct Registry {
    subscribed: bool,
    stopping: bool,
}

/// `thread::sync`'s ticket/acknowledge barrier.
struct Control {
    requested: u64,
    acknowledged: u64,
}

/// `stop` racing a handler and the receiver. After `stop` returns nothing reaches the
/// channel, and a signal whose handler saw it wanted is delivered to the channel (through
/// the stopping list), never dropped; one it saw unwanted takes the original action.
#[test]
fn stop_racing_a_handler_never_loses_the_signal() {
    stop_model("stop_racing_a_handler_never_loses_the_signal", false);
}

/// The same on an info channel (`notify_info`), which receives origin records only, never
/// bare pending bits (the registry's `deliver_all`): a handler that saw the signal wanted
/// must have recorded its origin. Fails if the info interest is withdrawn before `wanted` is
/// cleared and its senders are seen out (queue invariant 6): the handler then sets the bit
/// alone, which reaches nobody.
#[test]
fn stop_on_an_info_channel_racing_a_handler_never_loses_the_signal() {
    stop_model(
        "stop_on_an_info_channel_racing_a_handler_never_loses_the_signal",
        true,
    );
}

/// The stop model on a plain (`info == false`) or info channel, the registry's steps in its
/// order: under its lock the channel moves to the stopping list, the signal is disabled
/// and, for an info channel, its origin withdrawn; then `wait_quiet` and the barrier.
fn stop_model(name: &'static str, info: bool) {
    model(name, move || {
        let q = Arc::new(Q::new());
        if info {
            q.want_info(A);
        }
        q.enable(A);
        let reg = Arc::new(Mutex::new(Registry {
            subscribed: true,
            stopping: false,
        }));
        let ctl = Arc::new((
            Mutex::new(Control {
                requested: 0,
                acknowledged: 0,
            }),
            Condvar::new(),
        ));
        let delivered = Arc::new(AtomicUsize::new(0));
        let lost = Arc::new(AtomicUsize::new(0));
        let stop_returned = Arc::new(AtomicBool::new(false));
        let shutdown = Arc::new(AtomicBool::new(false));

        let receiver = {
            let (q, reg, ctl) = (q.clone(), reg.clone(), ctl.clone());
            let (delivered, lost, stop_returned, shutdown) = (
                delivered.clone(),
                lost.clone(),
                stop_returned.clone(),
                shutdown.clone(),
            );
            thread::spawn(move || loop {
                let ticket = ctl.0.lock().unwrap().requested;
                let drained = q.drain();
                let bit = drained.signals & A != 0;
                let records = drained.filter(|a| matches!(a, Arrival::Origin(_))).count();
                // A plain channel takes the bit; an info channel only records.
                if (!info && bit) || (info && records > 0) {
                    let r = reg.lock().unwrap();
                    if r.subscribed || r.stopping {
                        assert!(!stop_returned.load(SeqCst), "delivered after stop returned");
                        delivered.fetch_add(1, SeqCst);
                    } else {
                        lost.fetch_add(1, SeqCst);
                    }
                } else if bit {
                    // A bit with no record: nobody takes it, and the handler did not take
                    // the original action either.
                    lost.fetch_add(1, SeqCst);
                }
                {
                    let mut c = ctl.0.lock().unwrap();
                    if c.acknowledged < ticket {
                        c.acknowledged = ticket;
                        ctl.1.notify_all();
                    }
                }
                if shutdown.load(SeqCst) {
                    return;
                }
                q.wait();
            })
        };

        let handler = {
            let q = q.clone();
            thread::spawn(move || q.send(A, &rec(0), false))
        };

        let stopper = {
            let (q, reg, ctl, stop_returned) =
                (q.clone(), reg.clone(), ctl.clone(), stop_returned.clone());
            thread::spawn(move || {
                {
                    let mut r = reg.lock().unwrap();
                    r.subscribed = false;
                    r.stopping = true;
                    q.disable(A, Unwanted::Original);
                    if info {
                        q.withdraw_info(A);
                    }
                }
                q.wait_quiet();
                let ticket = {
                    let mut c = ctl.0.lock().unwrap();
                    c.requested += 1;
                    c.requested
                };
                q.poke();
                let mut c = ctl.0.lock().unwrap();
                while c.acknowledged < ticket {
                    c = ctl.1.wait(c).unwrap();
                }
                drop(c);
                reg.lock().unwrap().stopping = false;
                stop_returned.store(true, SeqCst);
            })
        };

        let sent = handler.join().unwrap();
        stopper.join().unwrap();
        shutdown.store(true, SeqCst);
        q.poke();
        receiver.join().unwrap();

        assert_eq!(
            lost.load(SeqCst),
            0,
            "a signal the handler saw wanted reached nobody"
        );
        match sent {
            // The handler takes the original action itself.
            Sent::NotWanted => assert_eq!(delivered.load(SeqCst), 0),
            _ => assert_eq!(
                delivered.load(SeqCst),
                1,
                "queued but not delivered: {sent:?}"
            ),
        }
    });
}

/// `disable` + `wait_quiet` racing two senders: once `wait_quiet` returns, no sender can still
/// set a bit it saw wanted, so nothing appears in `pending` afterwards.
#[test]
fn disable_then_wait_quiet_excludes_late_senders() {
    model("disable_then_wait_quiet_excludes_late_senders", || {
        let q = Arc::new(Q::new());
        q.enable(A);
        let senders = spawn_senders(&q, &[A, A]);
        q.disable(A, Unwanted::Original);
        q.wait_quiet();
        let at_quiet = q.drain().signals;
        let results: Vec<Sent> = senders.into_iter().map(|s| s.join().unwrap()).collect();
        assert_eq!(
            q.drain().signals,
            0,
            "a sender set its bit after wait_quiet returned"
        );
        let queued = results.iter().any(|r| *r != Sent::NotWanted);
        assert_eq!(
            at_quiet != 0,
            queued,
            "results {results:?}, pending at quiet {at_quiet:#x}"
        );
    });
}

/// The signal thread stops taking signal A (its last subscriber left) while an API call
/// pokes it (`signal_thread::apply_mask`). The poke reads the kick after ending the
/// receiver's sleep and queues it a moment later; the receiver pauses kicks (clears the kick
/// and waits out every poke: a poke counts itself in `delivering`), takes what landed, and
/// only then unblocks A. A kick landing after that would meet A's original disposition.
#[test]
fn a_kick_never_lands_after_its_signal_is_unblocked() {
    model("a_kick_never_lands_after_its_signal_is_unblocked", || {
        let q = Arc::new(Q::new());
        q.set_kick(A);
        let poker = {
            let q = q.clone();
            thread::spawn(move || q.poke())
        };
        q.wait();
        q.pause_kicks();
        q.take_kicks();
        // A is unblocked here.
        poker.join().unwrap();
        assert_eq!(q.take_kicks(), 0, "a kick landed after A was unblocked");
    });
}

/// The signal thread gives a signal it took back to the kernel (`handler::redeliver`:
/// another library's handler is installed over sigchan's) from inside its sleep, while an API
/// call pokes it. It pauses kicks, waits out every poke, takes the kicks pending, and only
/// then queues A back to itself and unblocks it for an instant; then kicking resumes. A kick
/// landing in that instant would reach the other handler as an arrival, and one pending when
/// A is queued back would swallow it (a standard signal is pending once per thread). Fails
/// without the `wait_quiet` in `pause_kicks`.
#[test]
fn a_kick_never_lands_while_a_signal_is_given_back() {
    model("a_kick_never_lands_while_a_signal_is_given_back", || {
        let q = Arc::new(Q::new());
        q.set_kick(A);
        let poker = {
            let q = q.clone();
            thread::spawn(move || q.poke())
        };
        let mut given_back = false;
        let mut landed = 0;
        q.wait_with(|| {
            if given_back {
                // Asleep again until the poke ends the sleep.
                thread::yield_now();
                return;
            }
            given_back = true;
            // The sleep took A, which must go back to the kernel.
            let saved = q.pause_kicks();
            q.take_kicks();
            // A is queued back, unblocked and blocked again here.
            landed = q.take_kicks();
            q.resume_kicks(saved);
        });
        poker.join().unwrap();
        assert_eq!(landed, 0, "a kick landed while A was given back");
    });
}

/// `enable` racing a sender: the signal is either refused (the sender takes the original
/// action) or queued, never half of each.
#[test]
fn enable_racing_a_sender() {
    model("enable_racing_a_sender", || {
        let q = Arc::new(Q::new());
        let sender = {
            let q = q.clone();
            thread::spawn(move || q.send(B, &rec(0), false))
        };
        q.enable(B);
        let sent = sender.join().unwrap();
        assert_eq!(q.drain().signals == B, sent == Sent::Queued, "{sent:?}");
    });
}

/// `notify` of a signal that `ignore` took, racing a handler that read `wanted` before the
/// `enable`: the arrival is queued or dropped as ignored, never given the original action
/// (which for SIGINT would kill the process). Fails if `enable` ends the ignore without
/// seeing out such senders first (queue invariant 6).
#[test]
fn notify_after_ignore_racing_a_handler_queues_or_ignores() {
    model(
        "notify_after_ignore_racing_a_handler_queues_or_ignores",
        || {
            let q = Arc::new(Q::new());
            q.enable(A);
            q.disable(A, Unwanted::Ignored);
            let sender = {
                let q = q.clone();
                thread::spawn(move || q.send(A, &rec(0), false))
            };
            q.enable(A);
            let sent = sender.join().unwrap();
            assert!(
                matches!(sent, Sent::Queued | Sent::Ignored),
                "{sent:?}: the original action during notify after ignore"
            );
            assert_eq!(q.drain().signals == A, sent == Sent::Queued);
        },
    );
}

/// A route for signal A in the models (the queue treats it as opaque).
const ROUTE: u64 = 0x0100_0000_0007;

/// A handler thread for signal A whose forward is recorded: returns the count of forwards,
/// the flag that fails a forward made once it is set (after `stop_forwarding` returned),
/// and the thread.
fn spawn_routed_sender(
    q: &Arc<Q>,
) -> (Arc<AtomicUsize>, Arc<AtomicBool>, thread::JoinHandle<Sent>) {
    let forwards = Arc::new(AtomicUsize::new(0));
    let stopped = Arc::new(AtomicBool::new(false));
    let (q, f, s) = (q.clone(), forwards.clone(), stopped.clone());
    let sender = thread::spawn(move || {
        q.send_routed(A, &rec(0), false, |route, _| {
            assert_eq!(route, ROUTE);
            assert!(!s.load(SeqCst), "forwarded after stop_forwarding returned");
            f.fetch_add(1, SeqCst);
        })
    });
    (forwards, stopped, sender)
}

/// `Forwarding::stop` racing a handler: the arrival is forwarded (before the stop returns)
/// or takes its original action, never neither, and nothing is forwarded afterwards (queue
/// invariant 7). Fails if the route is cleared without the `wait_quiet` after it.
#[test]
fn stop_forwarding_racing_a_handler_forwards_or_takes_the_original_action() {
    model(
        "stop_forwarding_racing_a_handler_forwards_or_takes_the_original_action",
        || {
            let q = Arc::new(Q::new());
            q.start_forwarding(A, ROUTE);
            let (forwards, stopped, sender) = spawn_routed_sender(&q);
            q.stop_forwarding(A);
            stopped.store(true, SeqCst);
            let sent = sender.join().unwrap();
            assert!(matches!(sent, Sent::Diverted | Sent::NotWanted), "{sent:?}");
            assert_eq!(forwards.load(SeqCst) == 1, sent == Sent::Diverted);
            assert_eq!(
                q.drain().signals,
                0,
                "a forward-only signal is never queued"
            );
        },
    );
}

/// A signal handed from a forward to a channel (`notify`, then the forward stopped) racing
/// a handler that read `wanted` before the `enable`: forwarded or queued, never the
/// original action. Fails if `stop_forwarding` clears the route without first seeing out
/// the senders that read the old `wanted` (invariant 7).
#[test]
fn a_forward_handed_to_a_channel_racing_a_handler_is_never_lost() {
    model(
        "a_forward_handed_to_a_channel_racing_a_handler_is_never_lost",
        || {
            let q = Arc::new(Q::new());
            q.start_forwarding(A, ROUTE);
            let (forwards, stopped, sender) = spawn_routed_sender(&q);
            q.enable(A);
            q.stop_forwarding(A);
            stopped.store(true, SeqCst);
            let sent = sender.join().unwrap();
            assert_ne!(
                sent,
                Sent::NotWanted,
                "the original action during a hand-over"
            );
            let queued = q.drain().signals == A;
            assert_eq!(queued, sent == Sent::Queued, "{sent:?}");
            assert!(queued || forwards.load(SeqCst) == 1, "{sent:?}");
        },
    );
}

/// The other way: a channel's signal handed to a forward (route set, then the channel's
/// `disable`) racing a handler: queued or forwarded, never the original action. Fails if
/// the sender reads its route before `wanted`.
#[test]
fn a_channel_handed_to_a_forward_racing_a_handler_is_never_lost() {
    model(
        "a_channel_handed_to_a_forward_racing_a_handler_is_never_lost",
        || {
            let q = Arc::new(Q::new());
            q.enable(A);
            let (forwards, _stopped, sender) = spawn_routed_sender(&q);
            q.start_forwarding(A, ROUTE);
            q.disable(A, Unwanted::Original);
            let sent = sender.join().unwrap();
            assert_ne!(
                sent,
                Sent::NotWanted,
                "the original action during a hand-over"
            );
            let queued = q.drain().signals == A;
            assert!(queued || forwards.load(SeqCst) == 1, "{sent:?}");
        },
    );
}

/// Two handlers record the origin of the same signal while the receiver drains (queue
/// invariant 5). With room for both, every record comes out once, even when the second bit
/// coalesces or the receiver meets a claimed slot not yet published: the bit set after
/// each record brings the receiver round (a record left behind deadlocks here).
#[test]
fn recorded_arrivals_are_each_delivered_once() {
    model("recorded_arrivals_are_each_delivered_once", || {
        let q = Arc::new(Q::new());
        q.want_info(A);
        q.enable(A);
        let senders = spawn_senders(&q, &[A, A]);
        let mut values = Vec::new();
        loop {
            for arrival in q.drain() {
                match arrival {
                    Arrival::Origin(r) => values.push(r.value),
                    Arrival::Lost { .. } => panic!("a two-record ring lost an origin"),
                }
            }
            if values.len() == 2 {
                break;
            }
            q.wait();
        }
        for s in senders {
            assert!(matches!(s.join().unwrap(), Sent::Recorded { .. }));
        }
        values.sort_unstable();
        assert_eq!(values, [0, 1], "each record exactly once");
        assert_eq!(q.drain().count(), 0, "nothing left behind");
    });
}

/// A one-record ring and two handlers: a record that does not fit is never waited for; it
/// becomes a `lost` count the receiver still sees, and each sender's answer says which.
#[test]
fn a_full_ring_turns_the_origin_into_a_lost_mark() {
    model("a_full_ring_turns_the_origin_into_a_lost_mark", || {
        let q = Arc::new(Queue::<1>::new());
        q.want_info(A);
        q.enable(A);
        let senders: Vec<_> = (0..2)
            .map(|i| {
                let q = q.clone();
                thread::spawn(move || q.send(A, &rec(i), false))
            })
            .collect();
        let (mut records, mut lost) = (0, 0);
        loop {
            for arrival in q.drain() {
                match arrival {
                    Arrival::Origin(_) => records += 1,
                    Arrival::Lost { arrivals, .. } => lost += arrivals as usize,
                }
            }
            if records + lost == 2 {
                break;
            }
            q.wait();
        }
        let results: Vec<Sent> = senders.into_iter().map(|s| s.join().unwrap()).collect();
        let recorded = results
            .iter()
            .filter(|r| matches!(r, Sent::Recorded { .. }))
            .count();
        assert_eq!(recorded, records, "{results:?}");
        let lost_sent = results
            .iter()
            .filter(|r| matches!(r, Sent::OriginLost { .. }))
            .count();
        assert_eq!(
            lost_sent, lost,
            "each lost origin counted once: {results:?}"
        );
    });
}

/// The ring alone, two producers and the consumer at capacity 2: records come out whole,
/// once each, and those of one producer in its order; a refused push is reported as such.
#[test]
fn ring_producers_and_consumer() {
    model("ring_producers_and_consumer", || {
        let ring = Arc::new(Ring::<2>::new());
        let producers: Vec<_> = (0..2u64)
            .map(|p| {
                let ring = ring.clone();
                thread::spawn(move || {
                    (0..2u64)
                        .filter(|i| {
                            ring.push(&Record {
                                signo: 1,
                                pid: p as i32,
                                value: p * 10 + i,
                                ..Record::default()
                            })
                        })
                        .count()
                })
            })
            .collect();
        let mut seen = Vec::new();
        for _ in 0..2 {
            if let Some(r) = ring.pop() {
                seen.push(r);
            }
            thread::yield_now();
        }
        let pushed: usize = producers.into_iter().map(|p| p.join().unwrap()).sum();
        while let Some(r) = ring.pop() {
            seen.push(r);
        }
        assert_eq!(seen.len(), pushed, "every accepted record comes out once");
        for p in 0..2u64 {
            let mine: Vec<u64> = seen
                .iter()
                .filter(|r| r.pid == p as i32)
                .map(|r| r.value)
                .collect();
            assert!(
                mine.windows(2).all(|w| w[0] < w[1]),
                "producer {p}: {mine:?}"
            );
            assert!(mine.iter().all(|v| v / 10 == p), "torn record: {mine:?}");
        }
    });
}

/// An fd receiver's slot with a two-record ring, and its eventfd's counter as an atomic.
type Slot = poller::Slot<2>;

/// The eventfd of the models: `write` adds, `read` empties.
struct Eventfd(loom::sync::atomic::AtomicU64);

impl Eventfd {
    fn add(&self) {
        self.0.fetch_add(1, SeqCst);
    }
    fn clear(&self) {
        self.0.swap(0, SeqCst);
    }
    fn readable(&self) -> bool {
        self.0.load(SeqCst) > 0
    }
}

/// The fd receiver's readiness (`sigctx::poller`, steps 1-3): two handlers deliver A and B
/// while the receiver takes and settles. Afterwards every arrival was taken or is still
/// pending with the eventfd readable: no wake-up is lost. Fails if `settle` skips its
/// second look at `pending`.
#[test]
fn poll_readiness_never_leaves_an_arrival_unreadable() {
    model("poll_readiness_never_leaves_an_arrival_unreadable", || {
        let slot = Arc::new(Slot::new());
        let efd = Arc::new(Eventfd(loom::sync::atomic::AtomicU64::new(0)));
        slot.arm(3, false);
        let senders: Vec<_> = [A, B]
            .into_iter()
            .map(|bit| {
                let (slot, efd) = (slot.clone(), efd.clone());
                thread::spawn(move || {
                    slot.deliver(bit, &rec(0), |fd| {
                        assert_eq!(fd, 3);
                        efd.add();
                    });
                })
            })
            .collect();
        // The receiver: take what is there, then settle with the buffer empty.
        let taken = slot.take();
        slot.settle(|_| efd.clear(), |_| efd.add());
        for s in senders {
            s.join().unwrap();
        }
        let left = slot.take();
        assert_eq!(taken | left, A | B, "every arrival taken or pending");
        assert_eq!(taken & left, 0);
        assert!(
            left == 0 || efd.readable(),
            "{left:#b} pending, eventfd not readable"
        );
    });
}

/// An fd receiver (slot 0) of signal A and a handler thread racing what the model does next.
struct PolledRace {
    q: Arc<Q>,
    slot: Arc<Slot>,
    /// Deliveries the handler made to the slot.
    delivered: Arc<AtomicUsize>,
    /// Set once `stop_polling` returned: a delivery after it fails the model.
    stopped: Arc<AtomicBool>,
    sender: thread::JoinHandle<Sent>,
}

impl PolledRace {
    fn start() -> PolledRace {
        let q = Arc::new(Q::new());
        let slot = Arc::new(Slot::new());
        slot.arm(3, false);
        q.start_polling(A, 0);
        let delivered = Arc::new(AtomicUsize::new(0));
        let stopped = Arc::new(AtomicBool::new(false));
        let (q2, slot2, d, s) = (q.clone(), slot.clone(), delivered.clone(), stopped.clone());
        let sender = thread::spawn(move || {
            q2.send_routed(A, &rec(0), false, |route, polled| {
                assert_eq!((route, polled), (0, 1), "slot 0's bit only");
                assert!(
                    !s.load(SeqCst),
                    "delivered to the slot after stop_polling returned"
                );
                slot2.deliver(A, &rec(0), |_| {});
                d.fetch_add(1, SeqCst);
            })
        });
        PolledRace {
            q,
            slot,
            delivered,
            stopped,
            sender,
        }
    }

    /// `stop_polling`, then the handler's answer.
    fn stop(self) -> (Sent, StoppedRace) {
        self.q.stop_polling(A, 0);
        self.stopped.store(true, SeqCst);
        let taken = self.slot.take();
        let sent = self.sender.join().unwrap();
        let delivered = self.delivered.load(SeqCst) == 1;
        (
            sent,
            StoppedRace {
                q: self.q,
                taken,
                delivered,
            },
        )
    }
}

/// What a `PolledRace` left once stopped.
struct StoppedRace {
    q: Arc<Q>,
    /// What the slot held after the stop.
    taken: u64,
    /// Whether the handler delivered to the slot.
    delivered: bool,
}

/// An fd receiver's `stop` racing a handler: the arrival reaches the slot (before the stop
/// returns) or takes its original action, and nothing reaches the slot afterwards, when
/// the registry frees it (invariant 7 for poll masks).
#[test]
fn stop_polling_racing_a_handler_delivers_or_takes_the_original_action() {
    model(
        "stop_polling_racing_a_handler_delivers_or_takes_the_original_action",
        || {
            let (sent, after) = PolledRace::start().stop();
            assert!(matches!(sent, Sent::Diverted | Sent::NotWanted), "{sent:?}");
            assert_eq!(after.delivered, sent == Sent::Diverted);
            assert_eq!(
                after.taken == A,
                sent == Sent::Diverted,
                "the stop found it in the slot"
            );
            let q = after.q;
            assert_eq!(q.drain().signals, 0, "an fd-only signal wakes no receiver");
        },
    );
}

/// A signal handed from an fd receiver to a channel (`notify`, then the receiver stopped)
/// racing a handler that read `wanted` before the `enable`: in the slot or queued, never
/// the original action. Fails if `stop_polling` clears the mask without first seeing out
/// the senders that read the old `wanted`.
#[test]
fn an_fd_receiver_handed_to_a_channel_racing_a_handler_is_never_lost() {
    model(
        "an_fd_receiver_handed_to_a_channel_racing_a_handler_is_never_lost",
        || {
            let race = PolledRace::start();
            race.q.enable(A);
            let (sent, after) = race.stop();
            assert_ne!(
                sent,
                Sent::NotWanted,
                "the original action during a hand-over"
            );
            let (q, delivered) = (after.q, after.delivered);
            let queued = q.drain().signals == A;
            assert!(queued || delivered, "{sent:?}: neither");
        },
    );
}
