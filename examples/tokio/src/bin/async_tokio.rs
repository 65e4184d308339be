//! Signals as an async stream under tokio (feature `async`): a server loop that ticks while
//! it waits, reloads on SIGHUP, reports who asked for it, and stops on SIGINT or SIGTERM.
//!
//! ```text
//! cargo run -p sigchan-tokio-examples --bin async_tokio
//! kill -HUP <pid>; kill -TERM <pid>
//! ```

use sigchan::stream::InfoStream;
use sigchan::{SIGHUP, SIGINT, SIGTERM};
use std::time::Duration;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), sigchan::Error> {
    let mut signals = InfoStream::new(&[SIGHUP, SIGINT, SIGTERM])?;
    println!(
        "pid {}: send HUP to reload, INT or TERM to stop",
        std::process::id()
    );
    let mut ticks = 0u64;
    loop {
        tokio::select! {
            info = signals.recv() => {
                let who = match (info.pid(), info.sender_name()) {
                    (Some(pid), Some(name)) => format!("pid {pid} ({name})"),
                    (Some(pid), None) => format!("pid {pid}"),
                    _ => format!("{:?}", info.cause()),
                };
                if info.signal() == SIGHUP {
                    println!("reload requested by {who}");
                } else {
                    println!("{} from {who} after {ticks} ticks: stopping", info.signal());
                    return Ok(());
                }
            }
            _ = tokio::time::sleep(Duration::from_millis(100)) => ticks += 1,
        }
    }
}
