//! Races of the signal thread's frameless path (init mode: it takes what every other thread
//! blocks with `rt_sigtimedwait`), shared by `tests/taken.rs` and the stress tests.

use super::*;
use crossbeam_channel::bounded;
use sigchan::{Signal, SIGUSR1, SIGUSR2};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;

/// In init mode, USR1's last subscriber leaves `rounds` times while another thread keeps
/// poking the signal thread (each `notify` and `stop` of USR2 waits for one of its cycles).
/// USR1 has the lower number, so while both are taken it is the signal a poke kicks the
/// sleeping thread with: a kick that reached the thread after it unblocked USR1 again would
/// meet USR1's default action and kill the process. Returns how many pokes the other thread
/// made.
pub fn kick_signal_leaving_under_pokes(rounds: usize) -> u64 {
    let out = run_in_child(move || {
        sigchan::init().unwrap();
        let done = Arc::new(AtomicBool::new(false));
        let poker = {
            let done = done.clone();
            std::thread::spawn(move || {
                let (tx, _rx) = bounded::<Signal>(1);
                let mut pokes = 0u64;
                while !done.load(Relaxed) {
                    sigchan::notify(&tx, &[SIGUSR2]).unwrap();
                    sigchan::stop(&tx);
                    pokes += 2;
                }
                pokes
            })
        };
        let (tx, _rx) = bounded::<Signal>(1);
        for _ in 0..rounds {
            sigchan::notify(&tx, &[SIGUSR1]).unwrap();
            sigchan::stop(&tx);
        }
        done.store(true, Relaxed);
        let pokes = poker.join().unwrap();
        write_stderr(&format!("{pokes}\n"));
    });
    out.assert_success();
    out.stderr
        .trim()
        .parse()
        .expect("the child reports its count")
}
