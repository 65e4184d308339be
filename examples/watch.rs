//! Prints its pid, reports every HUP, INT, TERM, USR1, USR2 and WINCH it receives, and exits
//! cleanly on INT or TERM.
//!
//! ```text
//! cargo run --release --example watch
//! kill -HUP <pid>; kill -USR1 <pid>; kill <pid>      # from another terminal
//! ```

use sigchan::channel::bounded;
use sigchan::{Signal, SIGHUP, SIGINT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH};

const WATCHED: [Signal; 6] = [SIGHUP, SIGINT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Masked-process mode: only sigchan's thread ever runs a handler.
    sigchan::init()?;
    let (tx, rx) = bounded::<Signal>(16);
    sigchan::notify(&tx, &WATCHED)?;

    let pid = std::process::id();
    println!("watch: pid {pid}");
    println!(
        "watch: try `kill -HUP {pid}` (or -USR1, -USR2, -WINCH); Ctrl-C or `kill {pid}` quits"
    );

    for sig in rx.iter() {
        println!("watch: received {sig} (signal {})", sig.as_raw());
        if sig == SIGINT || sig == SIGTERM {
            break;
        }
    }
    sigchan::stop(&tx);

    for sig in WATCHED {
        let s = sigchan::stats(sig);
        if s.arrivals > 0 {
            println!(
                "watch: {sig}: {} arrivals, {} delivered, {} coalesced",
                s.arrivals, s.delivered, s.coalesced
            );
        }
    }
    println!("watch: exiting cleanly");
    Ok(())
}
