//! `sigchan::reap`: SIGCHLD as one event per ended child. Both modes, orphans of a
//! subreaper, a storm of short children (no exit lost, no zombie left), and a std `Child`
//! that waits for itself beside a watching reaper. Each test runs in a forked child.

mod common;
use common::*;
use sigchan::reap::{Ended, Reaper};
use sigchan::{SIGKILL, SIGTERM};
use std::collections::BTreeMap;
use std::time::Duration;

/// A child of this process (raw fork) that exits with `code` after `delay`.
fn child_exiting(code: i32, delay: Duration) -> u32 {
    spawn_forked(move || {
        std::thread::sleep(delay);
        // SAFETY: ends the forked child at once.
        unsafe { libc::_exit(code) };
    }) as u32
}

/// Children of this process that are zombies.
fn zombies() -> Vec<i32> {
    zombies_of(std::process::id() as i32)
}

#[test]
fn every_child_is_reaped_with_how_it_ended() {
    isolated(|| {
        let reaper = Reaper::all().unwrap();
        let exited = child_exiting(7, Duration::ZERO);
        let killed = child_exiting(0, Duration::from_secs(600));
        // SAFETY: our own child.
        unsafe { libc::kill(killed as i32, libc::SIGKILL) };
        // Reaped by the reaper of every child, so never waited on through std's handle.
        #[allow(clippy::zombie_processes)]
        let std_child = std::process::Command::new("sh")
            .args(["-c", "kill -TERM $$"])
            .spawn()
            .unwrap();
        let mut got = BTreeMap::new();
        for _ in 0..3 {
            let e = reaper.recv_timeout(RECV).expect("an exit within RECV");
            got.insert(e.pid(), e);
        }
        assert_eq!(got[&exited].ended(), Ended::Exited(7));
        assert_eq!(got[&exited].shell_status(), 7);
        assert_eq!(
            got[&killed].ended(),
            Ended::Killed {
                signal: SIGKILL,
                core_dumped: false
            }
        );
        assert_eq!(got[&killed].shell_status(), 128 + 9);
        assert!(
            matches!(got[&std_child.id()].ended(), Ended::Killed { signal, .. } if signal == SIGTERM)
        );
        assert!(reaper.try_recv().is_err(), "one event per child");
        assert!(zombies().is_empty());
    });
}

/// An init or subreaper gets the orphans: a child that double-forks and exits leaves a
/// grandchild, which the kernel re-parents to us; its exit is reaped as well.
#[test]
#[cfg_attr(
    sigchan_qemu,
    ignore = "qemu-user does not implement prctl(PR_SET_CHILD_SUBREAPER)"
)]
fn orphans_of_a_subreaper_are_reaped() {
    isolated(|| {
        // SAFETY: prctl with integer arguments.
        assert_eq!(
            unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) },
            0
        );
        let reaper = Reaper::all().unwrap();
        // The middle child tells the test which pid the orphan has, through a file here.
        let scratch = ScratchDir::new("sigchan-orphan");
        let orphan_dir = scratch.path().to_owned();
        let writer_dir = orphan_dir.clone();
        let middle = spawn_forked(move || {
            let orphan_dir = writer_dir;
            let grandchild = spawn_forked(|| {
                std::thread::sleep(Duration::from_millis(200));
                // SAFETY: ends the grandchild.
                unsafe { libc::_exit(42) };
            });
            std::fs::write(
                orphan_dir.join(std::process::id().to_string()),
                grandchild.to_string(),
            )
            .unwrap();
            // SAFETY: ends the middle child, orphaning the grandchild.
            unsafe { libc::_exit(0) };
        }) as u32;
        let first = reaper.recv_timeout(RECV).unwrap();
        assert_eq!((first.pid(), first.ended()), (middle, Ended::Exited(0)));
        let orphan: u32 = std::fs::read_to_string(orphan_dir.join(middle.to_string()))
            .unwrap()
            .parse()
            .unwrap();
        let second = reaper.recv_timeout(RECV).unwrap();
        assert_eq!((second.pid(), second.ended()), (orphan, Ended::Exited(42)));
        assert!(zombies().is_empty());
    });
}

/// 1,000 short children, many ending while others are being reaped and their SIGCHLDs
/// coalescing: exactly one event per child, none lost, none twice, no zombie left.
#[test]
fn a_storm_of_short_children_loses_no_exit_and_leaves_no_zombie() {
    isolated(|| {
        let reaper = Reaper::all().unwrap();
        let mut expected = BTreeMap::new();
        for i in 0..1000 {
            let code = i % 200;
            expected.insert(child_exiting(code, Duration::ZERO), code);
        }
        let mut got = BTreeMap::new();
        while got.len() < expected.len() {
            let e = reaper.recv_timeout(RECV).expect("every exit arrives");
            assert!(
                got.insert(e.pid(), e.ended()).is_none(),
                "pid {} twice",
                e.pid()
            );
        }
        for (pid, code) in &expected {
            assert_eq!(got[pid], Ended::Exited(*code), "pid {pid}");
        }
        assert!(reaper.try_recv().is_err());
        assert!(zombies().is_empty(), "zombies left: {:?}", zombies());
    });
}

/// `all_reporting`: 200 other children end around the main one; every one is reaped (no
/// zombie), only the main child's exit is an event, and the others are counted.
#[test]
fn a_reporting_reaper_reaps_everyone_and_reports_only_its_pids() {
    isolated(|| {
        let main = child_exiting(9, Duration::from_millis(200));
        let reaper = Reaper::all_reporting(&[main]).unwrap();
        for i in 0..200 {
            child_exiting(i % 7, Duration::ZERO);
        }
        let e = reaper.recv_timeout(RECV).expect("the main child's exit");
        assert_eq!((e.pid(), e.ended()), (main, Ended::Exited(9)));
        wait_until("all 200 others reaped", || reaper.unreported() == 200);
        assert!(reaper.try_recv().is_err(), "no event for the others");
        assert!(zombies().is_empty(), "zombies left: {:?}", zombies());
    });
}

/// The bug the watching mode exists for: `waitpid(-1)` steals the child `std::process::Child`
/// owns, and `Child::wait` fails with ECHILD. Watching reaps only its own pid.
#[test]
fn a_watching_reaper_never_steals_a_std_child() {
    isolated(|| {
        let reaper = Reaper::watching().unwrap();
        let mut std_child = std::process::Command::new("sh")
            .args(["-c", "exit 5"])
            .spawn()
            .unwrap();
        let watched = child_exiting(9, Duration::from_millis(50));
        reaper.watch(watched).unwrap();
        let e = reaper.recv_timeout(RECV).unwrap();
        assert_eq!((e.pid(), e.ended()), (watched, Ended::Exited(9)));
        // The std child ended too (its SIGCHLD reached the reaper), and is still its own.
        let status = std_child.wait().expect("Child::wait must not see ECHILD");
        assert_eq!(status.code(), Some(5));
        assert!(
            reaper.try_recv().is_err(),
            "the std child is not the reaper's"
        );
    });
}

/// A child that ended before it was watched (its SIGCHLD found nothing to reap) is reaped
/// when it is watched; a pid that is not our child is refused.
#[test]
fn watching_after_the_exit_still_reaps_and_strangers_are_refused() {
    isolated(|| {
        let reaper = Reaper::watching().unwrap();
        let early = child_exiting(1, Duration::ZERO);
        wait_until("the child is a zombie", || {
            zombies().contains(&(early as i32))
        });
        reaper.watch(early).unwrap();
        let e = reaper.recv_timeout(RECV).unwrap();
        assert_eq!((e.pid(), e.ended()), (early, Ended::Exited(1)));
        let err = reaper.watch(1).unwrap_err();
        assert!(
            matches!(err, sigchan::Error::Os(ref io) if io.raw_os_error() == Some(libc::ECHILD)),
            "{err:?}"
        );
        assert!(reaper.watch(0).is_err());
    });
}

/// Dropping the reaper gives SIGCHLD its disposition back.
#[test]
fn dropping_the_reaper_restores_sigchld() {
    isolated(|| {
        let reaper = Reaper::all().unwrap();
        assert_ne!(kernel_action(libc::SIGCHLD).handler, libc::SIG_DFL);
        drop(reaper);
        assert_eq!(kernel_action(libc::SIGCHLD).handler, libc::SIG_DFL);
    });
}

/// `std::process::Command::spawn` reaps a child whose exec failed itself, and panics if a
/// reaper of every child got there first. Under a hold it cannot: 300 failed spawns (from
/// two threads, one through a `Holder`) while 300 other children end around them, and every
/// one of those is still reported.
#[test]
#[cfg_attr(
    sigchan_qemu,
    ignore = "qemu-user runs std's posix_spawn (CLONE_VFORK) as a fork and loses the exec error: spawn of a missing program succeeds there"
)]
fn failed_spawns_under_a_hold_race_nothing_and_lose_nothing() {
    isolated(|| {
        let reaper = Reaper::all().unwrap();
        let holder = reaper.holder();
        let other = std::thread::spawn(move || {
            for _ in 0..150 {
                let _hold = holder.hold();
                assert!(std::process::Command::new("/nonexistent").spawn().is_err());
            }
        });
        let mut expected = BTreeMap::new();
        for i in 0..150 {
            expected.insert(child_exiting(i % 100, Duration::ZERO), i % 100);
            let _hold = reaper.hold();
            assert!(std::process::Command::new("/nonexistent").spawn().is_err());
            expected.insert(child_exiting(i % 50, Duration::ZERO), i % 50);
        }
        other.join().unwrap();
        let mut got = BTreeMap::new();
        while got.len() < expected.len() {
            let e = reaper.recv_timeout(RECV).expect("every exit arrives");
            got.insert(e.pid(), e.ended());
        }
        for (pid, code) in &expected {
            assert_eq!(got[pid], Ended::Exited(*code));
        }
        assert!(
            reaper.try_recv().is_err(),
            "the failed spawns were std's, not events"
        );
        assert!(zombies().is_empty());
    });
}
