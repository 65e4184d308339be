//! A terminal program in raw mode that behaves under job control and resizing, with sigchan:
//! the recipe of docs/PITFALLS.md ("A terminal program: job control and resizing").
//!
//! ```text
//! cargo run --example terminal        # then Ctrl-Z, fg, resize the window, Ctrl-C
//! ```
//!
//! - TSTP (Ctrl-Z, or `kill -TSTP`): restore the terminal first (cooked, cursor shown),
//!   then stop with SIGSTOP, which has TSTP's effect and cannot be caught: the shell's
//!   prompt comes back usable.
//! - CONT (`fg`, `bg`): raw mode again, and a full redraw (the shell drew over the screen).
//! - WINCH: redraw at the new size.
//! - INT, TERM, HUP (Ctrl-C, `kill`, the terminal closing): restore the terminal and exit.
//!
//! Raw mode here keeps `ISIG`, so the terminal driver turns Ctrl-Z and Ctrl-C into signals;
//! a program that clears `ISIG` reads them as bytes 0x1a and 0x03 and does the same work.

#[path = "support/terminal_app.rs"]
mod terminal_app;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    terminal_app::run(String::new)
}
