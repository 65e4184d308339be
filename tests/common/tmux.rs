//! A tmux server of a test's own, to run programs in a real pseudo-terminal: keys typed in,
//! the screen read back, the terminal's settings read from outside.

use std::process::Command;
use std::time::{Duration, Instant};

const HANG: Duration = Duration::from_secs(120);

/// A tmux server of this test's own (its own socket name), killed on drop.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    pub fn start(shell: &str) -> Tmux {
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

    pub fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs (Debian package tmux)");
        assert!(out.status.success(), "tmux {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys"];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    pub fn screen(&self) -> String {
        self.run(&["capture-pane", "-p"])
    }

    /// Waits until the screen satisfies `ok`; returns it.
    #[track_caller]
    pub fn wait_screen(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
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
    pub fn stty(&self) -> String {
        let tty = self.run(&["display", "-p", "#{pane_tty}"]);
        let out = Command::new("stty")
            .args(["-a", "-F", tty.trim()])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Cooked: line editing and echo on.
    pub fn cooked(&self) -> bool {
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

pub fn last_line_is_prompt(screen: &str) -> bool {
    screen
        .lines()
        .rfind(|l| !l.trim().is_empty())
        .is_some_and(|l| l.trim_end() == "PROMPT$")
}
