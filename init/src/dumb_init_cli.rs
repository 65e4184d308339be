//! The command line of dumb-init 1.2.5: options, environment variables, their errors and
//! exit codes. Help and version texts are sigchan-init's own (on stderr, as dumb-init's).

use crate::config::{version, Config, Early, Personality, Placement};
use crate::getopt::{Long, Spec};
use std::ffi::OsString;

/// dumb-init handles signals 1..=31 by number.
const MAXSIG: i32 = 31;

fn help(name: &str) -> String {
    format!(
        "{v}: dumb-init's command line\n\
         Usage: {name} [option] command [[arg] ...]\n\n\
         Runs command as the child of an init that forwards it every signal, reaps every\n\
         zombie and exits with its status (128+N if signal N killed it).\n\n\
         Options:\n\
         \x20  -c, --single-child   the child stays in this session; signals go to it alone\n\
         \x20                       (default: its own session, signals to its process group)\n\
         \x20  -r, --rewrite s:r    forward signal s as r (numbers 1-31 or names); r = 0 drops s;\n\
         \x20                       repeatable\n\
         \x20  -v, --verbose        debugging output on stderr\n\
         \x20  -h, --help           print this help and exit\n\
         \x20  -V, --version        print the version and exit\n\n\
         Environment: DUMB_INIT_SETSID=0 as -c; DUMB_INIT_DEBUG=1 as -v.\n",
        v = version(Personality::Native),
    )
}

fn rewrite_usage() -> Early {
    Early::Stderr(
        format!(
            "Usage: -r takes <signal>:<signal>, each a number from 1 to {MAXSIG} or a name \
             (the second may be 0 to drop the first).\nIt may be given several times.\n\
             Use --help for full usage.\n"
        ),
        1,
    )
}

/// A signal of a rewrite rule: a number in `min..=31`, or a name (`TERM`, `SIGTERM`).
fn signal_number(text: &str, min: i32) -> Option<i32> {
    let n = match text.parse::<i32>() {
        Ok(n) => n,
        Err(_) => text.parse::<sigchan::Signal>().ok()?.as_raw(),
    };
    (min..=MAXSIG).contains(&n).then_some(n)
}

/// Parses dumb-init's command line (`args` without the program name) and environment.
pub fn parse(
    name: &str,
    args: &[OsString],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, Early> {
    let spec = Spec {
        shorts: "hvVcr:",
        longs: const {
            &[
                Long::flag("help", 'h'),
                Long::flag("single-child", 'c'),
                Long::with_arg("rewrite", 'r'),
                Long::flag("verbose", 'v'),
                Long::flag("version", 'V'),
            ]
        },
        // dumb-init's option string starts with '+': options end at the command.
        stop_at_operand: true,
    };
    let parsed = spec
        .parse(args)
        .map_err(|e| Early::Stderr(format!("{name}: {e}\n"), 1))?;
    let mut cfg = Config::defaults(Personality::DumbInit);
    for (opt, value) in parsed.options {
        match opt {
            'h' => return Err(Early::Stderr(help(name), 0)),
            'V' => {
                return Err(Early::Stderr(
                    format!("{}\n", version(Personality::DumbInit)),
                    0,
                ))
            }
            'v' => cfg.verbosity = 1,
            'c' => single_child(&mut cfg),
            'r' => {
                let v = value.unwrap_or_default().to_string_lossy().into_owned();
                let (from, to) = v.split_once(':').ok_or_else(rewrite_usage)?;
                let from = signal_number(from, 1).ok_or_else(rewrite_usage)?;
                let to = signal_number(to, 0).ok_or_else(rewrite_usage)?;
                cfg.rewrites.insert(from, to);
            }
            _ => unreachable!("getopt returns only listed options"),
        }
    }
    if parsed.operands.is_empty() {
        return Err(Early::Stderr(
            format!("Usage: {name} [option] program [args]\nTry {name} --help for full usage.\n"),
            1,
        ));
    }
    cfg.command = parsed.operands;
    if env("DUMB_INIT_DEBUG").as_deref() == Some("1") {
        cfg.verbosity = 1;
    }
    if env("DUMB_INIT_SETSID").as_deref() == Some("0") {
        single_child(&mut cfg);
    }
    cfg.apply_session_rewrites();
    Ok(cfg)
}

/// `-c` / `DUMB_INIT_SETSID=0`: the child stays in init's session, signals go to it alone.
fn single_child(cfg: &mut Config) {
    cfg.placement = Placement::Inherit;
    cfg.forward_to_group = false;
    cfg.term_group_on_exit = false;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_with(args: &[&str], env: &[(&str, &str)]) -> Result<Config, Early> {
        crate::config::parse_for_test(parse, "dumb-init", args, env)
    }

    #[test]
    fn setsid_mode_rewrites_job_control_to_stop_unless_told() {
        let c = parse_with(&["-r", "20:0", "sh", "-v"], &[]).unwrap();
        assert_eq!(c.command, ["sh", "-v"], "options end at the command");
        assert_eq!(c.placement, Placement::OwnSession);
        assert_eq!(c.rewrites.get(&libc::SIGTSTP), Some(&0));
        assert_eq!(c.rewrites.get(&libc::SIGTTIN), Some(&libc::SIGSTOP));
        let c = parse_with(&["sh"], &[("DUMB_INIT_SETSID", "0")]).unwrap();
        assert_eq!(c.placement, Placement::Inherit);
        assert!(c.rewrites.is_empty() && !c.forward_to_group);
        let c = parse_with(&["--single-child", "--rewrite", "TERM:SIGQUIT", "sh"], &[]).unwrap();
        assert_eq!(c.rewrites.get(&libc::SIGTERM), Some(&libc::SIGQUIT));
    }

    #[test]
    fn errors_and_exit_codes() {
        assert!(matches!(
            parse_with(&["-r", "32:1", "sh"], &[]),
            Err(Early::Stderr(_, 1))
        ));
        assert!(matches!(
            parse_with(&["-r", "15", "sh"], &[]),
            Err(Early::Stderr(_, 1))
        ));
        assert!(matches!(
            parse_with(&["-r", "0:1", "sh"], &[]),
            Err(Early::Stderr(_, 1))
        ));
        assert!(
            matches!(parse_with(&[], &[]), Err(Early::Stderr(m, 1)) if m.starts_with("Usage: dumb-init"))
        );
        assert!(
            matches!(parse_with(&["-x"], &[]), Err(Early::Stderr(m, 1)) if m == "dumb-init: invalid option -- 'x'\n")
        );
        assert!(matches!(parse_with(&["-h"], &[]), Err(Early::Stderr(_, 0))));
        assert!(
            matches!(parse_with(&["-V"], &[]), Err(Early::Stderr(m, 0)) if m.starts_with("sigchan-init"))
        );
        assert_eq!(parse_with(&["-v", "sh"], &[]).unwrap().verbosity, 1);
        assert_eq!(
            parse_with(&["sh"], &[("DUMB_INIT_DEBUG", "1")])
                .unwrap()
                .verbosity,
            1
        );
    }
}
