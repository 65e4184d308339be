//! The init's life: set up (signals blocked, parent-death signal, subreaper), start the
//! child, hand every signal to `sigchan::forward` (sigchan's handler forwards each arrival
//! where it lands, as tini's loop would, with no thread of init's woken), then wait for the
//! main child's exit. The loop hears of a signal only when it has something to do with it
//! (a log line, job control, `--grace`); other children are reaped on sigchan's thread
//! without waking it. Idle, nothing runs: no timer, no polling (a `--grace` deadline is the
//! only timeout, and only once armed).

use crate::child::{self, StartSignals};
use crate::config::{Config, Personality, Placement};
use crate::log::Log;
use sigchan::channel::{unbounded, Select};
use sigchan::forward::{Forward, Target};
use sigchan::reap::{ChildExit, Reaper};
use sigchan::{SigInfo, Signal, SignalSet};
use std::time::Instant;

/// Runs the init described by `cfg`; returns the exit code. `start` is the signal state
/// init was started with (read before anything changed it).
pub fn run(cfg: &Config, start: &StartSignals) -> i32 {
    let log = Log {
        personality: cfg.personality,
        verbosity: cfg.verbosity,
    };
    // musl keeps 34 for itself (`__synccall`); tini-static (glibc) forwards it, and Docker's
    // `kill -s RTMIN` sends it.
    #[cfg(target_env = "musl")]
    {
        let rtmin_of_glibc = Signal::new(34).expect("a signal number");
        // SAFETY: sigchan-init never calls what needs musl's 34: no set*id call, no thread
        // cancellation, no SIGEV_THREAD timer.
        if let Err(e) = unsafe { sigchan::claim_reserved(rtmin_of_glibc) } {
            log.fatal(&format!("cannot take signal 34 from musl: {e}"));
            return 1;
        }
    }
    // First, as tini does: every asynchronous signal blocked in this thread for good. What
    // arrives before the forward starts stays pending and is forwarded then.
    if let Err(e) = child::block_signals() {
        log.fatal(&format!("cannot block signals: {e}"));
        return 1;
    }
    if let Some(sig) = cfg.parent_death_signal {
        // SAFETY: getppid and prctl with integer arguments.
        let parent = unsafe { libc::getppid() };
        // SAFETY: as above.
        if unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, sig.as_raw() as libc::c_ulong) } != 0 {
            log.fatal("Failed to set up parent death signal");
            return 1;
        }
        // A parent that died before the prctl sends nothing (tini misses it): re-parented
        // already, so act as if the signal came (pending until the forward takes it).
        // SAFETY: getppid, getpid and kill take integers only.
        unsafe {
            if libc::getppid() != parent {
                libc::kill(libc::getpid(), sig.as_raw());
            }
        }
    }
    if cfg.subreaper {
        // SAFETY: prctl with integer arguments.
        if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1) } != 0 {
            let e = std::io::Error::last_os_error();
            log.fatal(&format!("Failed to register as child subreaper: {e}"));
            return 1;
        }
        log.subreaper_registered();
    }
    if !reaps_orphans() {
        log.not_a_reaper();
    }

    // The arrivals the terminal hand-off itself causes are not meant for the child: they
    // are pending now (blocked), and taken here before anything forwards.
    if cfg.placement == Placement::OwnSession {
        match child::give_up_tty() {
            Ok(was_leader) => {
                log.tty_detached(was_leader);
                if was_leader {
                    for sig in child::take_hand_off_signals() {
                        log.hand_off_ignored(sig);
                    }
                }
            }
            Err(e) => log.tty_not_detached(&e),
        }
    }

    // The child first, before sigchan starts its thread: it gets pid 2 in a new namespace,
    // as under tini and dumb-init. No reaper exists yet, so std reaps a child whose exec
    // failed itself.
    let pid = match child::spawn(cfg, start) {
        Ok(pid) => pid,
        Err(e) => {
            let (code, message) = child::exec_failure(cfg, &e);
            log.fatal(&message);
            return code;
        }
    };
    log.spawned(&cfg.command[0].to_string_lossy(), pid);

    // This process's signal handling is all sigchan's (std's fault handlers, installed
    // before, are chained to, never taken): its thread need not ask the kernel whose handler
    // is installed before each signal it takes. `--cfg sigchan_init_checked` keeps asking,
    // only so `init/benches/reap_profile.sh` can show what the promise saves.
    #[cfg(not(sigchan_init_checked))]
    sigchan::promise_no_other_handlers();
    let tty_signals = [sigchan::SIGTTIN, sigchan::SIGTTOU];
    // Every catchable signal but SIGCHLD (the reaper's), forwarded by sigchan's handler
    // where it lands: no thread of init's wakes up for it. First thing after the spawn:
    // until the forward starts, what arrives waits blocked (and a standard signal sent twice
    // meanwhile merges, as it would while tini starts).
    let forwarded: Vec<Signal> = SignalSet::catchable()
        .iter()
        .filter(|s| *s != sigchan::SIGCHLD)
        .filter(|s| !(cfg.ignore_tty_signals && tty_signals.contains(s)))
        .collect();
    let target = if cfg.forward_to_group {
        Target::Group(pid)
    } else {
        Target::Process(pid)
    };
    let mut route = Forward::to(target);
    for (&from, &to) in &cfg.rewrites {
        let (Ok(from), to) = (Signal::new(from), Signal::new(to)) else {
            continue;
        };
        route = match to {
            Ok(to) => route.rewrite(from, to),
            Err(_) => route.discard(from),
        };
    }
    // The loop hears of a signal only when it has something to do with it: log it, stop
    // itself after a job-control signal, or arm `--grace`. Tapped in the same step as the
    // forward starts, so what arrived while the child was spawned reaches both.
    let mut watched = SignalSet::new();
    if log.reports_signals() {
        watched = forwarded.iter().copied().collect();
    }
    if cfg.stop_self_on_job_control {
        watched.extend([sigchan::SIGTSTP, sigchan::SIGTTIN, sigchan::SIGTTOU]);
    }
    if cfg.grace.is_some() {
        watched.extend(SignalSet::termination_requests());
    }
    let (tx, signals) = unbounded::<SigInfo>();
    if !watched.is_empty() {
        let watched: Vec<Signal> = watched.iter().collect();
        route = route.tap(&tx, &watched);
    }
    let _forwarding = match route.start(&forwarded) {
        Ok(f) => f,
        Err(e) => {
            log.fatal(&format!("cannot forward signals: {e}"));
            return 1;
        }
    };

    if cfg.ignore_tty_signals {
        // tini's choice: init may write to a terminal whose foreground it gave away (the
        // child, forked already, keeps what init was started with).
        if let Err(e) = sigchan::ignore(&tty_signals) {
            log.fatal(&format!("cannot ignore SIGTTIN/SIGTTOU: {e}"));
            return 1;
        }
    }

    // Every child is reaped; the others are events only when a line is printed for them.
    let reaper = if log.reports_reaping(cfg.warn_on_reap) {
        Reaper::all()
    } else {
        Reaper::all_reporting(&[pid])
    };
    let reaper = match reaper {
        Ok(r) => r,
        Err(e) => {
            log.fatal(&format!("cannot reap children: {e}"));
            return 1;
        }
    };

    if cfg.chdir_root {
        // init keeps no directory busy; the child keeps the caller's.
        let _ = std::env::set_current_dir("/");
    }

    let raw_target = match target {
        Target::Group(p) => -(p as i32),
        Target::Process(p) => p as i32,
    };
    let mut kill_at: Option<Instant> = None;
    // Per signal number, the failed forwards already reported.
    let mut failures_seen = [0u64; 65];
    loop {
        let mut sel = Select::new();
        let s = sel.recv(&signals);
        let r = sel.recv(reaper.receiver());
        let op = match kill_at {
            Some(at) => match sel.select_deadline(at) {
                Ok(op) => op,
                Err(_) => {
                    let grace = cfg.grace.expect("armed only with --grace");
                    log.grace_over(kill_target(cfg, pid), grace);
                    // SAFETY: kill with integer arguments.
                    unsafe { libc::kill(kill_target(cfg, pid), libc::SIGKILL) };
                    kill_at = None;
                    continue;
                }
            },
            None => sel.select(),
        };
        if op.index() == s {
            let info = op.recv(&signals).expect("tx lives in this frame");
            let sig = info.signal().as_raw();
            if log.reports_signals() {
                log_forward(cfg, &log, sig, &info, raw_target, &mut failures_seen);
            }
            if cfg.grace.is_some()
                && kill_at.is_none()
                && SignalSet::termination_requests().contains(info.signal())
            {
                kill_at = cfg.grace.map(|g| Instant::now() + g);
            }
            if cfg.stop_self_on_job_control
                && [libc::SIGTSTP, libc::SIGTTIN, libc::SIGTTOU].contains(&sig)
            {
                log.suspending();
                // SAFETY: kill with integer arguments; SIGCONT continues us.
                unsafe { libc::kill(libc::getpid(), libc::SIGSTOP) };
            }
        } else if op.index() == r {
            let first = op
                .recv(reaper.receiver())
                .expect("the reaper lives in this frame");
            let exits: Vec<ChildExit> = std::iter::once(first)
                .chain(std::iter::from_fn(|| reaper.try_recv().ok()))
                .collect();
            let main_exit = exits.iter().find(|e| e.pid() == pid).copied();
            if main_exit.is_some() && !watched.is_empty() {
                // The signal that ended the child was forwarded before its SIGCHLD came, but
                // its delivery to the loop may trail the exit (one dispatch delivers bits,
                // SIGCHLD's reaping among them, before records): `stop` waits until every
                // arrival so far is delivered; their lines then come first, as in tini's.
                sigchan::stop(&tx);
                if log.reports_signals() {
                    for info in signals.try_iter() {
                        let sig = info.signal().as_raw();
                        log_forward(cfg, &log, sig, &info, raw_target, &mut failures_seen);
                    }
                }
            }
            log.sigchld();
            for other in exits.iter().filter(|e| e.pid() != pid) {
                log.reaped(other, cfg.warn_on_reap);
            }
            if let Some(exit) = main_exit {
                return main_child_ended(cfg, &log, &reaper, &exit, raw_target);
            }
            log.nothing_to_reap();
        }
    }
}

/// The lines for one arrival of `sig` that sigchan's handler forwarded already (its
/// counters say whether the kernel refused it).
fn log_forward(
    cfg: &Config,
    log: &Log,
    sig: i32,
    info: &SigInfo,
    target: i32,
    failures_seen: &mut [u64; 65],
) {
    log.received(sig);
    let sent = cfg.rewrites.get(&sig).copied().unwrap_or(sig);
    let failed = Signal::new(sig).map_or(0, |s| sigchan::stats(s).forward_failed);
    let seen = &mut failures_seen[sig as usize % 65];
    if sent != 0 && failed > *seen {
        *seen = failed;
        log.child_gone_when_forwarding(sent);
    } else {
        log.forwarded(sig, info, sent, target);
    }
    log.nothing_to_reap();
}

/// PID 1 and child subreapers get orphans re-parented to them.
fn reaps_orphans() -> bool {
    let mut flag: libc::c_int = 0;
    // SAFETY: PR_GET_CHILD_SUBREAPER writes one int into a live local.
    let subreaper =
        unsafe { libc::prctl(libc::PR_GET_CHILD_SUBREAPER, &mut flag) } == 0 && flag != 0;
    std::process::id() == 1 || subreaper
}

/// Where `--grace`'s SIGKILL goes: the child's group when it has one of its own.
fn kill_target(cfg: &Config, pid: u32) -> i32 {
    match cfg.placement {
        Placement::Inherit => pid as i32,
        Placement::OwnGroup | Placement::OwnSession => -(pid as i32),
    }
}

/// The main child ended: report the others already reaped, signal the rest of its group if
/// the personality does, and return the exit code.
fn main_child_ended(
    cfg: &Config,
    log: &Log,
    reaper: &Reaper,
    exit: &ChildExit,
    target: i32,
) -> i32 {
    let mut status = exit.shell_status() % 256;
    if cfg.success_statuses.contains(&status) {
        status = 0;
    }
    log.main_reaped(exit);
    if cfg.personality == Personality::Tini {
        // tini reaps what has ended by now before it exits.
        while let Ok(other) = reaper.try_recv() {
            log.reaped(&other, cfg.warn_on_reap);
        }
    }
    if cfg.term_group_on_exit {
        let term = cfg
            .rewrites
            .get(&libc::SIGTERM)
            .copied()
            .unwrap_or(libc::SIGTERM);
        if term != 0 {
            // SAFETY: kill with integer arguments; ESRCH (nobody left) is fine.
            unsafe { libc::kill(target, term) };
            log.forwarded_on_exit(term);
        }
    }
    log.main_exited(exit, status);
    log.exiting();
    status
}
