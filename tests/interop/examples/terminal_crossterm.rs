//! `examples/terminal.rs` with crossterm in the process: a thread reads crossterm's events,
//! whose reader installs crossterm's own SIGWINCH handler (signal-hook, after sigchan's, so
//! it chains to it). Both must see every resize: sigchan's WINCH redraws, and crossterm's
//! `Event::Resize` is counted on the screen's third line.

#[path = "../../../examples/support/terminal_app.rs"]
mod terminal_app;

use crossterm::event::{self, Event};
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let resizes = Arc::new(AtomicU32::new(0));
    let line = {
        let resizes = resizes.clone();
        move || format!("crossterm resizes: {}\r\n", resizes.load(Relaxed))
    };
    {
        let resizes = resizes.clone();
        let line = line.clone();
        std::thread::spawn(move || loop {
            // The first poll creates crossterm's event source and its SIGWINCH handler.
            if let Ok(true) = event::poll(Duration::from_secs(3600)) {
                if let Ok(Event::Resize(..)) = event::read() {
                    resizes.fetch_add(1, Relaxed);
                    terminal_app::redraw(&line());
                }
            }
        });
    }
    terminal_app::run(line)
}
