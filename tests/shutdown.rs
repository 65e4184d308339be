//! The shutdown token: triggering, waiting, clones, stop/drop, and the second signal taking
//! the original action. Each test runs in a forked child (tests/common).

mod common;
use common::*;
use crossbeam_channel::bounded;
use sigchan::{Signal, SIGINT, SIGTERM, SIGUSR1};
use std::time::Duration;

#[test]
fn first_signal_triggers_every_clone_and_wakes_waiters() {
    isolated(|| {
        let shutdown = sigchan::shutdown_on(&[SIGINT, SIGTERM]).unwrap();
        assert!(!shutdown.is_triggered());
        assert!(!shutdown.wait_timeout(Duration::from_millis(20)));
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let s = shutdown.clone();
                std::thread::spawn(move || s.wait())
            })
            .collect();
        raise_process(SIGTERM);
        for w in waiters {
            assert_eq!(w.join().unwrap(), Some(SIGTERM));
        }
        assert!(shutdown.wait_timeout(RECV));
        assert!(shutdown.is_triggered());
        assert_eq!(shutdown.signal(), Some(SIGTERM));
    });
}

#[test]
fn a_second_sigint_kills() {
    let out = run_in_child(|| {
        let shutdown = sigchan::shutdown_on(&[SIGINT, SIGTERM]).unwrap();
        raise_process(SIGINT);
        assert_eq!(shutdown.wait(), Some(SIGINT));
        // The token let go of both signals in the same step: their defaults are back.
        // Given back one after the other, in the same step as the trigger.
        wait_until("SIGINT and SIGTERM given back", || {
            kernel_action(libc::SIGINT).handler == libc::SIG_DFL
                && kernel_action(libc::SIGTERM).handler == libc::SIG_DFL
        });
        write_stderr("graceful shutdown begins\n");
        raise_process(SIGINT);
        pause_briefly();
        write_stderr("survived the second SIGINT\n");
    });
    assert!(out.stderr.contains("graceful shutdown begins"), "{out:?}");
    assert!(!out.stderr.contains("survived"), "{out:?}");
    out.assert_killed_by(libc::SIGINT);
}

#[test]
fn a_second_sigterm_kills_in_init_mode() {
    let out = run_in_child(|| {
        sigchan::init().unwrap();
        let shutdown = sigchan::shutdown_on(&[SIGTERM]).unwrap();
        raise_process(SIGTERM);
        assert_eq!(shutdown.wait(), Some(SIGTERM));
        wait_until("SIGTERM given back", || {
            kernel_action(libc::SIGTERM).handler == libc::SIG_DFL
        });
        raise_process(SIGTERM);
        for _ in 0..5000 {
            pause_briefly();
        }
        write_stderr("survived the second SIGTERM\n");
    });
    assert!(!out.stderr.contains("survived"), "{out:?}");
    out.assert_killed_by(libc::SIGTERM);
}

#[test]
fn the_second_signal_takes_an_inherited_ignore() {
    isolated(|| {
        // As under nohup: the process started with SIGHUP ignored.
        set_disposition(libc::SIGHUP, libc::SIG_IGN);
        let shutdown = sigchan::shutdown_on(&[sigchan::SIGHUP]).unwrap();
        raise_process(sigchan::SIGHUP);
        assert_eq!(shutdown.wait(), Some(sigchan::SIGHUP));
        wait_until("SIG_IGN given back", || sigchan::ignored(sigchan::SIGHUP));
        raise_process(sigchan::SIGHUP); // ignored: we live on
    });
}

#[test]
fn a_channel_on_the_same_signal_keeps_receiving_after_the_token_triggers() {
    isolated(|| {
        let (tx, rx) = bounded::<Signal>(4);
        sigchan::notify(&tx, &[SIGINT]).unwrap();
        let shutdown = sigchan::shutdown_on(&[SIGINT]).unwrap();
        raise_process(SIGINT);
        assert_eq!(shutdown.wait(), Some(SIGINT));
        assert_eq!(expect_signal(&rx, "first INT"), SIGINT);
        raise_process(SIGINT);
        assert_eq!(expect_signal(&rx, "second INT"), SIGINT);
        assert_eq!(shutdown.signal(), Some(SIGINT));
    });
}

#[test]
fn stop_before_any_signal_wakes_waiters_with_none_and_restores_the_default() {
    isolated(|| {
        let shutdown = sigchan::shutdown_on(&[SIGUSR1]).unwrap();
        let waiter = {
            let s = shutdown.clone();
            std::thread::spawn(move || s.wait())
        };
        shutdown.stop();
        assert_eq!(waiter.join().unwrap(), None);
        assert!(!shutdown.is_triggered());
        assert!(
            shutdown.wait_timeout(Duration::ZERO),
            "a stopped token is done"
        );
        assert_eq!(kernel_action(libc::SIGUSR1).handler, libc::SIG_DFL);
    });
}

#[test]
fn dropping_the_last_clone_stops_it() {
    isolated(|| {
        let shutdown = sigchan::shutdown_on(&[SIGUSR1]).unwrap();
        let clone = shutdown.clone();
        drop(shutdown);
        assert_ne!(
            kernel_action(libc::SIGUSR1).handler,
            libc::SIG_DFL,
            "a clone is still alive"
        );
        drop(clone);
        assert_eq!(kernel_action(libc::SIGUSR1).handler, libc::SIG_DFL);
    });
}

#[test]
fn bad_signals_change_nothing() {
    isolated(|| {
        let err = sigchan::shutdown_on(&[SIGINT, sigchan::SIGSTOP]).unwrap_err();
        assert!(matches!(err, sigchan::Error::Uncatchable(_)), "{err}");
        assert_eq!(kernel_action(libc::SIGINT).handler, libc::SIG_DFL);
    });
}

/// `shutdown_on(&[])` means the requests to end the process: a child ending (SIGCHLD) or a
/// terminal resize (SIGWINCH) leaves it untriggered and their dispositions untouched; a
/// SIGTERM triggers it.
#[test]
fn empty_list_means_termination_requests_not_sigchld_or_sigwinch() {
    isolated(|| {
        let shutdown = sigchan::shutdown_on(&[]).unwrap();
        assert_eq!(kernel_action(libc::SIGCHLD).handler, libc::SIG_DFL);
        assert_eq!(kernel_action(libc::SIGWINCH).handler, libc::SIG_DFL);
        assert_eq!(kernel_action(libc::SIGPIPE).handler, libc::SIG_IGN);
        let child = spawn_forked(|| {});
        wait_pid(child, false).assert_success();
        // Not caught at all: they take their default action (ignore) in the kernel.
        raise_process(sigchan::SIGWINCH);
        assert!(!shutdown.is_triggered());
        assert_eq!(sigchan::stats(sigchan::SIGWINCH), sigchan::Stats::default());
        assert_eq!(sigchan::stats(sigchan::SIGCHLD), sigchan::Stats::default());
        for sig in [SIGINT, SIGTERM, sigchan::SIGHUP, sigchan::SIGQUIT, SIGUSR1] {
            assert_ne!(kernel_action(sig.as_raw()).handler, libc::SIG_DFL, "{sig}");
        }
        raise_process(SIGTERM);
        assert_eq!(shutdown.wait(), Some(SIGTERM));
        for sig in sigchan::SignalSet::termination_requests() {
            assert!(!sig.is_synchronous() && !sig.is_realtime(), "{sig}");
        }
    });
}

/// The token unsubscribes itself in the dispatch that delivers the first signal; a second
/// signal queued in that moment used to be delivered to nobody: neither merged, nor passed
/// to the original disposition. Here the original disposition is a counting handler, which
/// sigchan also chains to for every arrival it takes. Per round the second signal is either
/// merged (`coalesced`), or not wanted any more (the handler is called once, no arrival), or
/// queued and then re-raised once the token let go (arrival + chained call + the re-raise's
/// call): in each case `(handler calls - arrivals) + merges == 1`. A lost one leaves 0.
/// The re-raise rounds are counted, not required: the window (between the signal thread's
/// take and the token's release, microseconds) was not hit in 2000 rounds on this machine;
/// the registry's unit test `stopping_channels_still_receive_until_removed` checks that such
/// an arrival is found orphaned. This test holds the invariant for every path.
#[test]
#[cfg_attr(
    sigchan_qemu,
    ignore = "qemu-user 7.2 races rt_sigaction against delivery: it can enter a handler at the address another thread just restored"
)]
fn a_second_signal_racing_the_fired_token_takes_the_original_action() {
    use std::sync::atomic::{AtomicU64, Ordering};
    static HITS: AtomicU64 = AtomicU64::new(0);
    extern "C" fn original(_: libc::c_int) {
        HITS.fetch_add(1, Ordering::SeqCst);
    }
    let out = run_in_child(|| {
        set_disposition(libc::SIGUSR1, original as *const () as usize);
        let mut reraised = 0;
        for round in 0..2000 {
            let before = sigchan::stats(SIGUSR1);
            let hits = HITS.load(Ordering::SeqCst);
            let token = sigchan::shutdown_on(&[SIGUSR1]).unwrap();
            raise_process(SIGUSR1);
            raise_process(SIGUSR1);
            assert_eq!(token.wait(), Some(SIGUSR1));
            // (handler calls - arrivals sigchan took) + merges, for this round.
            let settled = || {
                let s = sigchan::stats(SIGUSR1);
                let calls = HITS.load(Ordering::SeqCst) - hits;
                calls as i64 - (s.arrivals - before.arrivals) as i64
                    + (s.coalesced - before.coalesced) as i64
            };
            let start = std::time::Instant::now();
            while settled() != 1 {
                assert!(
                    start.elapsed() < RECV,
                    "round {round}: the second signal was lost: {before:?} -> {:?}, handler {hits} -> {}",
                    sigchan::stats(SIGUSR1),
                    HITS.load(Ordering::SeqCst)
                );
                pause_briefly();
            }
            let s = sigchan::stats(SIGUSR1);
            if s.arrivals - before.arrivals == 2 && s.coalesced == before.coalesced {
                reraised += 1;
            }
            drop(token);
        }
        write_stderr(&format!("2000 rounds, {reraised} through the re-raise\n"));
    });
    out.assert_success();
    eprintln!("{}", out.stderr.trim());
}

/// The worker-pool shape the token could not serve before `done()`: one `select!` over a job
/// queue, a SIGHUP channel and the token, with no polling. HUP is a reload, jobs are served
/// meanwhile, TERM ends the loop in every worker, and a second TERM still kills.
#[test]
fn done_composes_with_other_channels_in_select_and_a_second_signal_still_kills() {
    let out = run_in_child(|| {
        use sigchan::channel::{bounded, select};
        let shutdown = sigchan::shutdown_on(&[SIGTERM]).unwrap();
        let (hup_tx, hup) = bounded::<Signal>(4);
        sigchan::notify(&hup_tx, &[sigchan::SIGHUP]).unwrap();
        let (jobs_tx, jobs) = bounded::<u32>(64);
        let (report_tx, report) = bounded::<(u32, u32)>(4);
        let workers: Vec<_> = (0..3)
            .map(|_| {
                let (shutdown, hup, jobs, report_tx) = (
                    shutdown.clone(),
                    hup.clone(),
                    jobs.clone(),
                    report_tx.clone(),
                );
                std::thread::spawn(move || {
                    let (mut served, mut reloads) = (0, 0);
                    loop {
                        select! {
                            recv(jobs) -> job => { job.unwrap(); served += 1; }
                            recv(hup) -> _ => reloads += 1,
                            recv(shutdown.done()) -> closed => {
                                assert!(closed.is_err(), "done() never carries a value");
                                break;
                            }
                        }
                    }
                    report_tx.send((served, reloads)).unwrap();
                })
            })
            .collect();
        for j in 0..50 {
            jobs_tx.send(j).unwrap();
        }
        raise_process(sigchan::SIGHUP);
        wait_until("the reload and the jobs handled", || {
            jobs.is_empty() && hup.is_empty() && sigchan::stats(sigchan::SIGHUP).delivered == 1
        });
        assert!(report.is_empty(), "nobody stops before the token triggers");
        raise_process(SIGTERM);
        let totals = (0..3).fold((0, 0), |(s, r), _| {
            let (s2, r2) = report.recv_timeout(RECV).expect("every worker stops");
            (s + s2, r + r2)
        });
        assert_eq!(totals, (50, 1), "(jobs served, reloads)");
        for w in workers {
            w.join().unwrap();
        }
        assert_eq!(shutdown.signal(), Some(SIGTERM));
        // A receiver taken after the trigger is ready at once.
        assert!(shutdown.done().recv_timeout(Duration::ZERO).is_err());
        sigchan::stop(&hup_tx);
        write_stderr("drained\n");
        raise_process(SIGTERM);
        pause_briefly();
        write_stderr("survived the second SIGTERM\n");
    });
    assert!(out.stderr.contains("drained"), "{out:?}");
    assert!(!out.stderr.contains("survived"), "{out:?}");
    out.assert_killed_by(libc::SIGTERM);
}

/// `stop` closes `done()` too, with `signal()` telling it from a trigger.
#[test]
fn stop_closes_done_with_no_signal() {
    isolated(|| {
        let shutdown = sigchan::shutdown_on(&[SIGUSR1]).unwrap();
        let done = shutdown.done();
        assert_eq!(
            done.recv_timeout(Duration::from_millis(20)),
            Err(crossbeam_channel::RecvTimeoutError::Timeout),
            "open while the token waits"
        );
        let waiter = std::thread::spawn(move || done.recv_timeout(RECV));
        shutdown.stop();
        assert_eq!(
            waiter.join().unwrap(),
            Err(crossbeam_channel::RecvTimeoutError::Disconnected)
        );
        assert_eq!(shutdown.signal(), None);
    });
}
