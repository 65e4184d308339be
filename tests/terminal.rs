//! `examples/terminal.rs` end to end in a real pseudo-terminal: tmux runs an interactive
//! `dash` (which, unlike bash, does not put the terminal back itself when a job stops), and
//! the test types into it and reads the screen and the terminal's settings from outside.
//! Ctrl-Z leaves the prompt usable and the terminal cooked, `fg` brings the program back raw
//! and redrawn, a resize redraws at the new size, Ctrl-C restores the terminal.

mod common;
use common::example::example_path;
use std::process::Command;
use std::time::{Duration, Instant};

const HANG: Duration = Duration::from_secs(120);

/// A tmux server of this test's own (its own socket name), killed on drop.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(shell: &str) -> Tmux {
        let socket = format!("sigchan-terminal-{}", std::process::id());
        let t = Tmux { socket };
        t.run(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-x",
            "80",
            "-y",
            "24",
            shell,
        ]);
        t
    }

    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs (Debian package tmux)");
        assert!(out.status.success(), "tmux {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys"];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p"])
    }

    /// Waits until the screen satisfies `ok`; returns it.
    #[track_caller]
    fn wait_screen(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if ok(&screen) {
                return screen;
            }
            assert!(start.elapsed() < HANG, "{what}: the screen is\n{screen}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The pane terminal's settings, as `stty -a` prints them.
    fn stty(&self) -> String {
        let tty = self.run(&["display", "-p", "#{pane_tty}"]);
        let out = Command::new("stty")
            .args(["-a", "-F", tty.trim()])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Cooked: line editing and echo on.
    fn cooked(&self) -> bool {
        let s = self.stty();
        let words: Vec<&str> = s.split_whitespace().collect();
        words.contains(&"icanon") && words.contains(&"echo")
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

fn last_line_is_prompt(screen: &str) -> bool {
    screen
        .lines()
        .rfind(|l| !l.trim().is_empty())
        .is_some_and(|l| l.trim_end() == "PROMPT$")
}

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
