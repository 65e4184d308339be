//! The command line, as Server::Starter's `start_server` takes it: long options written
//! `--opt=value` or `--opt value`, unique prefixes accepted, the server program after `--`.
//! Settings Server::Starter also reads from the environment (ENVDIR, KILL_OLD_DELAY,
//! ENABLE_AUTO_RESTART, AUTO_RESTART_INTERVAL) override the options, re-read before each event.

use crate::listen::PortSpec;
use crate::supervisor::Timing;
use clap::Parser;
use sigchan::Signal;
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

/// Server::Starter's default `--auto-restart-interval`.
const AUTO_RESTART_DEFAULT: Duration = Duration::from_secs(360);
/// Server::Starter's default `--kill-old-delay` when auto-restart is on (otherwise 0).
const KILL_OLD_DELAY_AUTO: Duration = Duration::from_secs(5);
/// The shortest automatic restart period accepted.
const MIN_AUTO_RESTART: Duration = Duration::from_secs(1);

/// start_server: a superdaemon for hot-deploying server programs (Server::Starter's protocol).
///
/// It binds the listening sockets itself and runs the server program with them as file
/// descriptors 3, 4, ..., named in SERVER_STARTER_PORT ("127.0.0.1:8080=3;/tmp/app.sock=4"),
/// and the generation in SERVER_STARTER_GENERATION. SIGHUP starts a new generation and, once
/// it has stayed up for --interval, sends the old one --signal-on-hup. SIGTERM and SIGINT stop
/// every worker; start_server exits when they have. A worker that dies on its own is replaced.
#[derive(Parser, Debug)]
#[command(
    name = "start_server",
    version,
    infer_long_args = true,
    override_usage = "start_server [OPTIONS] -- server-prog server-arg1 server-arg2 ...\n       start_server --restart --pid-file=FILE --status-file=FILE\n       start_server --stop --pid-file=FILE"
)]
pub struct Options {
    // The help is an attribute, not a doc comment: rustdoc would read "[IPV6]" as a link.
    #[arg(
        long = "port",
        value_name = "[HOST:]PORT",
        value_parser = PortSpec::parse,
        help = "TCP port to listen on: PORT (binds 0.0.0.0), HOST:PORT or [IPV6]:PORT. Repeatable.\nPort 0 binds a free port; the log and SERVER_STARTER_PORT then give the real one."
    )]
    pub ports: Vec<PortSpec>,

    /// Path of a unix socket to listen on. Repeatable.
    #[arg(long = "path", value_name = "PATH", value_parser = parse_path)]
    pub paths: Vec<PathBuf>,

    /// Seconds a new generation must stay up before the old one is signalled; also the
    /// pause before starting a worker again that died at start.
    #[arg(long, value_name = "SECONDS", default_value = "1", value_parser = parse_seconds)]
    pub interval: Duration,

    /// Signal sent to the old generation after a SIGHUP, once the new one is up.
    #[arg(long, value_name = "SIGNAL", default_value = "TERM", value_parser = parse_signal)]
    pub signal_on_hup: Signal,

    /// Signal sent to every worker when start_server receives SIGTERM.
    #[arg(long, value_name = "SIGNAL", default_value = "TERM", value_parser = parse_signal)]
    pub signal_on_term: Signal,

    /// Seconds to wait, once a new generation is up, before signalling the old one
    /// (default 0, or 5 with --enable-auto-restart). Env KILL_OLD_DELAY overrides it.
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    pub kill_old_delay: Option<Duration>,

    /// SIGKILL an old worker still running this long after it was sent --signal-on-hup (or
    /// the stop signal), so workers that ignore it cannot pile up; 0: never.
    #[arg(long, value_name = "SECONDS", default_value = "60", value_parser = parse_seconds)]
    pub kill_old_timeout: Duration,

    /// Write start_server's pid to this file (locked while it runs, removed at exit).
    #[arg(long, value_name = "FILE")]
    pub pid_file: Option<PathBuf>,

    /// Write "generation:pid" of each live worker to this file (removed at exit).
    #[arg(long, value_name = "FILE")]
    pub status_file: Option<PathBuf>,

    /// Working directory of the server program.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Directory of environment variables for the server program (daemontools' envdir:
    /// one file per variable), read again before each start. Env ENVDIR overrides it.
    #[arg(long, value_name = "DIR")]
    pub envdir: Option<PathBuf>,

    /// Send start_server's and the workers' stdout and stderr to FILE (appended), or to
    /// the stdin of a command written "| cmd args".
    #[arg(long, value_name = "FILE")]
    pub log_file: Option<String>,

    /// Restart on a timer as well (see --auto-restart-interval). Env ENABLE_AUTO_RESTART
    /// overrides it.
    #[arg(
        long,
        value_name = "0|1",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "1"
    )]
    pub enable_auto_restart: Option<u8>,

    /// Seconds between automatic restarts (default 360). Env AUTO_RESTART_INTERVAL
    /// overrides it.
    #[arg(long, value_name = "SECONDS", value_parser = parse_interval)]
    pub auto_restart_interval: Option<Duration>,

    /// Listen backlog of every socket (default SOMAXCONN).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i32).range(1..))]
    pub backlog: Option<i32>,

    /// Detach from the terminal once the sockets are bound (fork, setsid, fork).
    #[arg(long)]
    pub daemonize: bool,

    /// Send SIGHUP to the start_server named in --pid-file and wait until only the new
    /// generation is left in --status-file.
    #[arg(long, conflicts_with = "stop")]
    pub restart: bool,

    /// Send SIGTERM to the start_server named in --pid-file and wait until it has exited.
    #[arg(long)]
    pub stop: bool,

    /// The server program and its arguments.
    #[arg(value_name = "PROGRAM", trailing_var_arg = true)]
    pub command: Vec<OsString>,
}

/// What start_server was asked to do.
pub enum Mode {
    Serve,
    Restart,
    Stop,
}

impl Options {
    /// Checks what clap cannot: which options each mode needs.
    pub fn mode(&self) -> Result<Mode, String> {
        if self.restart {
            if self.pid_file.is_none() || self.status_file.is_none() {
                return Err("--restart needs --pid-file and --status-file as well".into());
            }
            return Ok(Mode::Restart);
        }
        if self.stop {
            if self.pid_file.is_none() {
                return Err("--stop needs --pid-file as well".into());
            }
            return Ok(Mode::Stop);
        }
        if self.ports.is_empty() && self.paths.is_empty() && !crate::systemd::activated() {
            return Err(
                "either --port or --path is needed (nothing to listen on), unless systemd \
                 passes the sockets (socket activation)"
                    .into(),
            );
        }
        if self.command.is_empty() {
            return Err("server program not specified (give it after --)".into());
        }
        Ok(Mode::Serve)
    }

    /// The timing in force, with the environment's overrides (`env` reads a variable).
    pub fn timing(&self, env: impl Fn(&str) -> Option<String>) -> Result<Timing, String> {
        let seconds = |name: &str| -> Result<Option<Duration>, String> {
            env(name)
                .map(|v| parse_seconds(&v).map_err(|e| format!("{name}: {e}")))
                .transpose()
        };
        let auto = match env("ENABLE_AUTO_RESTART") {
            Some(v) => !matches!(v.trim(), "" | "0"),
            None => self.enable_auto_restart.is_some_and(|v| v != 0),
        };
        let every = env("AUTO_RESTART_INTERVAL")
            .map(|v| parse_interval(&v).map_err(|e| format!("AUTO_RESTART_INTERVAL: {e}")))
            .transpose()?
            .or(self.auto_restart_interval)
            .unwrap_or(AUTO_RESTART_DEFAULT);
        let default_delay = if auto {
            KILL_OLD_DELAY_AUTO
        } else {
            Duration::ZERO
        };
        let kill_old_delay = seconds("KILL_OLD_DELAY")?
            .or(self.kill_old_delay)
            .unwrap_or(default_delay);
        Ok(Timing {
            interval: self.interval,
            kill_old_delay,
            auto_restart: auto.then_some(every),
            signal_on_hup: self.signal_on_hup,
            signal_on_term: self.signal_on_term,
            kill_old_timeout: (!self.kill_old_timeout.is_zero()).then_some(self.kill_old_timeout),
        })
    }
}

/// A number of seconds: `2`, `0.5`. Server::Starter takes whole seconds; fractions are ours.
pub fn parse_seconds(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a number of seconds"))?;
    if !secs.is_finite() || !(0.0..=86_400.0 * 365.0).contains(&secs) {
        return Err(format!("'{s}' seconds is out of range"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// A signal name or number: `TERM`, `SIGTERM`, `term`, `15`.
/// A period that must not be zero: `--auto-restart-interval=0` would start a generation
/// every `--interval`.
pub fn parse_interval(s: &str) -> Result<Duration, String> {
    let d = parse_seconds(s)?;
    if d < MIN_AUTO_RESTART {
        return Err(format!(
            "'{s}' seconds is too short for an automatic restart (at least {:?})",
            MIN_AUTO_RESTART
        ));
    }
    Ok(d)
}

/// A `--path`: `;` and `=` would make SERVER_STARTER_PORT (`path=fd;path=fd`) ambiguous.
pub fn parse_path(s: &str) -> Result<PathBuf, String> {
    if s.is_empty() {
        return Err("an empty --path".into());
    }
    if s.contains([';', '=']) {
        return Err(format!(
            "'{s}' contains ';' or '=', which SERVER_STARTER_PORT uses as separators"
        ));
    }
    Ok(PathBuf::from(s))
}

pub fn parse_signal(s: &str) -> Result<Signal, String> {
    s.trim()
        .parse::<Signal>()
        .map_err(|e| format!("'{s}' is not a signal: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sigchan::{SIGQUIT, SIGTERM, SIGUSR1};

    fn parse(args: &[&str]) -> Result<Options, clap::Error> {
        Options::try_parse_from(std::iter::once("start_server").chain(args.iter().copied()))
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn each_option_has_its_own_help() {
        use clap::CommandFactory;
        let cmd = Options::command();
        let help = |name: &str| {
            cmd.get_arguments()
                .find(|a| a.get_long() == Some(name))
                .and_then(|a| a.get_help())
                .map(|h| h.to_string())
                .unwrap_or_default()
        };
        assert!(
            help("pid-file").starts_with("Write start_server's pid"),
            "{}",
            help("pid-file")
        );
        assert!(
            help("kill-old-timeout").starts_with("SIGKILL an old worker"),
            "{}",
            help("kill-old-timeout")
        );
        let silent: Vec<_> = cmd
            .get_arguments()
            .filter(|a| a.get_long().is_some() && a.get_help().is_none())
            .filter_map(|a| a.get_long())
            .collect();
        assert!(silent.is_empty(), "options without help: {silent:?}");
    }

    #[test]
    fn server_starter_command_lines_parse() {
        let o = parse(&[
            "--port=127.0.0.1:8080",
            "--port",
            "9090",
            "--path=/tmp/app.sock",
            "--pid-file",
            "app.pid",
            "--status-file=app.status",
            "--signal-on-hup=QUIT",
            "--signal-on-term=SIGUSR1",
            "--kill-old-delay=3",
            "--interval=2",
            "--",
            "./server",
            "--workers",
            "4",
        ])
        .unwrap();
        assert_eq!(o.ports.len(), 2);
        assert_eq!(o.ports[0].key(), "127.0.0.1:8080");
        assert_eq!(o.ports[1].key(), "9090");
        assert_eq!(o.paths, [PathBuf::from("/tmp/app.sock")]);
        assert_eq!(o.signal_on_hup, SIGQUIT);
        assert_eq!(o.signal_on_term, SIGUSR1);
        assert_eq!(o.interval, Duration::from_secs(2));
        assert_eq!(o.command, ["./server", "--workers", "4"]);
        assert!(matches!(o.mode(), Ok(Mode::Serve)));
        let t = o.timing(no_env).unwrap();
        assert_eq!(t.kill_old_delay, Duration::from_secs(3));
        assert_eq!(t.auto_restart, None);
    }

    #[test]
    fn defaults_are_server_starters() {
        let o = parse(&["--port=8080", "--", "srv"]).unwrap();
        let t = o.timing(no_env).unwrap();
        assert_eq!(t.interval, Duration::from_secs(1));
        assert_eq!(t.kill_old_delay, Duration::ZERO);
        assert_eq!((t.signal_on_hup, t.signal_on_term), (SIGTERM, SIGTERM));
    }

    #[test]
    fn unique_prefixes_and_a_program_without_dashes() {
        let o = parse(&["--po=8080", "--sta=s", "srv", "-x"]).unwrap();
        assert_eq!(o.status_file, Some(PathBuf::from("s")));
        assert_eq!(o.command, ["srv", "-x"]);
        // "--s" could be several options: an error, not a guess.
        assert!(parse(&["--port=1", "--s=x", "--", "srv"]).is_err());
    }

    #[test]
    fn auto_restart_and_the_environment_override() {
        let o = parse(&["--port=1", "--enable-auto-restart", "--", "srv"]).unwrap();
        let t = o.timing(no_env).unwrap();
        assert_eq!(t.auto_restart, Some(AUTO_RESTART_DEFAULT));
        assert_eq!(t.kill_old_delay, KILL_OLD_DELAY_AUTO);
        let env = |k: &str| match k {
            "ENABLE_AUTO_RESTART" => Some("0".to_owned()),
            "KILL_OLD_DELAY" => Some("7".to_owned()),
            _ => None,
        };
        let t = o.timing(env).unwrap();
        assert_eq!(t.auto_restart, None);
        assert_eq!(t.kill_old_delay, Duration::from_secs(7));
        let bad = |k: &str| (k == "KILL_OLD_DELAY").then(|| "soon".to_owned());
        assert!(o.timing(bad).unwrap_err().contains("KILL_OLD_DELAY"));
    }

    #[test]
    fn bad_values_are_refused_with_the_reason() {
        let msg = |args: &[&str]| parse(args).unwrap_err().to_string();
        assert!(msg(&["--port=http", "--", "s"]).contains("http"));
        assert!(msg(&["--signal-on-hup=BOGUS", "--port=1", "--", "s"]).contains("BOGUS"));
        assert!(msg(&["--interval=-1", "--port=1", "--", "s"]).contains("-1"));
        assert!(msg(&["--no-such-option", "--", "s"]).contains("--no-such-option"));
        assert!(msg(&["--backlog=0", "--port=1", "--", "s"]).contains("0"));
    }

    #[test]
    fn each_mode_names_what_it_lacks() {
        let err = |args: &[&str]| match parse(args).unwrap().mode() {
            Err(e) => e,
            Ok(_) => panic!("{args:?} accepted"),
        };
        assert!(err(&["--", "srv"]).contains("--port or --path"));
        assert!(err(&["--port=1"]).contains("server program"));
        assert!(err(&["--restart", "--pid-file=p"]).contains("--status-file"));
        assert!(err(&["--stop"]).contains("--pid-file"));
        assert!(parse(&["--restart", "--stop", "--pid-file=p"]).is_err());
    }
}
