//! The generations of workers and what each event does to them: a state machine with no I/O
//! of its own (it acts through [`Host`]), so its rules are tested with a fake host and a fake
//! clock.
//!
//! States and invariants:
//! - `current`: the worker that has stayed up for `--interval`; at most one. It is the
//!   generation the status file names last.
//! - `starting`: a new generation inside its `--interval`. Its worker is `None` once it died
//!   (or could not be spawned); at `ready_at` it is promoted if alive, spawned again if not.
//!   At most one at a time: a SIGHUP while one starts is remembered (`restart_wanted`) and
//!   acted on when it is promoted, as Server::Starter does.
//! - `old`: workers of earlier generations, still running. `signalled` tells whether they
//!   were sent `--signal-on-hup` yet (after `--kill-old-delay`).
//! - Once stopping, `current` and `starting` are empty and every live worker is in `old`;
//!   `finished()` holds when `old` is empty too. No worker is started while stopping.
//! - A worker that exits is removed from wherever it is; nothing else removes one.
//! - `old` never grows past `MAX_OLD` through restarts: a restart asked for while that many
//!   still drain waits (`deferred_restart`) until one exits. An old worker signalled longer
//!   than `kill_old_timeout` ago gets SIGKILL, so workers that ignore TERM cannot pile up.
//! - `failures` counts generations in a row that could not start or died inside their
//!   `--interval`; the next attempt waits `interval * 2^(failures-1)`, at most
//!   `MAX_BACKOFF`. A promotion resets it.

use sigchan::{Signal, SIGHUP, SIGINT, SIGKILL, SIGTERM};
use std::collections::BTreeMap;
use std::io;
use std::process::ExitStatus;
use std::time::{Duration, Instant};

/// How long to wait before spawning again when a spawn failed and no worker serves.
const RETRY_FLOOR: Duration = Duration::from_secs(1);
/// The longest pause between attempts to start a generation that keeps failing.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// Old generations allowed to drain at once; further restarts wait.
pub const MAX_OLD: usize = 4;

/// The timing and signal settings; re-read from the environment before each event.
#[derive(Clone, Debug, PartialEq)]
pub struct Timing {
    /// How long a new generation must stay up before the old one is signalled.
    pub interval: Duration,
    /// How long to wait after promotion before signalling the old generation.
    pub kill_old_delay: Duration,
    /// Restart on a timer (`--enable-auto-restart`), every this often.
    pub auto_restart: Option<Duration>,
    /// Sent to the old generation once the new one is up.
    pub signal_on_hup: Signal,
    /// Sent to every worker when start_server receives SIGTERM.
    pub signal_on_term: Signal,
    /// An old worker still running this long after it was signalled gets SIGKILL
    /// (`--kill-old-timeout`; `None`: never, as Server::Starter).
    pub kill_old_timeout: Option<Duration>,
}

/// What the supervisor does to the world.
pub trait Host {
    /// Starts the server program as generation `generation`; returns its pid.
    fn spawn(&mut self, generation: u64) -> io::Result<i32>;
    /// Sends `sig` to the worker `pid`.
    fn kill(&mut self, pid: i32, sig: Signal);
    /// The live generations changed: `(generation, pid)`, oldest first (the status file).
    fn publish(&mut self, workers: &[(u64, i32)]);
    /// One line for the log (stderr).
    fn log(&mut self, line: String);
    /// The service's state changed (what systemd's `NOTIFY_SOCKET` hears).
    fn lifecycle(&mut self, event: Lifecycle);
}

/// The service's state, as a service manager sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lifecycle {
    /// This generation serves: the start, or a restart, is complete (also when a restart
    /// was abandoned and the old generation keeps serving).
    Serving { generation: u64, pid: i32 },
    /// A SIGHUP began a restart.
    Reloading,
    /// SIGTERM or SIGINT: stopping every worker.
    Stopping,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Worker {
    pid: i32,
    generation: u64,
}

#[derive(Debug)]
struct Starting {
    worker: Option<Worker>,
    ready_at: Instant,
}

#[derive(Debug)]
struct Old {
    generation: u64,
    /// When it was sent `--signal-on-hup` (or the stop signal); `None`: not yet.
    signalled: Option<Instant>,
    killed: bool,
}

/// The supervisor of one start_server process.
pub struct Supervisor<H: Host> {
    host: H,
    timing: Timing,
    generation: u64,
    current: Option<Worker>,
    starting: Option<Starting>,
    old: BTreeMap<i32, Old>,
    kill_old_at: Option<Instant>,
    restart_wanted: bool,
    deferred_restart: bool,
    failures: u32,
    last_restart: Instant,
    stopping: bool,
}

impl<H: Host> Supervisor<H> {
    pub fn new(host: H, timing: Timing, now: Instant) -> Self {
        Supervisor {
            host,
            timing,
            generation: 0,
            current: None,
            starting: None,
            old: BTreeMap::new(),
            kill_old_at: None,
            restart_wanted: false,
            deferred_restart: false,
            failures: 0,
            last_restart: now,
            stopping: false,
        }
    }

    pub fn host(&self) -> &H {
        &self.host
    }

    pub fn set_timing(&mut self, timing: Timing) {
        self.timing = timing;
    }

    /// Starts the first generation. A program that cannot be started at all is an error.
    pub fn start(&mut self, now: Instant) -> io::Result<()> {
        self.spawn_generation(now)
    }

    /// The next instant `on_tick` has something to do, if any.
    pub fn deadline(&self) -> Option<Instant> {
        let starting = self.starting.as_ref().map(|s| s.ready_at);
        let auto = match self.timing.auto_restart {
            Some(every) if !self.stopping && self.starting.is_none() => {
                let after = if self.old.is_empty() {
                    every
                } else {
                    every * 2
                };
                Some(self.last_restart + after)
            }
            _ => None,
        };
        [starting, self.kill_old_at, auto, self.next_forced_kill()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Stopping and every worker is gone: start_server may exit.
    pub fn finished(&self) -> bool {
        self.stopping && self.old.is_empty()
    }

    /// A signal start_server received.
    pub fn on_signal(&mut self, sig: Signal, now: Instant) {
        if sig == SIGHUP {
            if self.stopping {
                self.log("received SIGHUP while stopping; ignored".into());
            } else {
                self.log("received SIGHUP, spawning a new worker".into());
                self.host.lifecycle(Lifecycle::Reloading);
                self.restart(now);
            }
        } else if sig == SIGTERM || sig == SIGINT {
            self.stop(sig);
        }
    }

    /// A worker (or another child) ended with `status`.
    pub fn on_exit(&mut self, pid: i32, status: ExitStatus, now: Instant) {
        let starting_pid = self.starting.as_ref().and_then(|s| s.worker).map(|w| w.pid);
        if starting_pid == Some(pid) {
            // Retried at `ready_at`, as Server::Starter does after its interval, or later
            // while it keeps failing.
            // The first retry comes at `ready_at` as before; later ones back off.
            self.failures += 1;
            let pause = if self.failures > 1 {
                self.backoff()
            } else {
                Duration::ZERO
            };
            self.log(format!(
                "new worker {pid} seems to have failed to start, {status}"
            ));
            if let Some(s) = self.starting.as_mut() {
                s.worker = None;
                s.ready_at = s.ready_at.max(now + pause);
            }
        } else if self.current.map(|w| w.pid) == Some(pid) {
            self.log(format!(
                "worker {pid} died unexpectedly with {status}, restarting"
            ));
            self.current = None;
            self.publish();
            if self.starting.is_none() {
                self.respawn(now);
            }
        } else if self.old.remove(&pid).is_some() {
            let what = if self.stopping {
                "worker"
            } else {
                "old worker"
            };
            self.log(format!("{what} {pid} died, {status}"));
            self.publish();
            if self.deferred_restart && self.old.len() < MAX_OLD {
                self.deferred_restart = false;
                self.restart(now);
            }
        }
    }

    /// Time passed: promote a generation that stayed up, signal old ones, auto-restart.
    pub fn on_tick(&mut self, now: Instant) {
        if self.starting.as_ref().is_some_and(|s| now >= s.ready_at) {
            let starting = self.starting.take().expect("checked above");
            match starting.worker {
                Some(worker) => self.promote(worker, now),
                None => self.respawn(now),
            }
        }
        if self.kill_old_at.is_some_and(|at| now >= at) {
            self.kill_old_at = None;
            self.signal_old(now);
        }
        self.kill_overdue(now);
        if let Some(every) = self.timing.auto_restart {
            if !self.stopping && self.starting.is_none() {
                let elapsed = now.saturating_duration_since(self.last_restart);
                if elapsed >= every && self.old.is_empty() {
                    self.log(format!("autorestart triggered (interval={every:?})"));
                    self.restart(now);
                } else if elapsed >= every * 2 {
                    self.log(format!(
                        "autorestart triggered (forced, interval={every:?})"
                    ));
                    self.restart(now);
                }
            }
        }
    }

    fn restart(&mut self, now: Instant) {
        if self.old.len() >= MAX_OLD {
            self.deferred_restart = true;
            self.log(format!(
                "{} old generations are still running; the restart waits until one exits",
                self.old.len()
            ));
            return;
        }
        if self.starting.is_some() {
            self.restart_wanted = true;
            self.log(
                "a new worker is still starting; another restart follows once it is up".into(),
            );
            return;
        }
        if self.spawn_generation(now).is_err() {
            match self.current {
                Some(w) => {
                    self.log(format!(
                        "restart abandoned; generation {} (pid {}) keeps serving",
                        w.generation, w.pid
                    ));
                    self.host.lifecycle(Lifecycle::Serving {
                        generation: w.generation,
                        pid: w.pid,
                    });
                }
                None => self.retry_later(now),
            }
        }
    }

    /// Starts a generation when none serves; a failure is retried, never given up.
    fn respawn(&mut self, now: Instant) {
        if self.spawn_generation(now).is_err() {
            self.retry_later(now);
        }
    }

    /// The pause before the next attempt after `failures` failed ones in a row.
    fn backoff(&self) -> Duration {
        let base = self.timing.interval.max(RETRY_FLOOR);
        let doublings = self.failures.saturating_sub(1).min(16);
        (base * 2u32.pow(doublings)).min(MAX_BACKOFF)
    }

    fn retry_later(&mut self, now: Instant) {
        self.failures += 1;
        let wait = self.backoff();
        self.log(format!("trying again in {wait:?}"));
        self.starting = Some(Starting {
            worker: None,
            ready_at: now + wait,
        });
    }

    fn spawn_generation(&mut self, now: Instant) -> io::Result<()> {
        self.generation += 1;
        let generation = self.generation;
        match self.host.spawn(generation) {
            Ok(pid) => {
                self.log(format!(
                    "starting new worker {pid} (generation {generation})"
                ));
                self.starting = Some(Starting {
                    worker: Some(Worker { pid, generation }),
                    ready_at: now + self.timing.interval,
                });
                Ok(())
            }
            Err(e) => {
                self.log(format!("failed to start generation {generation}: {e}"));
                Err(e)
            }
        }
    }

    fn promote(&mut self, worker: Worker, now: Instant) {
        self.failures = 0;
        if let Some(previous) = self.current.replace(worker) {
            self.old.insert(
                previous.pid,
                Old {
                    generation: previous.generation,
                    signalled: None,
                    killed: false,
                },
            );
        }
        self.last_restart = now;
        self.publish();
        self.host.lifecycle(Lifecycle::Serving {
            generation: worker.generation,
            pid: worker.pid,
        });
        let waiting: Vec<i32> = self.unsignalled();
        self.log(format!(
            "new worker {} (generation {}) is now running; old workers to send {}: {}",
            worker.pid,
            worker.generation,
            self.timing.signal_on_hup,
            pid_list(&waiting)
        ));
        if !waiting.is_empty() {
            if self.timing.kill_old_delay.is_zero() {
                self.signal_old(now);
            } else {
                self.log(format!(
                    "waiting {:?} (--kill-old-delay) before signalling old workers",
                    self.timing.kill_old_delay
                ));
                self.kill_old_at = Some(now + self.timing.kill_old_delay);
            }
        }
        if std::mem::take(&mut self.restart_wanted) {
            self.restart(now);
        }
    }

    fn unsignalled(&self) -> Vec<i32> {
        let waiting = self.old.iter().filter(|(_, old)| old.signalled.is_none());
        waiting.map(|(&pid, _)| pid).collect()
    }

    fn signal_old(&mut self, now: Instant) {
        let sig = self.timing.signal_on_hup;
        for pid in self.unsignalled() {
            self.host.kill(pid, sig);
            if let Some(old) = self.old.get_mut(&pid) {
                old.signalled = Some(now);
            }
        }
    }

    /// When the first signalled old worker runs out of `kill_old_timeout`.
    fn next_forced_kill(&self) -> Option<Instant> {
        let grace = self.timing.kill_old_timeout?;
        self.old
            .values()
            .filter(|o| !o.killed)
            .filter_map(|o| o.signalled)
            .min()
            .map(|at| at + grace)
    }

    /// SIGKILL for old workers signalled more than `kill_old_timeout` ago.
    fn kill_overdue(&mut self, now: Instant) {
        let Some(grace) = self.timing.kill_old_timeout else {
            return;
        };
        let overdue: Vec<i32> = self
            .old
            .iter()
            .filter(|(_, o)| !o.killed && o.signalled.is_some_and(|at| now >= at + grace))
            .map(|(&pid, _)| pid)
            .collect();
        for pid in overdue {
            self.log(format!(
                "old worker {pid} still runs {grace:?} after it was signalled; sending SIGKILL"
            ));
            self.host.kill(pid, SIGKILL);
            if let Some(o) = self.old.get_mut(&pid) {
                o.killed = true;
            }
        }
    }

    /// SIGTERM or SIGINT: every worker gets a signal, and start_server exits once all are gone.
    /// SIGTERM sends `--signal-on-term`, SIGINT sends SIGTERM (Server::Starter's rule: a
    /// Ctrl-C at a terminal already reached the workers in the same process group). Again
    /// while stopping: SIGTERM is passed on again; SIGINT sends SIGKILL, the way out of a
    /// worker that does not stop.
    fn stop(&mut self, sig: Signal) {
        let forward = if !self.stopping {
            if sig == SIGTERM {
                self.timing.signal_on_term
            } else {
                SIGTERM
            }
        } else if sig == SIGINT {
            SIGKILL
        } else {
            self.timing.signal_on_term
        };
        if !self.stopping {
            self.stopping = true;
            self.host.lifecycle(Lifecycle::Stopping);
            self.restart_wanted = false;
            self.deferred_restart = false;
            self.kill_old_at = None;
            let starting = self.starting.take().and_then(|s| s.worker);
            for w in self.current.take().into_iter().chain(starting) {
                let old = Old {
                    generation: w.generation,
                    signalled: None,
                    killed: false,
                };
                self.old.insert(w.pid, old);
            }
            self.publish();
        }
        let now = Instant::now();
        for old in self.old.values_mut() {
            old.signalled.get_or_insert(now);
        }
        let pids: Vec<i32> = self.old.keys().copied().collect();
        self.log(format!(
            "received {sig}, sending {forward} to all workers: {}",
            pid_list(&pids)
        ));
        for pid in pids {
            self.host.kill(pid, forward);
        }
    }

    fn publish(&mut self) {
        let mut workers: Vec<(u64, i32)> = self
            .old
            .iter()
            .map(|(&pid, old)| (old.generation, pid))
            .collect();
        workers.extend(self.current.map(|w| (w.generation, w.pid)));
        workers.sort_unstable();
        self.host.publish(&workers);
    }

    fn log(&mut self, line: String) {
        self.host.log(line);
    }
}

fn pid_list(pids: &[i32]) -> String {
    if pids.is_empty() {
        return "none".into();
    }
    let list: Vec<String> = pids.iter().map(i32::to_string).collect();
    list.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use sigchan::{SIGQUIT, SIGUSR1};
    use std::os::unix::process::ExitStatusExt;

    /// Records what the supervisor did; spawns get pids 100, 101, ... unless told to fail.
    #[derive(Default)]
    struct Fake {
        next_pid: i32,
        spawned: Vec<(u64, i32)>,
        killed: Vec<(i32, Signal)>,
        published: Vec<Vec<(u64, i32)>>,
        fail_spawns: usize,
        lines: Vec<String>,
        events: Vec<Lifecycle>,
    }

    impl Host for Fake {
        fn spawn(&mut self, generation: u64) -> io::Result<i32> {
            if self.fail_spawns > 0 {
                self.fail_spawns -= 1;
                return Err(io::Error::from_raw_os_error(libc::ENOENT));
            }
            let pid = 100 + self.next_pid;
            self.next_pid += 1;
            self.spawned.push((generation, pid));
            Ok(pid)
        }
        fn kill(&mut self, pid: i32, sig: Signal) {
            self.killed.push((pid, sig));
        }
        fn publish(&mut self, workers: &[(u64, i32)]) {
            self.published.push(workers.to_vec());
        }
        fn log(&mut self, line: String) {
            self.lines.push(line);
        }
        fn lifecycle(&mut self, event: Lifecycle) {
            self.events.push(event);
        }
    }

    const SEC: Duration = Duration::from_secs(1);

    fn timing() -> Timing {
        Timing {
            interval: SEC,
            kill_old_delay: Duration::ZERO,
            auto_restart: None,
            signal_on_hup: SIGTERM,
            signal_on_term: SIGTERM,
            kill_old_timeout: None,
        }
    }

    fn started(timing: Timing) -> (Supervisor<Fake>, Instant) {
        let t0 = Instant::now();
        let mut s = Supervisor::new(Fake::default(), timing, t0);
        s.start(t0).unwrap();
        s.on_tick(t0 + SEC);
        (s, t0 + SEC)
    }

    fn exited(code: i32) -> ExitStatus {
        ExitStatus::from_raw(code << 8)
    }

    fn status(s: &Supervisor<Fake>) -> Vec<(u64, i32)> {
        s.host.published.last().cloned().unwrap_or_default()
    }

    /// What systemd hears: serving once the first generation is up, reloading on HUP,
    /// serving again with the new generation, stopping on TERM; an abandoned restart ends
    /// its reload with the old generation serving.
    #[test]
    fn the_service_manager_hears_ready_reloading_ready_stopping() {
        let (mut s, t) = started(timing());
        s.on_signal(SIGHUP, t);
        s.on_tick(t + SEC * 5);
        s.host.fail_spawns = 1;
        s.on_signal(SIGHUP, t + SEC * 6);
        s.on_signal(SIGTERM, t + SEC * 7);
        let first = s.host.spawned[0].1;
        let second = s.host.spawned[1].1;
        assert_eq!(
            s.host.events,
            vec![
                Lifecycle::Serving {
                    generation: 1,
                    pid: first
                },
                Lifecycle::Reloading,
                Lifecycle::Serving {
                    generation: 2,
                    pid: second
                },
                Lifecycle::Reloading,
                Lifecycle::Serving {
                    generation: 2,
                    pid: second
                },
                Lifecycle::Stopping,
            ]
        );
    }

    #[test]
    fn first_generation_is_published_after_the_interval() {
        let t0 = Instant::now();
        let mut s = Supervisor::new(Fake::default(), timing(), t0);
        s.start(t0).unwrap();
        assert_eq!(s.host.spawned, [(1, 100)]);
        assert_eq!(s.deadline(), Some(t0 + SEC));
        s.on_tick(t0 + SEC / 2);
        assert!(s.host.published.is_empty());
        s.on_tick(t0 + SEC);
        assert_eq!(status(&s), [(1, 100)]);
        assert_eq!(s.deadline(), None);
    }

    #[test]
    fn a_program_that_cannot_start_is_an_error_at_first() {
        let t0 = Instant::now();
        let fake = Fake {
            fail_spawns: 1,
            ..Fake::default()
        };
        let mut s = Supervisor::new(fake, timing(), t0);
        assert!(s.start(t0).is_err());
    }

    #[test]
    fn hup_signals_the_old_generation_only_after_the_new_one_stayed_up() {
        let (mut s, t) = started(timing());
        s.on_signal(SIGHUP, t);
        assert_eq!(s.host.spawned, [(1, 100), (2, 101)]);
        s.on_tick(t + SEC / 2);
        assert!(s.host.killed.is_empty(), "signalled before --interval");
        s.on_tick(t + SEC);
        assert_eq!(s.host.killed, [(100, SIGTERM)]);
        assert_eq!(status(&s), [(1, 100), (2, 101)]);
        s.on_exit(100, exited(0), t + SEC * 2);
        assert_eq!(status(&s), [(2, 101)]);
    }

    #[test]
    fn a_new_generation_that_dies_early_is_retried_and_the_old_one_keeps_serving() {
        let (mut s, t) = started(timing());
        s.on_signal(SIGHUP, t);
        s.on_exit(101, exited(1), t + SEC / 4);
        s.on_tick(t + SEC);
        assert!(
            s.host.killed.is_empty(),
            "old generation signalled for a dead one"
        );
        assert_eq!(s.host.spawned.last(), Some(&(3, 102)));
        s.on_tick(t + SEC * 2);
        assert_eq!(s.host.killed, [(100, SIGTERM)]);
        assert_eq!(status(&s), [(1, 100), (3, 102)]);
    }

    #[test]
    fn a_restart_that_cannot_spawn_is_abandoned_and_the_old_generation_stays() {
        let (mut s, t) = started(timing());
        s.host.fail_spawns = 1;
        s.on_signal(SIGHUP, t);
        assert_eq!(s.deadline(), None);
        s.on_tick(t + SEC * 5);
        assert!(s.host.killed.is_empty());
        assert!(s.host.lines.iter().any(|l| l.contains("restart abandoned")));
        s.on_signal(SIGHUP, t + SEC * 5);
        assert_eq!(s.host.spawned.last(), Some(&(3, 101)));
    }

    #[test]
    fn hup_during_a_start_is_acted_on_once_the_new_generation_is_up() {
        let (mut s, t) = started(timing());
        s.on_signal(SIGHUP, t);
        s.on_signal(SIGHUP, t + SEC / 4);
        s.on_signal(SIGHUP, t + SEC / 2);
        assert_eq!(s.host.spawned.len(), 2, "one start at a time");
        s.on_tick(t + SEC);
        assert_eq!(
            s.host.spawned.len(),
            3,
            "the remembered HUPs make one restart"
        );
        s.on_tick(t + SEC * 2);
        assert_eq!(s.host.killed, [(100, SIGTERM), (101, SIGTERM)]);
        assert_eq!(s.host.spawned.len(), 3);
    }

    #[test]
    fn kill_old_delay_postpones_the_signal_and_signal_on_hup_is_used() {
        let mut t = timing();
        t.kill_old_delay = SEC * 3;
        t.signal_on_hup = SIGQUIT;
        let (mut s, t) = started(t);
        s.on_signal(SIGHUP, t);
        s.on_tick(t + SEC);
        assert!(s.host.killed.is_empty());
        assert_eq!(s.deadline(), Some(t + SEC * 4));
        s.on_tick(t + SEC * 4);
        assert_eq!(s.host.killed, [(100, SIGQUIT)]);
    }

    #[test]
    fn a_worker_that_dies_on_its_own_is_replaced() {
        let (mut s, t) = started(timing());
        s.on_exit(100, ExitStatus::from_raw(libc::SIGKILL), t);
        assert_eq!(status(&s), []);
        assert_eq!(s.host.spawned.last(), Some(&(2, 101)));
        s.on_tick(t + SEC);
        assert_eq!(status(&s), [(2, 101)]);
        assert!(s.host.killed.is_empty());
    }

    #[test]
    fn a_replacement_that_cannot_spawn_is_retried_until_it_can() {
        let (mut s, t) = started(timing());
        s.host.fail_spawns = 2;
        s.on_exit(100, exited(3), t);
        // Failed at t: next try after 1 s; failed again: after 2 s (backoff).
        s.on_tick(t + SEC);
        assert_eq!(s.deadline(), Some(t + SEC * 3));
        s.on_tick(t + SEC * 2);
        assert_eq!(s.host.spawned.len(), 1, "tried again before the backoff");
        s.on_tick(t + SEC * 3);
        assert_eq!(s.host.spawned.last(), Some(&(4, 101)));
        s.on_tick(t + SEC * 4);
        assert_eq!(status(&s), [(4, 101)]);
    }

    #[test]
    fn a_release_that_keeps_crashing_at_start_is_retried_less_and_less_often() {
        let (mut s, mut t) = started(timing());
        s.on_signal(SIGHUP, t);
        let mut gaps = Vec::new();
        let mut last = t;
        for _ in 0..8 {
            let (_, pid) = *s.host.spawned.last().unwrap();
            s.on_exit(pid, exited(1), t);
            let next = s.deadline().unwrap();
            gaps.push((next - last).as_secs());
            last = next;
            t = next;
            s.on_tick(t);
        }
        assert_eq!(gaps, [1, 2, 4, 8, 16, 32, 60, 60], "{gaps:?}");
        assert_eq!(status(&s), [(1, 100)], "the first generation keeps serving");
        // A promotion resets the backoff.
        let t = s.deadline().unwrap();
        s.on_tick(t);
        assert!(s.host.lines.iter().any(|l| l.contains("is now running")));
    }

    #[test]
    fn old_workers_that_ignore_the_signal_are_killed_after_the_timeout_and_capped() {
        let mut timing = timing();
        timing.kill_old_timeout = Some(SEC * 10);
        let (mut s, mut t) = started(timing);
        // Restarts every second; no old worker ever exits on TERM.
        for _ in 0..MAX_OLD + 2 {
            s.on_signal(SIGHUP, t);
            t += SEC;
            s.on_tick(t);
        }
        assert_eq!(
            s.old.len(),
            MAX_OLD,
            "restarts beyond the cap wait: {:?}",
            s.host.lines
        );
        assert!(s.host.lines.iter().any(|l| l.contains("the restart waits")));
        assert!(!s.host.killed.iter().any(|&(_, sig)| sig == SIGKILL));
        // The first old worker was signalled at started+1 s: SIGKILL 10 s later.
        let first_old = 100;
        let kill_at = s.deadline().unwrap();
        s.on_tick(kill_at);
        assert!(
            s.host.killed.contains(&(first_old, SIGKILL)),
            "{:?}",
            s.host.killed
        );
        // Its exit lets the deferred restart go.
        let spawned = s.host.spawned.len();
        s.on_exit(first_old, ExitStatus::from_raw(libc::SIGKILL), kill_at);
        assert_eq!(s.host.spawned.len(), spawned + 1);
    }

    #[test]
    fn term_forwards_signal_on_term_and_finishes_when_every_worker_is_gone() {
        let mut t = timing();
        t.signal_on_term = SIGUSR1;
        let (mut s, t) = started(t);
        s.on_signal(SIGHUP, t); // a starting worker is stopped too
        s.on_signal(SIGTERM, t);
        assert_eq!(s.host.killed, [(100, SIGUSR1), (101, SIGUSR1)]);
        assert!(!s.finished());
        s.on_tick(t + SEC * 10);
        assert_eq!(s.host.spawned.len(), 2, "nothing starts while stopping");
        s.on_signal(SIGHUP, t);
        assert_eq!(s.host.spawned.len(), 2);
        s.on_exit(100, exited(0), t);
        assert!(!s.finished());
        s.on_exit(101, exited(0), t);
        assert!(s.finished());
        assert_eq!(status(&s), []);
    }

    #[test]
    fn int_sends_term_and_a_second_int_sends_kill() {
        let (mut s, t) = started(timing());
        s.on_signal(SIGINT, t);
        assert_eq!(s.host.killed, [(100, SIGTERM)]);
        s.on_signal(SIGINT, t);
        assert_eq!(s.host.killed, [(100, SIGTERM), (100, SIGKILL)]);
        s.on_exit(100, ExitStatus::from_raw(libc::SIGKILL), t);
        assert!(s.finished());
    }

    #[test]
    fn auto_restart_waits_for_old_workers_unless_forced() {
        let mut t = timing();
        t.auto_restart = Some(SEC * 10);
        let (mut s, t) = started(t);
        assert_eq!(s.deadline(), Some(t + SEC * 10));
        s.on_tick(t + SEC * 10);
        assert_eq!(s.host.spawned.len(), 2);
        s.on_tick(t + SEC * 11); // promoted; generation 1 signalled but never exits
        assert_eq!(s.host.killed, [(100, SIGTERM)]);
        s.on_tick(t + SEC * 21);
        assert_eq!(s.host.spawned.len(), 2, "old workers still running");
        s.on_tick(t + SEC * 31);
        assert_eq!(s.host.spawned.len(), 3, "forced after twice the interval");
    }

    #[test]
    fn unknown_children_change_nothing() {
        let (mut s, t) = started(timing());
        let before = s.host.published.len();
        s.on_exit(4242, exited(0), t);
        assert_eq!(s.host.published.len(), before);
        assert!(s.host.spawned.len() == 1 && s.host.killed.is_empty());
    }
}
