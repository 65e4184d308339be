//! Stress, in release builds and their own CI step:
//! `cargo test --release --test stress -- --ignored --test-threads=1`.
//! `SIGCHAN_STRESS_SECS` sets the storm length (default 30), `SIGCHAN_STRESS_ROUNDS` the
//! stop-vs-kill rounds (default 1000). Each scenario runs in a forked child; durations are
//! timed by spinning on `Instant` (sleeps stretch without bound under a storm).

mod common;
use common::*;
use crossbeam_channel::{bounded, unbounded};
use sigchan::{Signal, SIGUSR1, SIGUSR2, SIGWINCH};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn spin_until(deadline: Instant) {
    while Instant::now() < deadline {
        std::hint::spin_loop();
    }
}

/// Go's TestAtomicStop, many times in release: never a lost signal.
#[test]
#[ignore = "stress: run with --ignored in release"]
fn stop_racing_kill_thousands_of_times() {
    let (done, defaults) = stop_racing_kill(env_or("SIGCHAN_STRESS_ROUNDS", 1000) as usize);
    eprintln!("stress: {done} stop/kill rounds, 0 lost, {defaults} took the default action");
}

/// The same on info channels (`notify_info`), whose stopping channel receives origin records
/// only: a handler racing `stop` must record the origin of what it queues.
#[test]
#[ignore = "stress: run with --ignored in release"]
fn stop_racing_kill_on_info_channels_thousands_of_times() {
    let (done, defaults) = stop_racing_kill_with::<sigchan::SigInfo>(
        env_or("SIGCHAN_STRESS_ROUNDS", 1000) as usize,
        |tx| sigchan::notify_info(tx, &[sigchan::SIGINT]).unwrap(),
    );
    eprintln!("stress: {done} stop/kill rounds on info channels, 0 lost, {defaults} took the default action");
}

/// The same for forwards (`sigchan::forward`): each round SIGINT is forwarded before the
/// forward's `stop` returns, or takes its default action.
#[test]
#[ignore = "stress: run with --ignored in release"]
fn forward_stop_racing_kill_thousands_of_times() {
    let rounds = env_or("SIGCHAN_STRESS_ROUNDS", 1000) as usize;
    let (done, defaults) = common::forwarding::forward_stop_racing_kill(rounds);
    eprintln!(
        "stress: {done} forward stop/kill rounds, 0 lost, {defaults} took the default action"
    );
}

/// Go's TestAtomicStop in init mode, where the signal thread takes SIGINT without a handler
/// frame and gives it back to the kernel when the stop won.
#[test]
#[ignore = "stress: run with --ignored in release"]
fn stop_racing_kill_in_init_mode_thousands_of_times() {
    let (done, defaults) =
        stop_racing_kill_in_init_mode(env_or("SIGCHAN_STRESS_ROUNDS", 1000) as usize);
    eprintln!(
        "stress: {done} init-mode stop/kill rounds, 0 lost, {defaults} took the default action"
    );
}

/// The same after `promise_no_other_handlers`: no disposition query before a take, so the
/// registry's own bookkeeping is all that gives a stopped SIGINT to its default action.
#[test]
#[ignore = "stress: run with --ignored in release"]
fn stop_racing_kill_in_init_mode_after_the_promise_thousands_of_times() {
    let (done, defaults) =
        stop_racing_kill_in_init_mode_promised(env_or("SIGCHAN_STRESS_ROUNDS", 1000) as usize);
    eprintln!(
        "stress: {done} promised init-mode stop/kill rounds, 0 lost, {defaults} took the default action"
    );
}

/// `init()` just after the program's last other thread was joined, in a new process each
/// round: that thread takes no signal any more, though `/proc/self/task` still lists it for a
/// moment (exiting, then with its signal state detached: an empty `SigBlk`), so it must not
/// make `init()` refuse with `TooLate`.
#[test]
#[ignore = "stress: run with --ignored in release"]
fn init_right_after_a_thread_was_joined_thousands_of_times() {
    let rounds = env_or("SIGCHAN_STRESS_ROUNDS", 1000) as usize;
    for round in 0..rounds {
        let out = run_in_child(|| {
            std::thread::spawn(|| {}).join().unwrap();
            // One that blocked everything too (a careful library's helper, or the test
            // harness's own probe): it only ever counts in the detached moment.
            spawn_with_every_signal_blocked(|| {})
                .unwrap()
                .join()
                .unwrap();
            if let Err(e) = sigchan::init() {
                write_stderr(&format!("{e}\n"));
                std::process::exit(1);
            }
        });
        assert!(
            out.exit_code() == Some(0),
            "round {round}: {}",
            out.stderr.trim()
        );
    }
    eprintln!("stress: {rounds} init() calls right after a join, none refused");
}

/// The kick's signal unblocked again while pokes fly, many times: never fatal.
#[test]
#[ignore = "stress: run with --ignored in release"]
fn kick_signal_leaving_under_pokes_thousands_of_times() {
    let rounds = 10 * env_or("SIGCHAN_STRESS_ROUNDS", 1000) as usize;
    let pokes = common::taken::kick_signal_leaving_under_pokes(rounds);
    eprintln!(
        "stress: {rounds} rounds of the kick's signal unblocked under {pokes} pokes, none fatal"
    );
}

/// SIGINT handed between a channel and a forward under a storm of it: never fatal.
#[test]
#[ignore = "stress: run with --ignored in release"]
fn forward_hand_overs_under_a_storm_never_take_the_default_action() {
    let rounds = env_or("SIGCHAN_STRESS_ROUNDS", 1000) as usize;
    let forwarded = common::forwarding::hand_overs_under_a_storm(rounds);
    eprintln!("stress: {rounds} channel/forward hand-overs under a SIGINT storm, {forwarded} forwarded, none fatal");
}

/// The same for fd receivers (`sigchan::fd`): each round SIGINT is in the receiver after its
/// `stop` returns, or takes its default action.
#[test]
#[ignore = "stress: run with --ignored in release"]
fn fd_stop_racing_kill_thousands_of_times() {
    let rounds = env_or("SIGCHAN_STRESS_ROUNDS", 1000) as usize;
    let (done, defaults) = common::fd_races::fd_stop_racing_kill(rounds);
    eprintln!(
        "stress: {done} fd receiver stop/kill rounds, 0 lost, {defaults} took the default action"
    );
}

/// SIGINT handed between a channel and an fd receiver under a storm of it: never fatal.
#[test]
#[ignore = "stress: run with --ignored in release"]
fn fd_hand_overs_under_a_storm_never_take_the_default_action() {
    let rounds = env_or("SIGCHAN_STRESS_ROUNDS", 1000) as usize;
    let taken = common::fd_races::fd_hand_overs_under_a_storm(rounds);
    eprintln!("stress: {rounds} channel/fd receiver hand-overs under a SIGINT storm, {taken} taken by fd receivers, none fatal");
}

/// `ignore` and `notify` of SIGINT in turn on one thread while another sends SIGINT without
/// pause: at every moment the signal is either subscribed or ignored, so the process must
/// never take its default action (die). A handler that read `wanted` during the ignore and
/// the ignore's end after the `notify` (queue invariant 6) would have killed it.
#[test]
#[ignore = "stress: run with --ignored in release"]
fn notify_racing_ignore_never_takes_the_default_action() {
    let rounds = env_or("SIGCHAN_STRESS_ROUNDS", 1000);
    let out = run_in_child(move || {
        let (tx, rx) = unbounded::<Signal>();
        sigchan::notify(&tx, &[sigchan::SIGINT]).unwrap();
        let done = Arc::new(AtomicBool::new(false));
        let sender = {
            let done = done.clone();
            std::thread::spawn(move || {
                let mut sent = 0u64;
                while !done.load(Relaxed) {
                    raise_process(sigchan::SIGINT);
                    sent += 1;
                }
                sent
            })
        };
        for _ in 0..rounds {
            sigchan::ignore(&[sigchan::SIGINT]).unwrap();
            sigchan::notify(&tx, &[sigchan::SIGINT]).unwrap();
        }
        done.store(true, Relaxed);
        let sent = sender.join().unwrap();
        write_stderr(&format!(
            "stress: {rounds} ignore/notify rounds, {sent} SIGINTs sent, {} delivered, none fatal\n",
            rx.try_iter().count()
        ));
    });
    out.assert_success();
    eprint!("{}", out.stderr);
}

/// Storms from threads and another process while other threads churn notify/stop on fresh
/// channels: no deadlock (the child's deadline), no panic, no delivery after stop returns,
/// and the signal sent after the storm still arrives.
#[test]
#[ignore = "stress: run with --ignored in release"]
fn storm_with_notify_stop_churn() {
    let secs = env_or("SIGCHAN_STRESS_SECS", 30);
    let out = run_in_child(move || {
        let me = std::process::id() as i32;
        let mut go = [0; 2];
        // SAFETY: a pipe that tells the external sender when USR1 is subscribed.
        assert_eq!(unsafe { libc::pipe(go.as_mut_ptr()) }, 0);
        // The external sender is forked first, while this process has one thread.
        let external = spawn_forked(move || {
            let mut b = 0u8;
            // SAFETY: waits for the parent's go-ahead byte.
            unsafe { libc::read(go[0], &mut b as *mut u8 as *mut libc::c_void, 1) };
            // SAFETY: signals to the parent; stop when it is gone.
            while unsafe { libc::kill(me, libc::SIGUSR1) } == 0 && unsafe { libc::getppid() } == me
            {
            }
        });
        let (tx, rx) = bounded::<Signal>(1024);
        sigchan::notify(&tx, &[SIGUSR1, SIGUSR2]).unwrap();
        // SAFETY: one byte to the external sender.
        unsafe { libc::write(go[1], b"g".as_ptr().cast(), 1) };
        let running = Arc::new(AtomicBool::new(true));
        let churned = Arc::new(AtomicU64::new(0));
        let senders: Vec<_> = [SIGUSR1, SIGUSR2, SIGWINCH]
            .into_iter()
            .map(|sig| {
                let running = running.clone();
                std::thread::spawn(move || {
                    while running.load(Relaxed) {
                        raise_process(sig);
                    }
                })
            })
            .collect();
        let churners: Vec<_> = (0..2)
            .map(|_| {
                let (running, churned) = (running.clone(), churned.clone());
                std::thread::spawn(move || {
                    while running.load(Relaxed) {
                        let (t, r) = unbounded::<Signal>();
                        sigchan::notify(&t, &[SIGWINCH, SIGUSR2]).unwrap();
                        sigchan::stop(&t);
                        let after = r.len();
                        spin_until(Instant::now() + Duration::from_micros(200));
                        assert_eq!(r.len(), after, "delivery after stop returned");
                        churned.fetch_add(1, Relaxed);
                    }
                })
            })
            .collect();
        let drain = std::thread::spawn(move || {
            let mut n = 0u64;
            while let Ok(sig) = rx.recv_timeout(Duration::from_secs(10)) {
                n += 1;
                if sig == SIGUSR2 && n == u64::MAX {
                    break;
                }
            }
            n
        });
        spin_until(Instant::now() + Duration::from_secs(secs));
        running.store(false, Relaxed);
        for t in senders.into_iter().chain(churners) {
            t.join().unwrap();
        }
        // SAFETY: ending our own grandchild.
        unsafe { libc::kill(external, libc::SIGKILL) };
        wait_pid(external, false);
        // The last signal after the storm must arrive.
        let (last_tx, last_rx) = bounded::<Signal>(1);
        sigchan::notify(&last_tx, &[SIGUSR2]).unwrap();
        raise_process(SIGUSR2);
        assert_eq!(
            expect_signal(&last_rx, "the signal after the storm"),
            SIGUSR2
        );
        let s1 = sigchan::stats(SIGUSR1);
        write_stderr(&format!(
            "storm: {secs} s, {} churn rounds, USR1 arrivals {} coalesced {} delivered {} dropped {}\n",
            churned.load(Relaxed),
            s1.arrivals,
            s1.coalesced,
            s1.delivered,
            s1.dropped_full
        ));
        drop(drain);
    });
    eprint!("{}", out.stderr);
    out.assert_success();
}

/// Handlers interrupting threads that are inside malloc and holding locks: a handler that
/// allocated or locked would deadlock here (the child's deadline catches it).
#[test]
#[ignore = "stress: run with --ignored in release"]
fn storm_while_threads_malloc_and_lock() {
    let secs = env_or("SIGCHAN_STRESS_SECS", 30).min(10);
    let out = run_in_child(move || {
        let (tx, rx) = bounded::<Signal>(64);
        sigchan::notify(&tx, &[SIGUSR1]).unwrap();
        let running = Arc::new(AtomicBool::new(true));
        let lock = Arc::new(std::sync::Mutex::new(Vec::<u64>::new()));
        let tids = Arc::new(std::sync::Mutex::new(Vec::new()));
        let workers: Vec<_> = (0..3)
            .map(|_| {
                let (running, lock, tids) = (running.clone(), lock.clone(), tids.clone());
                std::thread::spawn(move || {
                    tids.lock().unwrap().push(gettid());
                    let mut n = 0u64;
                    while running.load(Relaxed) {
                        let v: Vec<u64> = (0..64).collect();
                        let mut g = lock.lock().unwrap();
                        g.extend_from_slice(&v);
                        if g.len() > 4096 {
                            g.clear();
                        }
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        while tids.lock().unwrap().len() < 3 {
            std::hint::spin_loop();
        }
        let targets = tids.lock().unwrap().clone();
        let deadline = Instant::now() + Duration::from_secs(secs);
        let mut sent = 0u64;
        while Instant::now() < deadline {
            for &t in &targets {
                raise_thread(t, SIGUSR1);
                sent += 1;
            }
        }
        running.store(false, Relaxed);
        let loops: u64 = workers.into_iter().map(|w| w.join().unwrap()).sum();
        while rx.try_recv().is_ok() {}
        raise_process(SIGUSR1);
        assert_eq!(expect_signal(&rx, "USR1 after the malloc storm"), SIGUSR1);
        write_stderr(&format!(
            "malloc storm: {secs} s, {sent} thread-directed signals, {loops} malloc+lock loops, {} handler runs\n",
            sigchan::stats(SIGUSR1).arrivals
        ));
    });
    eprint!("{}", out.stderr);
    out.assert_success();
}
