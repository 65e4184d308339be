//! sigchan-init's own command line (clap): the union of tini's and dumb-init's features,
//! with dumb-init's defaults (the child in its own session, signals to its process group),
//! plus `--grace`.

use crate::config::{Config, Early, Personality, Placement};
use clap::Parser;
use sigchan::Signal;
use std::ffi::OsString;
use std::time::Duration;

/// A container init: runs COMMAND as its child, forwards it every signal (never SIGCHLD),
/// reaps every zombie, and exits with the child's status (128+N if signal N killed it).
/// Also runs as `tini`, `docker-init` and `dumb-init` with their command lines.
#[derive(Parser, Debug)]
#[command(
    name = "sigchan-init",
    version = concat!(env!("CARGO_PKG_VERSION"), " - git.", env!("SIGCHAN_INIT_COMMIT")),
    max_term_width = 100
)]
struct Args {
    /// Keep the child in this session and forward signals to it alone [default: the child
    /// gets its own session and the terminal, and signals go to its process group]
    #[arg(short = 'c', long)]
    single_child: bool,
    /// Forward signal FROM as TO (names or numbers); TO = 0 drops FROM; repeatable. In the
    /// default mode TSTP, TTIN and TTOU are forwarded as STOP unless rewritten here
    #[arg(short = 'r', long = "rewrite", value_name = "FROM:TO")]
    rewrites: Vec<String>,
    /// Become a child subreaper (PR_SET_CHILD_SUBREAPER), for when this is not PID 1
    #[arg(short = 's', long)]
    subreaper: bool,
    /// Receive SIGNAL when the parent process dies (PR_SET_PDEATHSIG)
    #[arg(short = 'p', long = "pdeathsig", value_name = "SIGNAL")]
    pdeathsig: Option<String>,
    /// Exit 0 when the child's status is CODE (0-255); repeatable
    #[arg(short = 'e', long = "success-status", value_name = "CODE")]
    success_statuses: Vec<u8>,
    /// Report each reaped process other than the child, with how it ended
    #[arg(short = 'w', long)]
    warn_on_reap: bool,
    /// More output on stderr: -v forwarded signals with who sent them and reaped
    /// processes; -vv also the start and the end
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count)]
    verbose: u8,
    /// After forwarding a terminating signal (HUP, INT, QUIT, TERM, USR1, USR2, STKFLT, PWR), send
    /// SIGKILL to whatever is left of the child's process group once SECONDS have passed
    #[arg(long, value_name = "SECONDS")]
    grace: Option<f64>,
    /// The program to run and its arguments
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    command: Vec<OsString>,
}

/// Parses the native command line (`args` including the program name).
pub fn parse(args: &[OsString]) -> Result<Config, Early> {
    let a = Args::try_parse_from(args).map_err(|e| {
        let text = e.render().to_string();
        if e.use_stderr() {
            Early::Stderr(text, 2)
        } else {
            Early::Stdout(text)
        }
    })?;
    let usage = |m: String| Early::Stderr(format!("sigchan-init: {m}\n"), 2);
    let mut cfg = Config::defaults(Personality::Native);
    cfg.command = a.command;
    cfg.subreaper = a.subreaper;
    cfg.warn_on_reap = a.warn_on_reap;
    cfg.verbosity = u32::from(a.verbose);
    cfg.success_statuses = a.success_statuses.iter().map(|&c| i32::from(c)).collect();
    if a.single_child {
        cfg.placement = Placement::Inherit;
        cfg.forward_to_group = false;
        cfg.term_group_on_exit = false;
    }
    if let Some(p) = a.pdeathsig {
        let sig: Signal = p
            .parse()
            .map_err(|e| usage(format!("--pdeathsig {p}: {e}")))?;
        cfg.parent_death_signal = Some(sig);
    }
    for r in &a.rewrites {
        let bad = || {
            usage(format!(
                "--rewrite {r}: expected FROM:TO, two signals (TO may be 0)"
            ))
        };
        let (from, to) = r.split_once(':').ok_or_else(bad)?;
        let from: Signal = from.parse().map_err(|_| bad())?;
        if from.as_raw() == libc::SIGKILL || from.as_raw() == libc::SIGSTOP {
            return Err(usage(format!(
                "--rewrite {r}: {from} never reaches an init"
            )));
        }
        let to = if to == "0" {
            0
        } else {
            to.parse::<Signal>().map_err(|_| bad())?.as_raw()
        };
        cfg.rewrites.insert(from.as_raw(), to);
    }
    if let Some(g) = a.grace {
        if !(g.is_finite() && g > 0.0 && g <= 86_400.0) {
            return Err(usage(format!(
                "--grace {g}: expected seconds, more than 0 and at most a day"
            )));
        }
        cfg.grace = Some(Duration::from_secs_f64(g));
    }
    cfg.apply_session_rewrites();
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Config, Early> {
        let mut v = vec![OsString::from("sigchan-init")];
        v.extend(args.iter().map(OsString::from));
        parse(&v)
    }

    #[test]
    fn defaults_options_and_errors() {
        let c = p(&["sh", "-c", "x"]).unwrap();
        assert_eq!(c.command, ["sh", "-c", "x"]);
        assert_eq!(c.placement, Placement::OwnSession);
        assert!(c.forward_to_group && c.term_group_on_exit);
        assert_eq!(c.rewrites.get(&libc::SIGTSTP), Some(&libc::SIGSTOP));
        let c = p(&[
            "-c",
            "-r",
            "TERM:QUIT",
            "-r",
            "USR1:0",
            "--grace",
            "2.5",
            "-vv",
            "-e",
            "143",
            "--",
            "sh",
        ])
        .unwrap();
        assert_eq!(c.placement, Placement::Inherit);
        assert_eq!(c.rewrites.get(&libc::SIGTERM), Some(&libc::SIGQUIT));
        assert_eq!(c.rewrites.get(&libc::SIGUSR1), Some(&0));
        assert_eq!(c.grace, Some(Duration::from_millis(2500)));
        assert_eq!(c.verbosity, 2);
        assert!(c.success_statuses.contains(&143));
        assert!(matches!(
            p(&["--grace", "0", "sh"]),
            Err(Early::Stderr(_, 2))
        ));
        assert!(matches!(
            p(&["-r", "KILL:TERM", "sh"]),
            Err(Early::Stderr(_, 2))
        ));
        assert!(matches!(p(&["-r", "TERM", "sh"]), Err(Early::Stderr(_, 2))));
        assert!(matches!(
            p(&["-p", "SIGNOPE", "sh"]),
            Err(Early::Stderr(_, 2))
        ));
        assert!(matches!(p(&[]), Err(Early::Stderr(_, 2))));
        assert!(matches!(p(&["--version"]), Err(Early::Stdout(_))));
    }
}
