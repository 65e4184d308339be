//! The terminal example with crossterm in the same process, in a real terminal under tmux:
//! crossterm's SIGWINCH handler (through signal-hook) and sigchan's both see each resize,
//! and job control still works.

#[path = "../../common/mod.rs"]
mod common;
use common::example::example_path;
use common::tmux::{last_line_is_prompt, Tmux};

#[test]
#[ignore = "needs tmux (Debian package tmux): .ci/run installs it"]
fn crossterm_and_sigchan_both_see_resizes_and_job_control_still_works() {
    let tmux = Tmux::start("env PS1='PROMPT$ ' dash -i");
    tmux.wait_screen("dash's prompt", last_line_is_prompt);
    let program = example_path("terminal_crossterm");
    tmux.keys(&[program.to_str().unwrap(), "Enter"]);
    tmux.wait_screen("the first draw", |s| s.contains("size 80x24 redraw #1"));

    tmux.run(&["resize-window", "-x", "100", "-y", "30"]);
    tmux.wait_screen("sigchan's redraw at the new size", |s| {
        s.contains("size 100x30")
    });
    tmux.wait_screen("crossterm's resize event", |s| {
        s.contains("crossterm resizes: 1")
    });
    tmux.run(&["resize-window", "-x", "90", "-y", "20"]);
    tmux.wait_screen("both, a second time", |s| {
        s.contains("size 90x20") && s.contains("crossterm resizes: 2")
    });

    tmux.keys(&["C-z"]);
    tmux.wait_screen("stopped, the prompt back", |s| {
        s.contains("Stopped") && last_line_is_prompt(s)
    });
    assert!(tmux.cooked(), "cooked after Ctrl-Z: {}", tmux.stty());
    tmux.keys(&["fg", "Enter"]);
    tmux.wait_screen("redrawn after fg", |s| s.contains("size 90x20"));
    assert!(!tmux.cooked(), "raw after fg: {}", tmux.stty());

    tmux.keys(&["C-c"]);
    tmux.wait_screen("restored and gone", |s| {
        s.contains("SIGINT: terminal restored, bye") && last_line_is_prompt(s)
    });
    assert!(tmux.cooked(), "cooked after Ctrl-C: {}", tmux.stty());
}
