//! End to end: `examples/reload.rs` under logrotate's rename + SIGHUP (every line lands in
//! exactly one of the two files), a SIGHUP storm, and the "Signals in prod" fix (signals it
//! does not handle are ignored, not fatal).
//! Not under qemu-user (`sigchan_qemu`): the example binaries are built for the host there;
//! the arch-specific layers are covered by the rest of the suite.
#![cfg(not(sigchan_qemu))]

mod common;
use common::example::Running;
use common::process_status_mask;
use common::ScratchDir;
use std::path::Path;
use std::time::Duration;

/// Deadline for what must happen: only a hang reaches it.
const WAIT: Duration = Duration::from_secs(180);

/// A fresh directory for one test's log files, removed when the test ends.
fn scratch(test: &str) -> ScratchDir {
    ScratchDir::new(&format!("sigchan-{test}"))
}

/// The line numbers in `path`, in file order; panics on a malformed line.
fn numbers(path: &Path) -> Vec<u64> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| l.strip_prefix("line ").unwrap().parse().unwrap())
        .collect()
}

/// The count in the program's last line: "SIGTERM: wrote N lines, R reopens".
fn lines_written(last: &str) -> u64 {
    let n = last.split("wrote ").nth(1).unwrap();
    n.split_whitespace().next().unwrap().parse().unwrap()
}

fn start(log: &Path, extra: &[&str]) -> Running {
    let mut args = vec![log.to_str().unwrap()];
    args.extend_from_slice(extra);
    let mut p = Running::start("reload", &args);
    p.expect_line("logging to", WAIT);
    p
}

#[test]
fn logrotate_rename_then_sighup_loses_and_duplicates_no_line() {
    let scratch = scratch("rotate");
    let dir = scratch.path();
    let (log, rotated) = (dir.join("app.log"), dir.join("app.log.1"));
    let mut p = start(&log, &[]);
    std::thread::sleep(Duration::from_millis(150));
    std::fs::rename(&log, &rotated).unwrap();
    std::thread::sleep(Duration::from_millis(50)); // lines keep going to the renamed file
    p.signal(libc::SIGHUP);
    p.expect_line("reopened", WAIT);
    std::thread::sleep(Duration::from_millis(150));
    p.signal(libc::SIGTERM);
    let last = p.expect_line("wrote", WAIT);
    assert!(p.wait(WAIT).success());

    let (old, new) = (numbers(&rotated), numbers(&log));
    let total = lines_written(&last);
    assert!(
        !old.is_empty() && !new.is_empty(),
        "old {} new {}",
        old.len(),
        new.len()
    );
    let all: Vec<u64> = old.iter().chain(&new).copied().collect();
    assert_eq!(
        all,
        (1..=total).collect::<Vec<_>>(),
        "each line once, in order"
    );
    eprintln!(
        "{total} lines: {} before the reopen in app.log.1, {} after in app.log",
        old.len(),
        new.len()
    );
}

#[test]
fn survives_a_sighup_storm_and_reports_its_counters() {
    let scratch = scratch("storm");
    let dir = scratch.path();
    let log = dir.join("app.log");
    let mut p = start(&log, &[]);
    let pid = p.pid();
    // One second of SIGHUPs, about one every 50 us, while it keeps writing.
    let storm = std::thread::spawn(move || {
        let (start, mut sent) = (std::time::Instant::now(), 0u64);
        while start.elapsed() < Duration::from_secs(1) {
            // SAFETY: kill to the child we started.
            assert_eq!(unsafe { libc::kill(pid, libc::SIGHUP) }, 0);
            sent += 1;
            let t = std::time::Instant::now();
            while t.elapsed() < Duration::from_micros(50) {
                std::hint::spin_loop();
            }
        }
        sent
    });
    let sent = storm.join().unwrap();
    p.signal(libc::SIGUSR1);
    let counters = p.expect_line("counters", WAIT);
    assert!(p.child.try_wait().unwrap().is_none(), "died in the storm");
    p.signal(libc::SIGTERM);
    let last = p.expect_line("wrote", WAIT);
    assert!(p.wait(WAIT).success());
    // Every reopen was of the same name: one file holds every line.
    assert_eq!(
        numbers(&log),
        (1..=lines_written(&last)).collect::<Vec<_>>()
    );
    eprintln!("{sent} SIGHUPs in 1 s: {counters}; {last}");
}

#[test]
fn signals_it_does_not_handle_are_ignored_not_fatal() {
    let scratch = scratch("incident");
    let dir = scratch.path();
    let log = dir.join("app.log");
    let mut p = start(&log, &["--no-reload"]);
    let ignored = process_status_mask(p.pid(), "SigIgn");
    for sig in [libc::SIGHUP, libc::SIGUSR2, libc::SIGQUIT] {
        assert_ne!(ignored & 1 << (sig - 1), 0, "signal {sig} not ignored");
    }
    // The incident: logrotate's `pkill -HUP` after the reload feature was removed.
    for sig in [libc::SIGHUP, libc::SIGUSR2, libc::SIGQUIT] {
        p.signal(sig);
    }
    p.signal(libc::SIGUSR1);
    p.expect_line("counters", WAIT);
    assert!(
        p.child.try_wait().unwrap().is_none(),
        "a stray signal killed it"
    );
    p.signal(libc::SIGTERM);
    p.expect_line("wrote", WAIT);
    assert!(p.wait(WAIT).success());
}
