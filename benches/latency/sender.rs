//! The sending process: `kill(receiver, SIGUSR1)` from another process, as a real sender
//! (a supervisor, `kill`, systemd) does, one signal in flight at a time.
//!
//! A round waits until the receiver is ready (`ARMED`), optionally lets `gap` pass yielding
//! the CPU (so the receiver is asleep when the round starts), takes the time, sends, and
//! sleeps on a futex until the signal has come out (`ARRIVALS`); the latency is the receiver's arrival
//! time minus the send time, both `CLOCK_MONOTONIC`.

use super::monotonic::monotonic_ns;
use super::procstat::{snapshot, ThreadCost};
use super::shared::{Shared, ARMED, ARRIVED_AT, HANDLER_TID, PROBE};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How many rounds each phase runs in one receiving process.
#[derive(Clone, Copy)]
pub struct Plan {
    pub warmup: usize,
    pub rounds: usize,
    pub back_to_back: usize,
    /// Rounds (after the others) that record which thread ran the handler.
    pub probe: usize,
}

/// What one receiving process measured.
pub struct Measured {
    /// Latency samples in nanoseconds.
    pub samples: Vec<u64>,
    /// Per thread across the latency rounds (30 us apart, each thread asleep when a round
    /// starts): its voluntary switches per signal are its wake-ups, the hops of a delivery.
    pub hops: Vec<(String, ThreadCost)>,
    /// The back-to-back phase: rounds and seconds.
    pub btb_rounds: usize,
    pub btb_secs: f64,
    /// Per thread (name, counters) of the receiving process across the back-to-back phase.
    pub threads: Vec<(String, ThreadCost)>,
    /// Which threads ran the handler in the probe rounds: name and share; empty when the
    /// mechanism runs no handler of ours (sigwaitinfo, signalfd, Go).
    pub handler_on: Vec<(String, f64)>,
}

struct Sender {
    pid: i32,
    shared: Shared,
    sent: u64,
}

impl Sender {
    fn round(&mut self, gap: Duration) -> u64 {
        wait_for(
            || self.shared.get(ARMED) > self.sent,
            "the receiver to re-arm",
        );
        if !gap.is_zero() {
            let end = Instant::now() + gap;
            while Instant::now() < end {
                std::thread::yield_now();
            }
        }
        let t0 = monotonic_ns();
        // SAFETY: kill with the receiver's pid and a valid signal.
        assert_eq!(unsafe { libc::kill(self.pid, libc::SIGUSR1) }, 0, "kill");
        self.sent += 1;
        // Asleep meanwhile, as a real sender is: a sender spinning on the CPU would be
        // scheduled between the receiver's hops and count in its latency.
        let deadline = Instant::now() + Duration::from_secs(5);
        while !self
            .shared
            .wait_arrivals(self.sent, Duration::from_millis(100))
        {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for the signal"
            );
        }
        self.shared.get(ARRIVED_AT).saturating_sub(t0)
    }
}

/// Yields until `done`, panicking after 5 s (a lost signal or a dead receiver).
fn wait_for(done: impl Fn() -> bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::yield_now();
    }
}

/// Runs `plan` against the receiving process `pid`.
pub fn drive(pid: i32, shared: Shared, plan: Plan, gap: Duration) -> Measured {
    let mut s = Sender {
        pid,
        shared,
        sent: 0,
    };
    for _ in 0..plan.warmup {
        s.round(gap);
    }
    let gap_before = snapshot(pid);
    let samples = (0..plan.rounds).map(|_| s.round(gap)).collect();
    let gap_after = snapshot(pid);
    let before = snapshot(pid);
    let start = Instant::now();
    for _ in 0..plan.back_to_back {
        s.round(Duration::ZERO);
    }
    let btb_secs = start.elapsed().as_secs_f64();
    let after = snapshot(pid);
    let handler_on = probe_rounds(&mut s, plan.probe, gap, &after);
    Measured {
        samples,
        hops: delta(&gap_before, &gap_after),
        btb_rounds: plan.back_to_back,
        btb_secs,
        threads: delta(&before, &after),
        handler_on,
    }
}

/// Rounds with the probe on: the share of rounds each thread (by name) ran the handler in.
fn probe_rounds(
    s: &mut Sender,
    rounds: usize,
    gap: Duration,
    threads: &BTreeMap<i32, (String, ThreadCost)>,
) -> Vec<(String, f64)> {
    s.shared.set(PROBE, 1);
    let mut by_name: BTreeMap<String, usize> = BTreeMap::new();
    for _ in 0..rounds {
        s.shared.set(HANDLER_TID, 0);
        s.round(gap);
        let tid = s.shared.get(HANDLER_TID) as i32;
        if tid != 0 {
            let name = threads
                .get(&tid)
                .map_or("?".to_string(), |(n, _)| n.clone());
            *by_name.entry(name).or_default() += 1;
        }
    }
    s.shared.set(PROBE, 0);
    by_name
        .into_iter()
        .map(|(n, c)| (n, c as f64 / rounds as f64))
        .collect()
}

/// What each thread did between two snapshots (threads present in both).
fn delta(
    before: &BTreeMap<i32, (String, ThreadCost)>,
    after: &BTreeMap<i32, (String, ThreadCost)>,
) -> Vec<(String, ThreadCost)> {
    after
        .iter()
        .filter_map(|(tid, (name, a))| {
            let (_, b) = before.get(tid)?;
            Some((
                name.clone(),
                ThreadCost {
                    cpu_ns: a.cpu_ns.saturating_sub(b.cpu_ns),
                    voluntary: a.voluntary.saturating_sub(b.voluntary),
                    involuntary: a.involuntary.saturating_sub(b.involuntary),
                },
            ))
        })
        .collect()
}
