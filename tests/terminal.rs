//! `examples/terminal.rs` end to end in a real pseudo-terminal: tmux runs an interactive
//! `dash` (which, unlike bash, does not put the terminal back itself when a job stops), and
//! the test types into it and reads the screen and the terminal's settings from outside.
//! Ctrl-Z leaves the prompt usable and the terminal cooked, `fg` brings the program back raw
//! and redrawn, a resize redraws at the new size, Ctrl-C restores the terminal.

mod common;
use common::example::example_path;
use common::tmux::{last_line_is_prompt, Tmux};

#[test]
#[ignore = "needs tmux (Debian package tmux): .ci/run installs it"]
fn job_control_and_resizing_in_a_real_terminal() {
    let tmux = Tmux::start("env PS1='PROMPT$ ' dash -i");
    tmux.wait_screen("dash's prompt", last_line_is_prompt);
    let program = example_path("terminal");
    tmux.keys(&[program.to_str().unwrap(), "Enter"]);
    tmux.wait_screen("the first draw", |s| s.contains("size 80x24 redraw #1"));
    assert!(!tmux.cooked(), "raw mode: {}", tmux.stty());

    tmux.keys(&["C-z"]);
    tmux.wait_screen("the job stopped and the prompt back", |s| {
        s.contains("Stopped") && last_line_is_prompt(s)
    });
    assert!(
        tmux.cooked(),
        "cooked at the prompt after Ctrl-Z: {}",
        tmux.stty()
    );

    tmux.keys(&["fg", "Enter"]);
    tmux.wait_screen("the redraw after fg", |s| s.contains("redraw #2"));
    assert!(!tmux.cooked(), "raw again after fg: {}", tmux.stty());

    tmux.run(&["resize-window", "-x", "100", "-y", "30"]);
    tmux.wait_screen("the redraw at the new size", |s| {
        s.contains("size 100x30 redraw #3")
    });

    tmux.keys(&["C-c"]);
    tmux.wait_screen("the program gone and the prompt back", |s| {
        s.contains("SIGINT: terminal restored, bye") && last_line_is_prompt(s)
    });
    assert!(tmux.cooked(), "cooked after Ctrl-C: {}", tmux.stty());
}
