//! Race tests of `sigchan::forward` shared by `tests/forward.rs` and the stress runs.

use super::catcher::Catcher;
use super::*;
use crossbeam_channel::bounded;
use sigchan::forward::{Forward, Target};
use sigchan::{Signal, SIGINT};

/// Go's TestAtomicStop for forwards: a forward's `stop` in one thread while SIGINT is sent
/// from another, `rounds` times across as many forked children as it takes. Each round the
/// signal is forwarded (before `stop` returns) or takes its default action (death by SIGINT
/// ends that child and counts as the round); a process alive with nothing forwarded lost
/// it. Returns (rounds, rounds that took the default action).
pub fn forward_stop_racing_kill(rounds: usize) -> (usize, usize) {
    race_rounds(rounds, |left| {
        let c = Catcher::start(false);
        for _ in 0..left {
            let before = sigchan::stats(SIGINT).forwarded;
            let fwd = Forward::to(Target::Process(c.pid as u32))
                .start(&[SIGINT])
                .unwrap();
            let stopper = std::thread::spawn(move || fwd.stop());
            raise_process(SIGINT);
            stopper.join().unwrap();
            if sigchan::stats(SIGINT).forwarded == before {
                lost("SIGINT neither forwarded nor acted on");
            }
            let caught = c.next(RECV).expect("the forwarded INT reaches the target");
            assert_eq!(caught.signo, libc::SIGINT);
            write_stderr(".");
        }
    })
}

/// SIGINT handed from a channel to a forward and back `rounds` times while another thread
/// sends it without pause: at every moment one of them holds it, so the process must never
/// die of it (sigqueue invariant 7). Returns how many were forwarded.
pub fn hand_overs_under_a_storm(rounds: usize) -> u64 {
    let out = run_in_child(move || {
        let c = Catcher::start(false);
        let (tx, rx) = bounded::<Signal>(1);
        sigchan::notify(&tx, &[SIGINT]).unwrap();
        let storm = Storm::start(SIGINT);
        for _ in 0..rounds {
            let fwd = Forward::to(Target::Process(c.pid as u32))
                .start(&[SIGINT])
                .unwrap();
            sigchan::stop(&tx);
            sigchan::notify(&tx, &[SIGINT]).unwrap();
            drop(fwd);
            while rx.try_recv().is_ok() {}
        }
        storm.stop();
        let forwarded = sigchan::stats(SIGINT).forwarded;
        assert!(forwarded > 0, "none forwarded");
        write_stderr(&format!("{forwarded}\n"));
    });
    out.assert_success();
    out.stderr
        .trim()
        .parse()
        .expect("the child reports its count")
}
