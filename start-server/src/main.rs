//! start_server: a superdaemon for hot-deploying server programs, compatible with
//! Server::Starter's command line and protocol, with every signal handled through sigchan.
//!
//! Order matters in `serve`: the pid file is locked first (a second start_server on the same
//! files stops there, before it binds or removes anything); the sockets are bound, the log
//! opened and the process detached while it still has one thread; then `sigchan::init`
//! blocks every signal in all threads but sigchan's own, and only then are threads (the log
//! relay) and workers started, workers with `restore_signals` so the mask is not inherited.

mod cli;
mod control;
mod daemon;
mod envdir;
mod files;
mod listen;
mod log;
mod logger;
mod safe_file;
#[cfg(test)]
#[path = "../../tests/common/scratch.rs"]
mod scratch;
mod spawn;
mod supervisor;
mod systemd;

use clap::Parser;
use cli::{Mode, Options};
use crossbeam_channel::{bounded, Select};
use log::say;
use sigchan::reap::{ChildExit, Reaper};
use sigchan::{Signal, SIGHUP, SIGINT, SIGTERM};
use std::ffi::OsString;
use std::io;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;
use supervisor::{Host, Lifecycle, Supervisor};

/// The supervisor's view of the real world: processes, signals, the status file, stderr.
struct RealHost {
    launcher: spawn::Launcher,
    sockets: listen::Sockets,
    envdir: Option<PathBuf>,
    status: Option<files::StatusFile>,
    notifier: systemd::Notifier,
}

impl RealHost {
    /// The envdir in force (env ENVDIR wins over --envdir) and what it holds now. An envdir
    /// that cannot be read whole, or that someone else could have written, is an error:
    /// starting a worker without the variables it sets (or with an attacker's `PATH` or
    /// `LD_PRELOAD`) is worse than not starting it.
    fn env_vars(&self) -> io::Result<Vec<(OsString, Option<OsString>)>> {
        let dir = std::env::var_os("ENVDIR")
            .map(PathBuf::from)
            .or_else(|| self.envdir.clone());
        match dir {
            Some(dir) => envdir::load(&dir),
            None => Ok(Vec::new()),
        }
    }
}

impl Host for RealHost {
    fn spawn(&mut self, generation: u64) -> io::Result<i32> {
        let env = self.env_vars()?;
        self.sockets.ensure_listening()?;
        self.launcher.spawn(generation, &env)
    }

    fn kill(&mut self, pid: i32, sig: Signal) {
        // SAFETY: kill only sends a signal to a worker we started and have not reaped.
        if unsafe { libc::kill(pid, sig.as_raw()) } != 0 {
            let e = io::Error::last_os_error();
            say!("start_server: cannot send {sig} to {pid}: {e}");
        }
    }

    fn publish(&mut self, workers: &[(u64, i32)]) {
        if let Some(status) = &mut self.status {
            if let Err(e) = status.write(workers) {
                say!("start_server: cannot write the status file: {e}");
            }
        }
    }

    fn log(&mut self, line: String) {
        say!("start_server: {line}");
    }

    fn lifecycle(&mut self, event: Lifecycle) {
        match event {
            Lifecycle::Serving { generation, pid } => self.notifier.serving(generation, pid),
            Lifecycle::Reloading => self.notifier.reloading(),
            Lifecycle::Stopping => self.notifier.stopping(),
        }
    }
}

/// The timing in force now: options, overridden by the environment and the envdir.
fn timing(
    opts: &Options,
    envdir: &[(OsString, Option<OsString>)],
) -> Result<supervisor::Timing, String> {
    opts.timing(|name| {
        let from_dir = envdir.iter().find(|(k, _)| k == name);
        match from_dir {
            Some((_, v)) => v.as_ref().map(|v| v.to_string_lossy().into_owned()),
            None => std::env::var(name).ok(),
        }
    })
}

/// The timing settings the envdir gives, or none (logged) if it cannot be trusted now.
fn env_for_timing(host: &RealHost) -> Vec<(OsString, Option<OsString>)> {
    host.env_vars().unwrap_or_else(|e| {
        say!("start_server: {e}");
        Vec::new()
    })
}

fn serve(opts: &Options) -> io::Result<()> {
    let backlog = opts.backlog.unwrap_or(libc::SOMAXCONN);
    say!("start_server (pid:{}) starting now...", std::process::id());
    let mut pid_file = opts
        .pid_file
        .as_deref()
        .map(files::PidFile::create)
        .transpose()?;
    // Socket activation first, while this is the only thread (it edits the environment).
    let inherited = systemd::inherited_sockets()?;
    let notifier = systemd::Notifier::from_env();
    let listeners = listen::bind_all(&opts.ports, &opts.paths, backlog, inherited)?;
    let listeners = listen::Sockets(listeners);
    let port_env = listen::server_starter_port(&listeners.0);
    for (fd, l) in (listen::FIRST_FD..).zip(&listeners.0) {
        say!(
            "start_server: listening on {} (descriptor {fd} in workers)",
            l.key
        );
    }
    let log = opts
        .log_file
        .as_deref()
        .map(|spec| daemon::open_log(spec, opts.daemonize))
        .transpose()?;
    let mut relay = None;
    if let Some((fd, pending)) = log {
        daemon::redirect_output(fd)?;
        relay = pending;
    }
    if opts.daemonize {
        daemon::daemonize()?;
    }
    // A worker's own children that it leaves behind (a double fork) become ours, not
    // init's: they stay visible and are reaped by the reaper below.
    // SAFETY: prctl with integer arguments only.
    if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } != 0 {
        say!(
            "start_server: cannot become a child subreaper: {}",
            io::Error::last_os_error()
        );
    }

    sigchan::init().map_err(io::Error::other)?;
    // Every child: the workers, the log command, and the orphans they leave to us as a
    // subreaper. One event per ended child, however their SIGCHLDs coalesced. Children are
    // started under a hold of it (std reaps a child whose exec failed itself).
    let reaper = Reaper::all().map_err(io::Error::other)?;
    if let Some(relay) = relay {
        relay.start(reaper.holder())?;
    }
    let (tx, rx) = bounded::<Signal>(16);
    sigchan::notify(&tx, &[SIGHUP, SIGTERM, SIGINT]).map_err(io::Error::other)?;
    // After notify: a --restart that finds the pid in the file may signal at once.
    if let Some(p) = &mut pid_file {
        p.write_pid()?;
    }

    let host = RealHost {
        launcher: spawn::Launcher {
            program: opts.command.clone(),
            dir: opts.dir.clone(),
            fds: listeners.0.iter().map(listen::Listener::fd).collect(),
            port_env,
        },
        sockets: listeners,
        envdir: opts.envdir.clone(),
        status: opts.status_file.as_deref().map(files::StatusFile::new),
        notifier,
    };
    let first = timing(opts, &env_for_timing(&host)).map_err(io::Error::other)?;
    let mut sup = Supervisor::new(host, first, Instant::now());
    {
        let _hold = reaper.hold();
        sup.start(Instant::now())?;
    }

    while !sup.finished() {
        let got = next_event(&rx, reaper.receiver(), sup.deadline());
        // Handling an event may start workers.
        let _hold = reaper.hold();
        // Server::Starter reads the envdir again on every event; so do we.
        match timing(opts, &env_for_timing(sup.host())) {
            Ok(t) => sup.set_timing(t),
            Err(e) => say!("start_server: ignoring the environment's setting: {e}"),
        }
        let now = Instant::now();
        match got {
            Event::Exit(exit) => sup.on_exit(exit.pid() as i32, exit.status(), now),
            Event::Signal(sig) => sup.on_signal(sig, now),
            Event::Tick => {}
        }
        sup.on_tick(Instant::now());
    }
    sigchan::stop(&tx);
    say!("start_server: exiting");
    Ok(())
}

/// What the main loop wakes up for.
enum Event {
    Signal(Signal),
    Exit(ChildExit),
    /// The supervisor's deadline passed.
    Tick,
}

/// Waits for a signal, a child's exit, or `deadline`, whichever comes first.
fn next_event(
    signals: &crossbeam_channel::Receiver<Signal>,
    exits: &crossbeam_channel::Receiver<ChildExit>,
    deadline: Option<Instant>,
) -> Event {
    let mut sel = Select::new();
    let s = sel.recv(signals);
    let e = sel.recv(exits);
    let op = match deadline {
        Some(at) => match sel.select_deadline(at) {
            Ok(op) => op,
            Err(_) => return Event::Tick,
        },
        None => sel.select(),
    };
    match op.index() {
        i if i == s => Event::Signal(op.recv(signals).expect("tx lives in serve")),
        i if i == e => Event::Exit(op.recv(exits).expect("the reaper lives in serve")),
        _ => unreachable!("two operations"),
    }
}

fn main() -> ExitCode {
    let opts = match Options::try_parse() {
        Ok(opts) => opts,
        Err(e) => {
            // --help and --version exit 0; every other error 1, as Server::Starter does.
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let result = match opts.mode() {
        Err(e) => Err(io::Error::new(io::ErrorKind::InvalidInput, e)),
        Ok(Mode::Restart) => control::restart(
            opts.pid_file.as_deref().expect("checked by mode"),
            opts.status_file.as_deref().expect("checked by mode"),
        ),
        Ok(Mode::Stop) => control::stop(opts.pid_file.as_deref().expect("checked by mode")),
        Ok(Mode::Serve) => serve(&opts),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            say!("start_server: {e}");
            ExitCode::FAILURE
        }
    }
}
