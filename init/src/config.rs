//! What sigchan-init does, whichever command line asked for it: each personality's parser
//! (`tini_cli.rs`, `dumb_init_cli.rs`, `native_cli.rs`) fills one `Config`.

use sigchan::Signal;
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::time::Duration;

/// Whose command line, defaults, messages and exit codes sigchan-init follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Personality {
    /// Run as `tini` or `docker-init`.
    Tini,
    /// Run as `dumb-init`.
    DumbInit,
    /// Run under its own name.
    Native,
}

/// Where the main child runs, relative to init's session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// init's own process group and session (dumb-init `-c`).
    Inherit,
    /// A process group of its own, made the terminal's foreground group (tini).
    OwnGroup,
    /// A session of its own with the terminal as its controlling tty, which init gives up
    /// (dumb-init's default, and sigchan-init's).
    OwnSession,
}

/// Everything the supervisor needs.
#[derive(Clone, Debug)]
pub struct Config {
    pub personality: Personality,
    /// The program and its arguments.
    pub command: Vec<OsString>,
    /// 0 quiet; the meaning of each level is the personality's (`log.rs`).
    pub verbosity: u32,
    /// Become a child subreaper (`PR_SET_CHILD_SUBREAPER`).
    pub subreaper: bool,
    /// Signal init receives when its parent dies (`PR_SET_PDEATHSIG`).
    pub parent_death_signal: Option<Signal>,
    /// Report each reaped process other than the main child.
    pub warn_on_reap: bool,
    /// Main-child statuses init reports as 0 (tini `-e`).
    pub success_statuses: BTreeSet<i32>,
    pub placement: Placement,
    /// Forward to the child's process group rather than to the child alone.
    pub forward_to_group: bool,
    /// Signal number -> what to forward instead; 0 drops it.
    pub rewrites: BTreeMap<i32, i32>,
    /// After forwarding TSTP, TTIN or TTOU, stop init itself (as a shell's job would).
    pub stop_self_on_job_control: bool,
    /// When the main child ends, send (the rewrite of) SIGTERM to the rest of its group.
    pub term_group_on_exit: bool,
    /// init moves to `/` once the child runs (dumb-init), so it keeps no directory busy.
    pub chdir_root: bool,
    /// init ignores TTIN and TTOU for itself (tini); the child gets them back.
    pub ignore_tty_signals: bool,
    /// After forwarding a terminating signal, SIGKILL what is left of the group this long
    /// after.
    pub grace: Option<Duration>,
}

impl Config {
    /// The defaults of `personality`, before its options and environment apply.
    pub fn defaults(personality: Personality) -> Config {
        let (placement, group, stop_self, term_on_exit, chdir, ignore_tty) = match personality {
            Personality::Tini => (Placement::OwnGroup, false, false, false, false, true),
            Personality::DumbInit => (Placement::OwnSession, true, true, true, true, false),
            Personality::Native => (Placement::OwnSession, true, true, true, true, false),
        };
        Config {
            personality,
            command: Vec::new(),
            verbosity: match personality {
                Personality::Tini => 1,
                _ => 0,
            },
            subreaper: false,
            parent_death_signal: None,
            warn_on_reap: false,
            success_statuses: BTreeSet::new(),
            placement,
            forward_to_group: group,
            rewrites: BTreeMap::new(),
            stop_self_on_job_control: stop_self,
            term_group_on_exit: term_on_exit,
            chdir_root: chdir,
            ignore_tty_signals: ignore_tty,
            grace: None,
        }
    }

    /// In its own session, a job-control signal forwarded as is would stop nothing: the
    /// child's session has no shell to continue it. dumb-init (and sigchan-init) rewrite TSTP,
    /// TTIN and TTOU to STOP there unless told otherwise.
    pub fn apply_session_rewrites(&mut self) {
        if self.placement == Placement::OwnSession {
            for sig in [libc::SIGTSTP, libc::SIGTTIN, libc::SIGTTOU] {
                self.rewrites.entry(sig).or_insert(libc::SIGSTOP);
            }
        }
    }
}

/// What the command line asked for instead of running a program.
#[derive(Debug)]
pub enum Early {
    /// Print this on stdout and exit 0 (help, version, licence).
    Stdout(String),
    /// Print this on stderr and exit with the code.
    Stderr(String, i32),
}

/// The text sigchan-init prints for `-l` / `--license` in every personality: its own.
pub const LICENSE: &str = "sigchan-init is licensed under the MIT license or the Apache License, \
version 2.0, at your option (LICENSE-MIT and LICENSE-APACHE in the sigchan repository).\n\
It is a reimplementation: it contains no code of tini or dumb-init.\n";

/// The version line, naming sigchan-init and the program it stands in for, and ending
/// `- git.COMMIT`: the shape Docker reads (`dockerd --init-path`; `docker info` then shows
/// the commit as the init's version).
pub fn version(personality: Personality) -> String {
    let v = env!("CARGO_PKG_VERSION");
    let commit = env!("SIGCHAN_INIT_COMMIT");
    let what = match personality {
        Personality::Tini => " (tini personality, command line of tini 0.19)",
        Personality::DumbInit => " (dumb-init personality, command line of dumb-init 1.2.5)",
        Personality::Native => "",
    };
    format!("sigchan-init {v}{what} - git.{commit}")
}

/// Docker's reading of an init's `--version` (`parseInitVersion` in dockerd): the text
/// after `tini version ` is the version, the word after ` - git.` the commit; neither is
/// an error. Returns (version, commit).
#[cfg(test)]
pub fn docker_reads(line: &str) -> Result<(String, String), String> {
    let parts: Vec<&str> = line.split(" - ").collect();
    let mut commit = String::new();
    if let Some(git) = parts.get(1) {
        let git: Vec<&str> = git.trim().split('.').collect();
        if git.len() == 2 && git[0] == "git" {
            commit = git[1].to_owned();
        }
    }
    let version = parts[0]
        .trim()
        .strip_prefix("tini version ")
        .unwrap_or_default()
        .to_owned();
    if version.is_empty() && commit.is_empty() {
        return Err(format!("unknown output format: {line}"));
    }
    Ok((version, commit))
}

/// A personality's parser: program name, arguments, environment lookup.
#[cfg(test)]
pub type CliParser =
    fn(&str, &[OsString], &dyn Fn(&str) -> Option<String>) -> Result<Config, Early>;

/// Test helper: runs a personality's parser on `args` with only the environment `env`.
#[cfg(test)]
pub fn parse_for_test(
    parse: CliParser,
    name: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> Result<Config, Early> {
    let args: Vec<OsString> = args.iter().map(OsString::from).collect();
    let lookup = |k: &str| {
        env.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    };
    parse(name, &args, &lookup)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_reads_the_version_line_in_every_personality() {
        for p in [
            Personality::Tini,
            Personality::DumbInit,
            Personality::Native,
        ] {
            let (_, commit) = docker_reads(&version(p)).unwrap();
            assert_eq!(commit, env!("SIGCHAN_INIT_COMMIT"));
            assert!(!commit.is_empty());
        }
        // What Debian's tini prints, and what sigchan-init printed before.
        assert_eq!(
            docker_reads("tini version 0.19.0").unwrap(),
            ("0.19.0".to_owned(), String::new())
        );
        assert!(docker_reads("sigchan-init 0.1.0").is_err());
    }
}
