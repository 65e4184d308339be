//! Init mode's frameless path: the signal thread blocks the signals every other thread
//! blocks and takes them with `rt_sigtimedwait` (no handler frame, no `rt_sigreturn`), while
//! a handler installed over sigchan's, or one sigchan chains to, still runs. Each test runs
//! in a forked child.

mod common;
use common::*;
use crossbeam_channel::{bounded, Receiver, Sender};
use sigchan::{Signal, SIGUSR1};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

#[test]
fn in_init_mode_the_signal_thread_takes_what_it_receives_in_sigtimedwait() {
    isolated(|| {
        sigchan::init().unwrap();
        let (tx, rx) = bounded::<Signal>(4);
        sigchan::notify(&tx, &[SIGUSR1]).unwrap();
        let tid = signal_thread_tid();
        // Asleep in rt_sigtimedwait, not in a futex wait a handler would interrupt. (Its
        // /proc SigBlk does not show the block meanwhile: the kernel unblocks the waited
        // signals for the duration of the wait.)
        for n in 0..3 {
            wait_until("the signal thread asleep in rt_sigtimedwait", || {
                wchan(tid).contains("sigtimedwait")
            });
            raise_process(SIGUSR1);
            assert_eq!(expect_signal(&rx, &format!("USR1 #{n}")), SIGUSR1);
        }
        // Stopped: nothing left to take, so back to the futex (the subscribed-to-nobody TERM
        // and the rest keep their handlerless defaults).
        sigchan::stop(&tx);
        wait_until("the signal thread asleep on its futex", || {
            wchan(tid).contains("futex")
        });
        let blocked = proc_status_mask("SigBlk", Some(tid));
        assert_eq!(
            blocked & bit(SIGUSR1),
            0,
            "USR1 unblocked again: {blocked:x}"
        );
    });
}

#[test]
fn in_default_mode_the_signal_thread_leaves_signals_to_the_handler() {
    isolated(|| {
        let (tx, rx) = bounded::<Signal>(4);
        sigchan::notify(&tx, &[SIGUSR1]).unwrap();
        // Other threads take USR1 too: the signal thread keeps it unblocked and the handler
        // runs wherever the kernel delivers it.
        assert_eq!(
            proc_status_mask("SigBlk", Some(signal_thread_tid())) & bit(SIGUSR1),
            0
        );
        raise_process(SIGUSR1);
        assert_eq!(expect_signal(&rx, "USR1"), SIGUSR1);
    });
}

/// Arrivals counted by `counting`, the handler another library installs over sigchan's.
static COUNTED: AtomicUsize = AtomicUsize::new(0);
/// The handler `counting` found installed before it (sigchan's), when it chains; else 0.
static CHAIN_TO: AtomicUsize = AtomicUsize::new(0);

extern "C" fn counting(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    COUNTED.fetch_add(1, SeqCst);
    let previous = CHAIN_TO.load(SeqCst);
    if previous != 0 {
        // SAFETY: the SA_SIGINFO handler that was installed before this one (sigchan's),
        // called with the kernel's own arguments, as a chaining library does.
        let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
            unsafe { std::mem::transmute(previous) };
        f(sig, info, ctx);
    }
}

/// Installs `counting` for `sig` over whatever is there; with `chain`, it calls that.
fn install_counting(sig: Signal, chain: bool) {
    // SAFETY: a valid SA_SIGINFO handler; the old action is read into a zeroed struct.
    unsafe {
        let mut new: libc::sigaction = std::mem::zeroed();
        new.sa_sigaction = counting as *const () as usize;
        new.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
        libc::sigemptyset(&mut new.sa_mask);
        let mut old: libc::sigaction = std::mem::zeroed();
        assert_eq!(libc::sigaction(sig.as_raw(), &new, &mut old), 0);
        if chain {
            CHAIN_TO.store(old.sa_sigaction, SeqCst);
        }
    }
}

/// In init mode, a channel of USR1, then `counting` installed over sigchan's handler
/// (chaining to it or not), as a library started after sigchan would.
fn usr1_then_counting_over_it(chain: bool) -> (Sender<Signal>, Receiver<Signal>) {
    sigchan::init().unwrap();
    let (tx, rx) = bounded::<Signal>(4);
    sigchan::notify(&tx, &[SIGUSR1]).unwrap();
    install_counting(SIGUSR1, chain);
    (tx, rx)
}

/// Another library's handler installed over sigchan's after `init` (tokio, signal-hook):
/// the signal thread must not take its signal from it. One that chains back reaches
/// sigchan's subscribers as before.
#[test]
fn in_init_mode_a_chaining_handler_installed_over_sigchans_runs_and_chains() {
    isolated(|| {
        let (_tx, rx) = usr1_then_counting_over_it(true);
        for n in 1..=3 {
            raise_process(SIGUSR1);
            assert_eq!(
                expect_signal(&rx, &format!("USR1 #{n} through the chain")),
                SIGUSR1
            );
            assert_eq!(COUNTED.load(SeqCst), n);
        }
    });
}

#[test]
fn in_init_mode_a_handler_installed_over_sigchans_that_does_not_chain_gets_every_arrival() {
    isolated(|| {
        let (_tx, rx) = usr1_then_counting_over_it(false);
        for n in 1..=3 {
            raise_process(SIGUSR1);
            wait_until(&format!("USR1 #{n} in the newer handler"), || {
                COUNTED.load(SeqCst) == n
            });
        }
        // It replaced sigchan's without chaining: sigchan saw none of them (the limitation
        // the crate docs state for any mode).
        assert_eq!(sigchan::stats(SIGUSR1).arrivals, 0);
        assert!(rx.try_recv().is_err());
    });
}

/// A taken signal given back to the kernel (a handler is installed over sigchan's) while a
/// sigchan call kicks the signal thread with that same signal: the copy queued back must not
/// merge into a pending kick (a standard signal is pending once per thread), and no kick may
/// reach the newer handler. Every arrival reaches that handler once and sigchan's channel
/// through its chain.
#[test]
fn in_init_mode_a_signal_given_back_while_a_call_kicks_reaches_both_handlers_once() {
    isolated(|| {
        let (_tx, rx) = usr1_then_counting_over_it(true);
        let (other, _other_rx) = bounded::<Signal>(1);
        let rounds = 300;
        for round in 1..=rounds {
            raise_process(SIGUSR1);
            // Each call is a new request (USR1 is taken again) and kicks with USR1, the
            // lowest signal taken.
            sigchan::notify(&other, &[sigchan::SIGUSR2]).unwrap();
            sigchan::stop(&other);
            assert_eq!(expect_signal(&rx, &format!("USR1 #{round}")), SIGUSR1);
            assert_eq!(COUNTED.load(SeqCst), round, "the newer handler's count");
        }
        assert_eq!(sigchan::stats(SIGUSR1).arrivals, rounds as u64);
    });
}

/// Go's TestAtomicStop in init mode: a taken SIGINT whose channel `stop` removed is given
/// back to the kernel and kills (its default action), or is in the stopping channel.
#[test]
fn in_init_mode_stop_racing_kill_delivers_or_takes_the_default_action() {
    let (done, defaults) = stop_racing_kill_in_init_mode(200);
    assert_eq!(done, 200);
    eprintln!("200 rounds, {defaults} took the default action");
}

/// A poke in flight when the signal it kicks with is unblocked again would meet that
/// signal's default action: the signal thread waits pokes out first.
#[test]
fn in_init_mode_the_kick_signal_leaving_under_pokes_never_kills() {
    let pokes = taken::kick_signal_leaving_under_pokes(300);
    assert!(pokes > 0);
}

/// A sigchan call returns after a full cycle of the signal thread (its handshake): a signal
/// sent before the call has been taken and delivered by then, as when a handler took it.
/// (The call's kick is queued to the thread itself, so the kernel hands it out before the
/// process-wide signal; the thread takes what else is pending before it answers.)
#[test]
fn in_init_mode_a_signal_sent_before_a_call_is_delivered_when_it_returns() {
    isolated(|| {
        sigchan::init().unwrap();
        let (tx, rx) = bounded::<Signal>(1);
        sigchan::notify(&tx, &[SIGUSR1]).unwrap();
        let (other, _other_rx) = bounded::<Signal>(1);
        for round in 0..200 {
            raise_process(SIGUSR1);
            sigchan::notify(&other, &[sigchan::SIGUSR2]).unwrap();
            assert_eq!(rx.try_recv(), Ok(SIGUSR1), "round {round}");
            sigchan::stop(&other);
        }
    });
}

/// After `promise_no_other_handlers` the signal thread no longer asks whose handler is
/// installed: a handler installed over sigchan's anyway (breaking the promise) does not get
/// the signals sigchan takes, and sigchan's subscribers do (the documented consequence; with
/// the query, `counting` would get every one, as in the test above).
#[test]
fn after_the_promise_the_signal_thread_takes_without_asking_whose_handler_is_installed() {
    isolated(|| {
        sigchan::promise_no_other_handlers();
        let (_tx, rx) = usr1_then_counting_over_it(false);
        for n in 1..=3 {
            raise_process(SIGUSR1);
            assert_eq!(expect_signal(&rx, &format!("USR1 #{n}")), SIGUSR1);
        }
        assert_eq!(COUNTED.load(SeqCst), 0);
        assert_eq!(sigchan::stats(SIGUSR1).arrivals, 3);
    });
}

/// The promise only drops the query: sigchan's own changes still take effect at once on
/// the signals its thread takes. Ignored, USR1 is dropped; reset, it kills.
#[test]
fn after_the_promise_ignore_and_reset_still_take_effect_on_taken_signals() {
    let out = run_in_child(|| {
        sigchan::promise_no_other_handlers();
        sigchan::init().unwrap();
        let (tx, rx) = bounded::<Signal>(4);
        sigchan::notify(&tx, &[SIGUSR1]).unwrap();
        raise_process(SIGUSR1);
        assert_eq!(expect_signal(&rx, "USR1"), SIGUSR1);
        sigchan::ignore(&[SIGUSR1]).unwrap();
        raise_process(SIGUSR1);
        // A sigchan call waits for a full cycle of the signal thread, which takes what is
        // pending first: the ignored USR1 is gone by then.
        sigchan::notify(&tx, &[sigchan::SIGUSR2]).unwrap();
        assert!(rx.try_recv().is_err(), "an ignored USR1 was delivered");
        sigchan::reset(&[SIGUSR1]).unwrap();
        raise_process(SIGUSR1);
        // Its default action ends the process; reaching the end is a failure.
        std::thread::sleep(RECV);
        write_stderr("USR1 did not kill after reset\n");
    });
    out.assert_killed_by(libc::SIGUSR1);
}

/// Go's TestAtomicStop in init mode after the promise: without the query, sigchan's own
/// bookkeeping gives a SIGINT whose channel `stop` removed to its default action.
#[test]
fn after_the_promise_stop_racing_kill_delivers_or_takes_the_default_action() {
    let (done, defaults) = stop_racing_kill_in_init_mode_promised(200);
    assert_eq!(done, 200);
    eprintln!("200 rounds, {defaults} took the default action");
}
