//! The command-line rules of the two programs sigchan-init stands in for: glibc's `getopt`
//! (tini) and `getopt_long` with a leading `+` (dumb-init), with the same error messages, so
//! that scripts and Dockerfiles written for them parse the same way.
//!
//! glibc's `getopt` *permutes*: options may come after the first operand (`tini sleep -v 5`
//! takes `-v` as tini's), unless `POSIXLY_CORRECT` is set or the option string starts with
//! `+`, when parsing stops at the first operand. `--` always ends the options.

use std::ffi::{OsStr, OsString};

/// One long option: its name, whether it takes an argument, and the short letter it means.
pub struct Long {
    pub name: &'static str,
    pub takes_arg: bool,
    pub short: char,
}

impl Long {
    /// `--name`, the same as `-short`, without an argument.
    pub const fn flag(name: &'static str, short: char) -> Long {
        Long {
            name,
            takes_arg: false,
            short,
        }
    }

    /// `--name=ARG` or `--name ARG`, the same as `-short ARG`.
    pub const fn with_arg(name: &'static str, short: char) -> Long {
        Long {
            name,
            takes_arg: true,
            short,
        }
    }
}

/// How to parse.
pub struct Spec {
    /// The short options, `getopt` style: a letter, followed by `:` if it takes an argument.
    pub shorts: &'static str,
    pub longs: &'static [Long],
    /// Stop at the first operand (a `+` option string, or `POSIXLY_CORRECT`).
    pub stop_at_operand: bool,
}

/// What the parser found, in order.
#[derive(Debug, PartialEq, Eq)]
pub struct Parsed {
    pub options: Vec<(char, Option<OsString>)>,
    pub operands: Vec<OsString>,
}

impl Spec {
    fn short(&self, c: char) -> Option<bool> {
        let i = self.shorts.find(c).filter(|_| c != ':')?;
        Some(self.shorts[i + 1..].starts_with(':'))
    }

    /// Parses `args` (without the program name). The error is glibc's message, without the
    /// `prog: ` prefix the caller adds.
    pub fn parse(&self, args: &[OsString]) -> Result<Parsed, String> {
        let mut options = Vec::new();
        let mut operands = Vec::new();
        let mut i = 0;
        while i < args.len() {
            let arg = args[i].as_encoded_bytes();
            i += 1;
            if arg == b"--" {
                operands.extend(args[i..].iter().cloned());
                break;
            }
            if arg.len() < 2 || arg[0] != b'-' {
                operands.push(args[i - 1].clone());
                if self.stop_at_operand {
                    operands.extend(args[i..].iter().cloned());
                    break;
                }
                continue;
            }
            // Plain `getopt` (no long options, tini) reads `--foo` as the short option `-`.
            if let Some(long) = arg.strip_prefix(b"--").filter(|_| !self.longs.is_empty()) {
                let text = String::from_utf8_lossy(long).into_owned();
                let (name, inline) = match text.split_once('=') {
                    Some((n, v)) => (n.to_owned(), Some(OsString::from(v))),
                    None => (text.clone(), None),
                };
                // glibc accepts any unambiguous prefix of a long option.
                let matches: Vec<&Long> = self
                    .longs
                    .iter()
                    .filter(|l| l.name.starts_with(name.as_str()))
                    .collect();
                let exact = self.longs.iter().find(|l| l.name == name);
                let long = match (exact, matches.as_slice()) {
                    (Some(l), _) => l,
                    (None, [l]) => *l,
                    (None, []) => return Err(format!("unrecognized option '--{name}'")),
                    (None, many) => {
                        let names: Vec<String> =
                            many.iter().map(|l| format!("'--{}'", l.name)).collect();
                        return Err(format!(
                            "option '--{name}' is ambiguous; possibilities: {}",
                            names.join(" ")
                        ));
                    }
                };
                let value = if long.takes_arg {
                    match inline {
                        Some(v) => Some(v),
                        None if i < args.len() => {
                            i += 1;
                            Some(args[i - 1].clone())
                        }
                        None => {
                            return Err(format!("option '--{}' requires an argument", long.name))
                        }
                    }
                } else if inline.is_some() {
                    return Err(format!(
                        "option '--{}' doesn't allow an argument",
                        long.name
                    ));
                } else {
                    None
                };
                options.push((long.short, value));
                continue;
            }
            // A cluster of short options: `-vvv`, `-e143`, `-p SIGKILL`.
            let cluster = &arg[1..];
            let mut j = 0;
            while j < cluster.len() {
                let c = cluster[j] as char;
                j += 1;
                match self.short(c) {
                    None => return Err(format!("invalid option -- '{c}'")),
                    Some(false) => options.push((c, None)),
                    Some(true) => {
                        let value = if j < cluster.len() {
                            OsStr::from_bytes_lossless(&cluster[j..])
                        } else if i < args.len() {
                            i += 1;
                            args[i - 1].clone()
                        } else {
                            return Err(format!("option requires an argument -- '{c}'"));
                        };
                        options.push((c, Some(value)));
                        break;
                    }
                }
            }
        }
        Ok(Parsed { options, operands })
    }
}

trait FromBytes {
    fn from_bytes_lossless(b: &[u8]) -> OsString;
}

impl FromBytes for OsStr {
    fn from_bytes_lossless(b: &[u8]) -> OsString {
        use std::os::unix::ffi::OsStrExt;
        OsStr::from_bytes(b).to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<OsString> {
        a.iter().map(OsString::from).collect()
    }

    const TINI: Spec = Spec {
        shorts: "p:hvwgle:s",
        longs: &[],
        stop_at_operand: false,
    };

    #[test]
    fn glibc_permutes_unless_told_not_to() {
        let p = TINI.parse(&args(&["sleep", "-v", "5"])).unwrap();
        assert_eq!(p.options, vec![('v', None)]);
        assert_eq!(p.operands, args(&["sleep", "5"]));
        let posix = Spec {
            stop_at_operand: true,
            ..TINI
        };
        let p = posix.parse(&args(&["-s", "sleep", "-v", "5"])).unwrap();
        assert_eq!(p.options, vec![('s', None)]);
        assert_eq!(p.operands, args(&["sleep", "-v", "5"]));
    }

    #[test]
    fn clusters_arguments_and_the_double_dash() {
        let p = TINI
            .parse(&args(&["-vve143", "-p", "SIGKILL", "--", "sh", "-c", "x"]))
            .unwrap();
        assert_eq!(
            p.options,
            vec![
                ('v', None),
                ('v', None),
                ('e', Some("143".into())),
                ('p', Some("SIGKILL".into()))
            ]
        );
        assert_eq!(p.operands, args(&["sh", "-c", "x"]));
    }

    #[test]
    fn errors_are_glibcs() {
        assert_eq!(
            TINI.parse(&args(&["-x"])).unwrap_err(),
            "invalid option -- 'x'"
        );
        assert_eq!(
            TINI.parse(&args(&["-e"])).unwrap_err(),
            "option requires an argument -- 'e'"
        );
        let dumb = Spec {
            shorts: "hvVcr:",
            longs: const {
                &[
                    Long::with_arg("rewrite", 'r'),
                    Long::flag("single-child", 'c'),
                ]
            },
            stop_at_operand: true,
        };
        let p = dumb
            .parse(&args(&["--single", "--rewrite=15:2", "x"]))
            .unwrap();
        assert_eq!(p.options, vec![('c', None), ('r', Some("15:2".into()))]);
        assert_eq!(
            dumb.parse(&args(&["--nope"])).unwrap_err(),
            "unrecognized option '--nope'"
        );
        assert_eq!(
            dumb.parse(&args(&["--rewrite"])).unwrap_err(),
            "option '--rewrite' requires an argument"
        );
        let versions = Spec {
            shorts: "vV",
            longs: const { &[Long::flag("verbose", 'v'), Long::flag("version", 'V')] },
            stop_at_operand: true,
        };
        assert_eq!(
            versions.parse(&args(&["--ver"])).unwrap_err(),
            "option '--ver' is ambiguous; possibilities: '--verbose' '--version'"
        );
        // Plain getopt (tini) has no long options: `--foo` is the unknown short option `-`.
        assert_eq!(
            TINI.parse(&args(&["--foo"])).unwrap_err(),
            "invalid option -- '-'"
        );
    }
}
