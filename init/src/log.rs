//! What sigchan-init prints, in the form of the program it stands in for: tini's
//! `[WARN  tini (PID)] ` lines (warnings and fatal errors on stderr, info and debug on
//! stdout), dumb-init's `[dumb-init] ` lines on stderr, or sigchan-init's own
//! `sigchan-init: ` lines on stderr. Scripts that read those lines keep working.

use crate::config::Personality;
use sigchan::reap::{ChildExit, Ended};
use sigchan::SigInfo;
use std::io::Write;

/// tini's prefix for a message of `level` (`FATAL`, `WARN`, `INFO`, `DEBUG`).
pub fn tini_prefix(level: &str) -> String {
    format!("[{level:<5} tini ({})] ", std::process::id())
}

/// The C library's description of a signal ("Terminated"), as tini prints it.
fn describe(sig: i32) -> String {
    // SAFETY: strsignal returns a pointer to a NUL-terminated string valid until the next
    // call; it is copied at once, and only the main thread logs.
    unsafe {
        let p = libc::strsignal(sig);
        if p.is_null() {
            format!("Unknown signal {sig}")
        } else {
            std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned()
        }
    }
}

/// glibc's text for `errno` ("No such file or directory"), as tini and dumb-init print it
/// (both are glibc programs): the C library's own text, but for the ones musl words
/// differently.
pub fn strerror(errno: i32) -> String {
    match errno {
        libc::ENOTTY => return "Inappropriate ioctl for device".to_owned(),
        libc::EIO => return "Input/output error".to_owned(),
        _ => {}
    }
    let text = std::io::Error::from_raw_os_error(errno).to_string();
    // Without the " (os error N)" std appends.
    text.split(" (os error")
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn name(sig: i32) -> String {
    sigchan::Signal::new(sig).map_or_else(|_| format!("signal {sig}"), |s| s.to_string())
}

/// Who sent a signal, from its `SigInfo`: `pid 12 (bash)`, or how it came.
fn sender(info: &SigInfo) -> String {
    match (info.pid(), info.sender_name()) {
        (Some(pid), Some(comm)) => format!("pid {pid} ({comm})"),
        (Some(pid), None) => format!("pid {pid}"),
        _ => format!("{:?}", info.cause()).to_lowercase(),
    }
}

fn how(exit: &ChildExit) -> String {
    match exit.ended() {
        Ended::Exited(code) => format!("exited {code}"),
        Ended::Killed {
            signal,
            core_dumped,
        } => format!(
            "killed by {signal}{}",
            if core_dumped { " (core dumped)" } else { "" }
        ),
    }
}

/// Writes `line` (its newline included) in one `write` where the kernel allows, then flushes:
/// the child writes to the same terminal or pipe, and `eprintln!` on unbuffered stderr
/// writes a line in pieces another process's output can land between.
pub fn write_line(out: &mut impl Write, line: &str) {
    let _ = out.write_all(line.as_bytes());
    let _ = out.flush();
}

/// The logger: the personality's format and the verbosity the command line chose.
pub struct Log {
    pub personality: Personality,
    pub verbosity: u32,
}

impl Log {
    fn tini(&self, level: &str, min: u32, text: &str) {
        if self.verbosity < min {
            return;
        }
        let line = format!("{}{text}\n", tini_prefix(level));
        if level == "WARN" || level == "FATAL" {
            write_line(&mut std::io::stderr(), &line);
        } else {
            write_line(&mut std::io::stdout(), &line);
        }
    }

    fn dumb(&self, text: &str) {
        if self.verbosity > 0 {
            write_line(&mut std::io::stderr(), &format!("[dumb-init] {text}"));
        }
    }

    fn native(&self, min: u32, text: &str) {
        if self.verbosity >= min {
            write_line(&mut std::io::stderr(), &format!("sigchan-init: {text}\n"));
        }
    }

    /// A fatal error: always printed, whatever the verbosity.
    pub fn fatal(&self, text: &str) {
        let line = match self.personality {
            Personality::Tini => format!("{}{text}\n", tini_prefix("FATAL")),
            Personality::DumbInit => format!("[dumb-init] {text}\n"),
            Personality::Native => format!("sigchan-init: {text}\n"),
        };
        write_line(&mut std::io::stderr(), &line);
    }

    /// Neither PID 1 nor a subreaper: orphans will not be ours to reap.
    pub fn not_a_reaper(&self) {
        match self.personality {
            Personality::Tini => self.tini(
                "WARN",
                1,
                "Tini is not running as PID 1 and isn't registered as a child subreaper.\n\
                 Zombie processes will not be re-parented to Tini, so zombie reaping won't work.\n\
                 To fix the problem, use the -s option or set the environment variable \
                 TINI_SUBREAPER to register Tini as a child subreaper, or run Tini as PID 1.",
            ),
            Personality::DumbInit => {}
            Personality::Native => self.native(
                0,
                "not PID 1 and not a subreaper: orphaned processes will not be reaped here \
                 (run as PID 1, or add -s)",
            ),
        }
    }

    pub fn tty_detached(&self, was_leader: bool) {
        if self.personality == Personality::DumbInit {
            self.dumb(if was_leader {
                "Detached from controlling tty, ignoring the first SIGHUP and SIGCONT we receive.\n"
            } else {
                "Detached from controlling tty, but was not session leader.\n"
            });
        }
    }

    /// `TIOCNOTTY` failed (no terminal: the usual case in a container).
    pub fn tty_not_detached(&self, err: &std::io::Error) {
        if self.personality == Personality::DumbInit {
            let errno = err.raw_os_error().unwrap_or(0);
            self.dumb(&format!(
                "Unable to detach from controlling tty (errno={errno} {}).\n",
                strerror(errno)
            ));
        }
    }

    /// tini's trace after `PR_SET_CHILD_SUBREAPER`.
    pub fn subreaper_registered(&self) {
        if self.personality == Personality::Tini {
            self.tini("TRACE", 4, "Registered as child subreaper");
        }
    }

    /// What tini's loop prints each time it looked for zombies and found no more.
    pub fn nothing_to_reap(&self) {
        if self.personality == Personality::Tini {
            self.tini("TRACE", 4, "No child to reap");
        }
    }

    /// SIGCHLD arrived (sigchan-init learns it from the reaper's events).
    pub fn sigchld(&self) {
        match self.personality {
            Personality::Tini => self.tini("DEBUG", 3, "Received SIGCHLD"),
            Personality::DumbInit => self.dumb(&format!("Received signal {}.\n", libc::SIGCHLD)),
            Personality::Native => {}
        }
    }

    /// Whether a line is printed for each arrival of a forwarded signal (the init then
    /// subscribes a channel to see them; otherwise only sigchan's handler does).
    pub fn reports_signals(&self) -> bool {
        match self.personality {
            Personality::Tini => self.verbosity >= 3,
            Personality::DumbInit => self.verbosity > 0,
            Personality::Native => self.verbosity >= 1,
        }
    }

    /// Whether a line is printed for each reaped process other than the main child.
    pub fn reports_reaping(&self, warn: bool) -> bool {
        warn || self.reports_signals()
    }

    pub fn spawned(&self, program: &str, pid: u32) {
        match self.personality {
            Personality::Tini => self.tini(
                "INFO",
                2,
                &format!("Spawned child process '{program}' with pid '{pid}'"),
            ),
            Personality::DumbInit => self.dumb(&format!("Child spawned with PID {pid}.\n")),
            Personality::Native => self.native(2, &format!("started {program} as pid {pid}")),
        }
    }

    /// Signal `sig` arrived (`info`: its origin, if the loop's channel saw it).
    pub fn received(&self, sig: i32) {
        if self.personality == Personality::DumbInit {
            self.dumb(&format!("Received signal {sig}.\n"));
        }
    }

    pub fn hand_off_ignored(&self, sig: i32) {
        match self.personality {
            Personality::DumbInit => self.dumb(&format!("Ignoring tty hand-off signal {sig}.\n")),
            _ => self.native(
                1,
                &format!("ignored {} caused by the tty hand-off", name(sig)),
            ),
        }
    }

    /// `sig` arrived and `sent` (0: dropped) went to `target` (negative: a process group).
    pub fn forwarded(&self, sig: i32, info: &SigInfo, sent: i32, target: i32) {
        match self.personality {
            Personality::Tini => {
                self.tini("DEBUG", 3, &format!("Passing signal: '{}'", describe(sig)))
            }
            Personality::DumbInit => {
                if sent != sig {
                    self.dumb(&format!("Translating signal {sig} to {sent}.\n"));
                }
                if sent == 0 {
                    self.dumb(&format!(
                        "Not forwarding signal {sig} to children (ignored).\n"
                    ));
                } else {
                    self.dumb(&format!("Forwarded signal {sent} to children.\n"));
                }
            }
            Personality::Native => {
                let whom = if target < 0 {
                    format!("process group {}", -target)
                } else {
                    format!("pid {target}")
                };
                let text = if sent == 0 {
                    format!(
                        "dropped {} from {} (rewritten to 0)",
                        name(sig),
                        sender(info)
                    )
                } else if sent != sig {
                    format!(
                        "forwarded {} from {} as {} to {whom}",
                        name(sig),
                        sender(info),
                        name(sent)
                    )
                } else {
                    format!("forwarded {} from {} to {whom}", name(sig), sender(info))
                };
                self.native(1, &text);
            }
        }
    }

    pub fn child_gone_when_forwarding(&self, sig: i32) {
        match self.personality {
            Personality::Tini => self.tini("WARN", 1, "Child was dead when forwarding signal"),
            Personality::DumbInit => {}
            Personality::Native => self.native(
                1,
                &format!("{} not forwarded: the child is gone", name(sig)),
            ),
        }
    }

    pub fn suspending(&self) {
        match self.personality {
            Personality::DumbInit => self.dumb("Suspending self due to TTY signal.\n"),
            _ => self.native(1, "stopping myself too (job control)"),
        }
    }

    /// A process other than the main child was reaped.
    pub fn reaped(&self, exit: &ChildExit, warn: bool) {
        match self.personality {
            Personality::Tini => {
                self.tini(
                    "DEBUG",
                    3,
                    &format!("Reaped child with pid: '{}'", exit.pid()),
                );
                if warn {
                    self.tini(
                        "WARN",
                        1,
                        &format!("Reaped zombie process with pid={}", exit.pid()),
                    );
                }
            }
            Personality::DumbInit => self.dumb_exit(exit),
            Personality::Native => {
                let min = if warn { 0 } else { 1 };
                self.native(
                    min,
                    &format!("reaped orphan pid {}: {}", exit.pid(), how(exit)),
                );
            }
        }
    }

    fn dumb_exit(&self, exit: &ChildExit) {
        match exit.ended() {
            Ended::Exited(code) => self.dumb(&format!(
                "A child with PID {} exited with exit status {code}.\n",
                exit.pid()
            )),
            Ended::Killed { signal, .. } => self.dumb(&format!(
                "A child with PID {} was terminated by signal {}.\n",
                exit.pid(),
                signal.as_raw()
            )),
        }
    }

    /// The main child was reaped (before init acts on its end).
    pub fn main_reaped(&self, exit: &ChildExit) {
        match self.personality {
            Personality::Tini => self.tini(
                "DEBUG",
                3,
                &format!("Reaped child with pid: '{}'", exit.pid()),
            ),
            Personality::DumbInit => self.dumb_exit(exit),
            Personality::Native => {}
        }
    }

    /// init sent `sig` to the rest of the main child's group as it ended (dumb-init).
    pub fn forwarded_on_exit(&self, sig: i32) {
        if self.personality == Personality::DumbInit {
            self.dumb(&format!("Forwarded signal {sig} to children.\n"));
        }
    }

    /// tini's last lines: it looked for zombies once more, then leaves.
    pub fn exiting(&self) {
        if self.personality == Personality::Tini {
            self.tini("TRACE", 4, "No child to reap");
            self.tini("TRACE", 4, "Exiting: child has exited");
        }
    }

    /// The main child ended; init exits with `status`.
    pub fn main_exited(&self, exit: &ChildExit, status: i32) {
        match self.personality {
            Personality::Tini => match exit.ended() {
                Ended::Exited(code) => self.tini(
                    "INFO",
                    2,
                    &format!("Main child exited normally (with status '{code}')"),
                ),
                Ended::Killed { signal, .. } => self.tini(
                    "INFO",
                    2,
                    &format!(
                        "Main child exited with signal (with signal '{}')",
                        describe(signal.as_raw())
                    ),
                ),
            },
            Personality::DumbInit => {
                self.dumb(&format!("Child exited with status {status}. Goodbye.\n"));
            }
            Personality::Native => self.native(
                2,
                &format!("child pid {} {}; exiting {status}", exit.pid(), how(exit)),
            ),
        }
    }

    pub fn grace_over(&self, target: i32, grace: std::time::Duration) {
        self.native(
            0,
            &format!(
                "grace of {:.1}s over: SIGKILL to {}",
                grace.as_secs_f64(),
                if target < 0 {
                    format!("process group {}", -target)
                } else {
                    format!("pid {target}")
                }
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn errors_read_as_glibc_words_them_whatever_the_c_library() {
        assert_eq!(
            super::strerror(libc::ENOTTY),
            "Inappropriate ioctl for device"
        );
        assert_eq!(super::strerror(libc::ENOENT), "No such file or directory");
    }
}
