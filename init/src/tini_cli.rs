//! The command line of tini 0.19 (also what Docker's `--init` passes to `docker-init`):
//! options, environment variables, their errors and exit codes. Help, version and licence
//! texts are sigchan-init's own.

use crate::config::{version, Config, Early, Personality, LICENSE};
use crate::getopt::Spec;
use crate::log::tini_prefix;
use std::ffi::OsString;

/// The names tini's `-p` accepts: the full `SIG` names of the classic signals it lists.
const PDEATHSIG_NAMES: &[(&str, i32)] = &[
    ("SIGHUP", libc::SIGHUP),
    ("SIGINT", libc::SIGINT),
    ("SIGQUIT", libc::SIGQUIT),
    ("SIGILL", libc::SIGILL),
    ("SIGTRAP", libc::SIGTRAP),
    ("SIGABRT", libc::SIGABRT),
    ("SIGBUS", libc::SIGBUS),
    ("SIGFPE", libc::SIGFPE),
    ("SIGKILL", libc::SIGKILL),
    ("SIGUSR1", libc::SIGUSR1),
    ("SIGSEGV", libc::SIGSEGV),
    ("SIGUSR2", libc::SIGUSR2),
    ("SIGPIPE", libc::SIGPIPE),
    ("SIGALRM", libc::SIGALRM),
    ("SIGTERM", libc::SIGTERM),
    ("SIGCHLD", libc::SIGCHLD),
    ("SIGCONT", libc::SIGCONT),
    ("SIGSTOP", libc::SIGSTOP),
    ("SIGTSTP", libc::SIGTSTP),
    ("SIGTTIN", libc::SIGTTIN),
    ("SIGTTOU", libc::SIGTTOU),
    ("SIGURG", libc::SIGURG),
    ("SIGXCPU", libc::SIGXCPU),
    ("SIGXFSZ", libc::SIGXFSZ),
    ("SIGVTALRM", libc::SIGVTALRM),
    ("SIGPROF", libc::SIGPROF),
    ("SIGWINCH", libc::SIGWINCH),
    ("SIGSYS", libc::SIGSYS),
];

fn usage(name: &str) -> String {
    format!(
        "{name} ({v}: tini's command line)\n\
         Usage: {name} [OPTIONS] PROGRAM -- [ARGS] | --version\n\n\
         Runs PROGRAM as the child of an init that forwards it every signal, reaps every\n\
         zombie and exits with its status (128+N if signal N killed it).\n\n\
         Options:\n\
         \x20 --version      print the version and exit\n\
         \x20 -h             print this help and exit\n\
         \x20 -s             become a child subreaper (needs Linux 3.4)\n\
         \x20 -p SIGNAL      receive SIGNAL when the parent dies, e.g. -p SIGKILL\n\
         \x20 -v             more output; repeat up to 3 times\n\
         \x20 -w             warn about each zombie reaped\n\
         \x20 -g             forward signals to the child's process group\n\
         \x20 -e EXIT_CODE   exit 0 when the child's status is EXIT_CODE (0-255); repeatable\n\
         \x20 -l             print the licence and exit\n\n\
         Environment:\n\
         \x20 TINI_SUBREAPER            as -s\n\
         \x20 TINI_VERBOSITY=N          the verbosity level (default: 1)\n\
         \x20 TINI_KILL_PROCESS_GROUP   as -g\n\
         \x20 POSIXLY_CORRECT           options end at PROGRAM (otherwise they may follow it)\n",
        v = version(Personality::Native),
    )
}

/// Parses tini's command line (`args` without the program name) and environment.
pub fn parse(
    name: &str,
    args: &[OsString],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, Early> {
    let base = name.rsplit('/').next().unwrap_or(name);
    if args.len() == 1 && args[0] == "--version" {
        return Err(Early::Stdout(format!("{}\n", version(Personality::Tini))));
    }
    let spec = Spec {
        shorts: "p:hvwgle:s",
        longs: &[],
        stop_at_operand: env("POSIXLY_CORRECT").is_some(),
    };
    let parsed = spec
        .parse(args)
        .map_err(|e| Early::Stderr(format!("{name}: {e}\n{}", usage(base)), 1))?;
    let mut cfg = Config::defaults(Personality::Tini);
    for (opt, value) in parsed.options {
        let value = value.map(|v| v.to_string_lossy().into_owned());
        match opt {
            'h' => return Err(Early::Stdout(usage(base))),
            'l' => return Err(Early::Stdout(LICENSE.into())),
            's' => cfg.subreaper = true,
            'v' => cfg.verbosity += 1,
            'w' => cfg.warn_on_reap = true,
            'g' => cfg.forward_to_group = true,
            'p' => {
                let v = value.unwrap_or_default();
                let found = PDEATHSIG_NAMES.iter().find(|(n, _)| *n == v);
                match found {
                    Some(&(_, sig)) => {
                        cfg.parent_death_signal = sigchan::Signal::new(sig).ok();
                    }
                    None => return Err(fatal(&format!("Not a valid option for -p: {v}"))),
                }
            }
            'e' => {
                let v = value.unwrap_or_default();
                match v.parse::<i32>() {
                    Ok(code) if (0..=255).contains(&code) => {
                        cfg.success_statuses.insert(code);
                    }
                    _ => return Err(fatal(&format!("Not a valid option for -e: {v}"))),
                }
            }
            _ => unreachable!("getopt returns only listed options"),
        }
    }
    if parsed.operands.is_empty() {
        return Err(Early::Stderr(usage(base), 1));
    }
    cfg.command = parsed.operands;
    if env("TINI_SUBREAPER").is_some() {
        cfg.subreaper = true;
    }
    if env("TINI_KILL_PROCESS_GROUP").is_some() {
        cfg.forward_to_group = true;
    }
    if let Some(v) = env("TINI_VERBOSITY") {
        // tini reads it with atoi: leading digits, anything else is 0.
        let digits: String = v
            .trim_start()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        cfg.verbosity = digits.parse().unwrap_or(0);
    }
    Ok(cfg)
}

fn fatal(message: &str) -> Early {
    Early::Stderr(format!("{}{message}\n", tini_prefix("FATAL")), 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_with(args: &[&str], env: &[(&str, &str)]) -> Result<Config, Early> {
        crate::config::parse_for_test(parse, "tini", args, env)
    }

    #[test]
    fn options_environment_and_errors() {
        let c = parse_with(
            &[
                "-s", "-vv", "-e", "143", "-e143", "-g", "-p", "SIGKILL", "--", "sh",
            ],
            &[],
        )
        .unwrap();
        assert!(c.subreaper && c.forward_to_group);
        assert_eq!(c.verbosity, 3);
        assert_eq!(
            c.success_statuses.iter().copied().collect::<Vec<_>>(),
            [143]
        );
        assert_eq!(c.parent_death_signal, Some(sigchan::SIGKILL));
        let c = parse_with(
            &["sh"],
            &[
                ("TINI_SUBREAPER", ""),
                ("TINI_VERBOSITY", "0"),
                ("TINI_KILL_PROCESS_GROUP", "1"),
            ],
        )
        .unwrap();
        assert!(c.subreaper && c.forward_to_group);
        assert_eq!(c.verbosity, 0);
        assert!(
            matches!(parse_with(&["-p", "KILL", "sh"], &[]), Err(Early::Stderr(m, 1)) if m.contains("Not a valid option for -p: KILL"))
        );
        assert!(
            matches!(parse_with(&["-e", "256", "sh"], &[]), Err(Early::Stderr(m, 1)) if m.contains("Not a valid option for -e: 256"))
        );
        assert!(
            matches!(parse_with(&["-x", "sh"], &[]), Err(Early::Stderr(m, 1)) if m.starts_with("tini: invalid option -- 'x'"))
        );
        assert!(matches!(parse_with(&[], &[]), Err(Early::Stderr(_, 1))));
        assert!(
            matches!(parse_with(&["--version"], &[]), Err(Early::Stdout(m)) if m.starts_with("sigchan-init"))
        );
        assert!(matches!(parse_with(&["-h"], &[]), Err(Early::Stdout(_))));
    }

    #[test]
    fn options_after_the_program_are_tinis_unless_posixly_correct() {
        let c = parse_with(&["sleep", "-v", "5"], &[]).unwrap();
        assert_eq!(c.command, ["sleep", "5"]);
        assert_eq!(c.verbosity, 2);
        let c = parse_with(&["sleep", "-v", "5"], &[("POSIXLY_CORRECT", "")]).unwrap();
        assert_eq!(c.command, ["sleep", "-v", "5"]);
    }
}
