//! sigchan-init's own command line: the union of tini's and dumb-init's features, with
//! dumb-init's defaults (the child in its own session, signals to its process group), plus
//! `--grace`. Parsed by the same `getopt_long` rules as the other two (`getopt.rs`): options
//! end at the command.

use crate::config::{version, Config, Early, Personality, Placement};
use crate::getopt::{Long, Spec};
use sigchan::Signal;
use std::ffi::OsString;
use std::time::Duration;

const HELP: &str = "\
A container init: runs COMMAND as its child, forwards it every signal (never SIGCHLD), reaps
every zombie, and exits with the child's status (128+N if signal N killed it). Also runs as
`tini`, `docker-init` and `dumb-init` with their command lines.

Usage: sigchan-init [OPTIONS] [--] COMMAND [ARGS]...

Options:
  -c, --single-child          Keep the child in this session and forward signals to it alone
                              [default: the child gets its own session and the terminal, and
                              signals go to its process group]
  -r, --rewrite <FROM:TO>     Forward signal FROM as TO (names or numbers); TO = 0 drops FROM;
                              repeatable. In the default mode TSTP, TTIN and TTOU are
                              forwarded as STOP unless rewritten here
  -s, --subreaper             Become a child subreaper (PR_SET_CHILD_SUBREAPER), for when this
                              is not PID 1
  -p, --pdeathsig <SIGNAL>    Receive SIGNAL when the parent process dies (PR_SET_PDEATHSIG)
  -e, --success-status <CODE> Exit 0 when the child's status is CODE (0-255); repeatable
  -w, --warn-on-reap          Report each reaped process other than the child, with how it
                              ended
  -v, --verbose...            More output on stderr: -v forwarded signals with who sent them
                              and reaped processes; -vv also the start and the end
      --grace <SECONDS>       After forwarding a terminating signal (HUP, INT, QUIT, TERM,
                              USR1, USR2, STKFLT, PWR), send SIGKILL to whatever is left of the
                              child's process group once SECONDS have passed
  -h, --help                  Print help
  -V, --version               Print version
";

const SPEC: Spec = Spec {
    shorts: "cr:sp:e:wvhV",
    longs: &[
        Long::flag("single-child", 'c'),
        Long::with_arg("rewrite", 'r'),
        Long::flag("subreaper", 's'),
        Long::with_arg("pdeathsig", 'p'),
        Long::with_arg("success-status", 'e'),
        Long::flag("warn-on-reap", 'w'),
        Long::flag("verbose", 'v'),
        // Long only: `G` is not among the short options.
        Long::with_arg("grace", 'G'),
        Long::flag("help", 'h'),
        Long::flag("version", 'V'),
    ],
    stop_at_operand: true,
};

/// Parses the native command line (`args` including the program name).
pub fn parse(args: &[OsString]) -> Result<Config, Early> {
    let usage = |m: String| {
        Early::Stderr(
            format!("sigchan-init: {m}\nTry 'sigchan-init --help' for more information.\n"),
            2,
        )
    };
    let parsed = SPEC
        .parse(args.get(1..).unwrap_or_default())
        .map_err(usage)?;
    let mut cfg = Config::defaults(Personality::Native);
    let mut single_child = false;
    let mut pdeathsig = None;
    let mut rewrites = Vec::new();
    let mut grace = None;
    for (opt, value) in parsed.options {
        let value = value
            .map(|v| v.to_string_lossy().into_owned())
            .unwrap_or_default();
        match opt {
            'c' => single_child = true,
            'r' => rewrites.push(value),
            's' => cfg.subreaper = true,
            'p' => pdeathsig = Some(value),
            'e' => {
                let code: u8 = value
                    .parse()
                    .map_err(|_| usage(format!("--success-status {value}: expected 0-255")))?;
                cfg.success_statuses.insert(i32::from(code));
            }
            'w' => cfg.warn_on_reap = true,
            'v' => cfg.verbosity += 1,
            'G' => grace = Some(value),
            'h' => return Err(Early::Stdout(HELP.to_owned())),
            'V' => return Err(Early::Stdout(format!("{}\n", version(Personality::Native)))),
            _ => unreachable!("getopt returns only listed options"),
        }
    }
    if parsed.operands.is_empty() {
        return Err(usage("a COMMAND to run is required".to_owned()));
    }
    cfg.command = parsed.operands;
    if single_child {
        cfg.placement = Placement::Inherit;
        cfg.forward_to_group = false;
        cfg.term_group_on_exit = false;
    }
    if let Some(p) = pdeathsig {
        let sig: Signal = p
            .parse()
            .map_err(|e| usage(format!("--pdeathsig {p}: {e}")))?;
        cfg.parent_death_signal = Some(sig);
    }
    for r in &rewrites {
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
    if let Some(text) = grace {
        let g: f64 = text.parse().unwrap_or(f64::NAN);
        if !(g.is_finite() && g > 0.0 && g <= 86_400.0) {
            return Err(usage(format!(
                "--grace {text}: expected seconds, more than 0 and at most a day"
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
        assert!(matches!(p(&["--help"]), Err(Early::Stdout(t)) if t.contains("--grace <SECONDS>")));
        assert!(
            matches!(p(&["--gr", "1", "sh"]), Ok(c) if c.grace == Some(Duration::from_secs(1)))
        );
        assert!(
            matches!(p(&["-G", "1", "sh"]), Err(Early::Stderr(m, 2)) if m.contains("invalid option -- 'G'"))
        );
        assert!(
            matches!(p(&["--nope", "sh"]), Err(Early::Stderr(m, 2)) if m.contains("unrecognized option '--nope'"))
        );
        assert!(matches!(p(&["-e", "256", "sh"]), Err(Early::Stderr(_, 2))));
        // Options end at the command: the command's own options stay its own.
        assert_eq!(p(&["sh", "-v"]).unwrap().command, ["sh", "-v"]);
    }
}
