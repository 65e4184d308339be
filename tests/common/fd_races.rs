//! Race tests of `sigchan::fd` shared by `tests/fd.rs` and the stress runs.

use super::*;
use crossbeam_channel::bounded;
use sigchan::fd::SignalFd;
use sigchan::{Signal, SIGINT};
use std::os::fd::AsRawFd;

/// Go's TestAtomicStop for fd receivers: the receiver's `stop` in one thread while SIGINT is
/// sent from another, `rounds` times across as many forked children as it takes. Each round
/// the signal is in the receiver after `stop` (and its descriptor readable until it is read)
/// or takes its default action (death by SIGINT ends that child and counts as the round);
/// a process alive with nothing received lost it. Returns (rounds, default actions).
pub fn fd_stop_racing_kill(rounds: usize) -> (usize, usize) {
    race_rounds(rounds, |left| {
        for _ in 0..left {
            let mut rx = SignalFd::new(&[SIGINT]).unwrap();
            let stopper = std::thread::spawn(move || {
                rx.stop();
                rx
            });
            raise_process(SIGINT);
            let mut rx = stopper.join().unwrap();
            let fd = rx.as_raw_fd();
            let was_readable = readable(fd, 0);
            if rx.try_recv() != Some(SIGINT) {
                lost("SIGINT neither received nor acted on");
            }
            assert!(
                was_readable,
                "received, but the descriptor was not readable"
            );
            assert!(!readable(fd, 0), "drained, but still readable");
            write_stderr(".");
        }
    })
}

/// SIGINT handed from a channel to an fd receiver and back `rounds` times while another
/// thread sends it without pause: at every moment one of them holds it, so the process must
/// never die of it (sigqueue invariant 7 for poll masks). Returns how many the fd receivers
/// took.
pub fn fd_hand_overs_under_a_storm(rounds: usize) -> u64 {
    let out = run_in_child(move || {
        let (tx, rx) = bounded::<Signal>(1);
        sigchan::notify(&tx, &[SIGINT]).unwrap();
        let storm = Storm::start(SIGINT);
        let mut taken = 0u64;
        for _ in 0..rounds {
            let mut fd = SignalFd::new(&[SIGINT]).unwrap();
            sigchan::stop(&tx);
            sigchan::notify(&tx, &[SIGINT]).unwrap();
            fd.stop();
            taken += fd.try_iter().count() as u64;
            drop(fd);
            while rx.try_recv().is_ok() {}
        }
        storm.stop();
        assert!(taken > 0, "no fd receiver took one");
        write_stderr(&format!("{taken}\n"));
    });
    out.assert_success();
    out.stderr
        .trim()
        .parse()
        .expect("the child reports its count")
}
