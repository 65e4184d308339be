//! The logrotate case: append numbered lines to a log file; on SIGHUP reopen it by name (so
//! after `mv app.log app.log.1` new lines go to a fresh `app.log`); SIGUSR1 prints counters;
//! SIGTERM or SIGINT ends it cleanly.
//!
//! ```text
//! cargo run --example reload -- /tmp/app.log
//! mv /tmp/app.log /tmp/app.log.1; kill -HUP <pid>; kill -USR1 <pid>; kill -TERM <pid>
//! ```
//!
//! It also shows the fix for the incident in "Signals in prod": a daemon whose SIGHUP handling
//! was removed while logrotate kept sending `pkill -HUP` died, because SIGHUP's default action
//! is to terminate. At start this program ignores every signal of SIGHUP, SIGUSR1, SIGUSR2 and
//! SIGQUIT that it does not handle; run it with `--no-reload` (no SIGHUP handling) and a
//! SIGHUP is ignored instead of killing it.

use sigchan::channel::{bounded, RecvTimeoutError};
use sigchan::{Signal, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::time::Duration;

/// Signals whose default action terminates and that daemons are commonly sent.
const RISKY: [Signal; 4] = [SIGHUP, SIGUSR1, SIGUSR2, SIGQUIT];

fn open(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| "reload.log".into());
    let reload = args.next().as_deref() != Some("--no-reload");
    let path = Path::new(&path);

    let mut handled = vec![SIGUSR1, SIGTERM, SIGINT];
    if reload {
        handled.push(SIGHUP);
    }
    // The incident fix: what we do not handle must not kill us.
    let unhandled: Vec<Signal> = RISKY.into_iter().filter(|s| !handled.contains(s)).collect();
    sigchan::ignore(&unhandled)?;
    let (tx, rx) = bounded::<Signal>(8);
    sigchan::notify(&tx, &handled)?;

    let mut log = open(path)?;
    let (mut lines, mut reopens) = (0u64, 0u64);
    println!(
        "logging to {} pid {}, ignoring {:?}",
        path.display(),
        std::process::id(),
        unhandled.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    );
    loop {
        match rx.recv_timeout(Duration::from_micros(100)) {
            Ok(SIGHUP) => {
                // Lines written so far went to whatever file the old descriptor names (the
                // renamed one); from here on they go to a file at `path` again.
                log.flush()?;
                log = open(path)?;
                reopens += 1;
                println!("reopened {} after {lines} lines", path.display());
            }
            Ok(SIGUSR1) => {
                let hup = sigchan::stats(SIGHUP);
                println!(
                    "counters: {lines} lines, {reopens} reopens; SIGHUP arrivals {}, coalesced {}",
                    hup.arrivals, hup.coalesced
                );
            }
            Ok(sig) => {
                log.flush()?;
                println!("{sig}: wrote {lines} lines, {reopens} reopens");
                sigchan::stop(&tx);
                return Ok(());
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => unreachable!("we hold tx"),
        }
        lines += 1;
        writeln!(log, "line {lines}")?;
    }
}
