//! The init's life: set up (masked-process mode, parent-death signal, subreaper), start the
//! child, then one loop over two channels, the signals to forward and the children that
//! ended, until the main child ends. Idle, the loop and sigchan's thread both sleep: no
//! timer, no polling (a `--grace` deadline is the only timeout, and only once armed).

use crate::child;
use crate::config::{Config, Personality, Placement};
use crate::log::Log;
use sigchan::channel::{unbounded, Select};
use sigchan::reap::{ChildExit, Reaper};
use sigchan::{SigInfo, Signal, SignalSet};
use std::collections::BTreeSet;
use std::time::Instant;

/// Runs the init described by `cfg`; returns the exit code.
pub fn run(cfg: &Config) -> i32 {
    let log = Log {
        personality: cfg.personality,
        verbosity: cfg.verbosity,
    };
    // First, while this is the only thread: every thread started later (none of ours, but
    // the C library's) blocks the signals, and only sigchan's thread takes them.
    if let Err(e) = sigchan::init() {
        log.fatal(&format!("cannot set up signal handling: {e}"));
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
        // already, so act as if the signal came.
        // SAFETY: getppid takes no arguments.
        if unsafe { libc::getppid() } != parent {
            let _ = sigchan::raise(sig);
        }
    }
    if cfg.subreaper {
        // SAFETY: prctl with integer arguments.
        if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1) } != 0 {
            let e = std::io::Error::last_os_error();
            log.fatal(&format!("Failed to register as child subreaper: {e}"));
            return 1;
        }
    }
    if !reaps_orphans() {
        log.not_a_reaper();
    }
    let tty_signals = [sigchan::SIGTTIN, sigchan::SIGTTOU];
    if cfg.ignore_tty_signals {
        // tini's choice: init may write to a terminal whose foreground it gave away.
        if let Err(e) = sigchan::ignore(&tty_signals) {
            log.fatal(&format!("cannot ignore SIGTTIN/SIGTTOU: {e}"));
            return 1;
        }
    }

    // Every catchable signal but SIGCHLD (the reaper's), each arrival with its sender.
    let forwarded: Vec<Signal> = SignalSet::catchable()
        .iter()
        .filter(|s| *s != sigchan::SIGCHLD)
        .filter(|s| !(cfg.ignore_tty_signals && tty_signals.contains(s)))
        .collect();
    let (tx, signals) = unbounded::<SigInfo>();
    if let Err(e) = sigchan::notify_info(&tx, &forwarded) {
        log.fatal(&format!("cannot catch signals: {e}"));
        return 1;
    }
    let reaper = match Reaper::all() {
        Ok(r) => r,
        Err(e) => {
            log.fatal(&format!("cannot reap children: {e}"));
            return 1;
        }
    };

    // The arrivals the terminal hand-off itself causes, not meant for the child.
    let mut hand_off: BTreeSet<i32> = BTreeSet::new();
    if cfg.placement == Placement::OwnSession {
        if let Some(was_leader) = child::give_up_tty() {
            log.tty_detached(was_leader);
            if was_leader {
                hand_off.extend([libc::SIGHUP, libc::SIGCONT]);
            }
        }
    }

    // Under a hold: std's `spawn` reaps a child whose exec failed itself.
    let spawned = {
        let _hold = reaper.hold();
        child::spawn(cfg)
    };
    let pid = match spawned {
        Ok(pid) => pid,
        Err(e) => {
            let (code, message) = child::exec_failure(cfg, &e);
            log.fatal(&message);
            return code;
        }
    };
    log.spawned(&cfg.command[0].to_string_lossy(), pid);

    if cfg.chdir_root {
        // init keeps no directory busy; the child keeps the caller's.
        let _ = std::env::set_current_dir("/");
    }

    let target = if cfg.forward_to_group {
        -(pid as i32)
    } else {
        pid as i32
    };
    let mut kill_at: Option<Instant> = None;
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
            log.received(&info);
            let sig = info.signal().as_raw();
            if hand_off.remove(&sig) {
                log.hand_off_ignored(sig);
                continue;
            }
            forward(cfg, &log, &info, target);
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
            let exit = op
                .recv(reaper.receiver())
                .expect("the reaper lives in this frame");
            if exit.pid() == pid {
                return main_child_ended(cfg, &log, &reaper, &exit, target);
            }
            log.reaped(&exit, cfg.warn_on_reap);
        }
    }
}

/// PID 1 and child subreapers get orphans re-parented to them.
fn reaps_orphans() -> bool {
    let mut flag: libc::c_int = 0;
    // SAFETY: PR_GET_CHILD_SUBREAPER writes one int into a live local.
    let subreaper =
        unsafe { libc::prctl(libc::PR_GET_CHILD_SUBREAPER, &mut flag) } == 0 && flag != 0;
    std::process::id() == 1 || subreaper
}

/// Forwards one arrival as the rewrite rules say.
fn forward(cfg: &Config, log: &Log, info: &SigInfo, target: i32) {
    let sig = info.signal().as_raw();
    let sent = cfg.rewrites.get(&sig).copied().unwrap_or(sig);
    if sent != 0 {
        // SAFETY: kill with integer arguments.
        if unsafe { libc::kill(target, sent) } != 0 {
            log.child_gone_when_forwarding(sent);
            return;
        }
    }
    log.forwarded(info, sent, target);
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
        }
    }
    log.main_exited(exit, status);
    status
}
