//! Child exits as events: SIGCHLD turned into one [`ChildExit`] per ended child, reaped by
//! sigchan and delivered on a channel.
//!
//! SIGCHLD says only that *some* child changed state, and the kernel merges arrivals, so
//! the classic recipe is a `waitpid(-1, WNOHANG)` loop after each one. That loop reaps
//! every child of the process, including one that `std::process::Child` or tokio owns, whose
//! own `wait` then fails with `ECHILD`. A [`Reaper`] runs the loop for you, in one of two
//! modes:
//!
//! - [`Reaper::all`] reaps every child: the ones you started, and in an init or a child
//!   subreaper (`PR_SET_CHILD_SUBREAPER`) the orphans the kernel re-parents to you. Nothing
//!   else in the process may then wait for its own children; start children with
//!   `std::process::Command` under a [`Reaper::hold`].
//! - [`Reaper::watching`] reaps only the pids given to [`Reaper::watch`], with
//!   `waitpid(pid)`: it never touches a child that `std::process::Child` or tokio owns.
//!
//! Nothing is lost: the reaping runs on sigchan's signal thread after each SIGCHLD and once
//! when the reaper is made (or a pid watched), so a child that ended before is reaped too;
//! each reaped child becomes one event in an unbounded channel (an event costs a few bytes,
//! less than the zombie it replaces, and there are never more than the process had
//! children). Several SIGCHLDs that coalesce still give one event per child.
//!
//! ```
//! use sigchan::reap::{Ended, Reaper};
//! use std::time::Duration;
//!
//! let reaper = Reaper::watching()?;
//! // A child started without std's handle, as a raw fork would; std-owned children are
//! // left alone in this mode.
//! let pid = unsafe { libc::fork() };
//! if pid == 0 {
//!     unsafe { libc::_exit(3) };
//! }
//! reaper.watch(pid as u32)?;
//! let exit = reaper.recv_timeout(Duration::from_secs(60)).unwrap();
//! assert_eq!((exit.pid(), exit.ended()), (pid as u32, Ended::Exited(3)));
//! # Ok::<(), sigchan::Error>(())
//! ```

use crate::runtime::deferred::Deferred;
use crate::runtime::lock;
use crate::runtime::registry;
use crate::runtime::sink::{Delivered, Hook, Sink};
use crate::types::error::Error;
use crate::types::info::SigInfo;
use crate::types::signal::{Signal, SIGCHLD};
use crossbeam_channel::{Receiver, RecvError, RecvTimeoutError, Sender, TryRecvError};
use std::collections::BTreeSet;
use std::os::unix::process::ExitStatusExt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How a child ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ended {
    /// It exited with this code (`0..=255`).
    Exited(i32),
    /// A signal killed it; `core_dumped` if the kernel wrote a core file for it.
    Killed {
        /// The signal that killed it.
        signal: Signal,
        /// Whether a core dump was written.
        core_dumped: bool,
    },
}

/// One child that ended and was reaped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ChildExit {
    pid: u32,
    raw: i32,
}

impl ChildExit {
    /// The child's pid (free for reuse by the kernel from now on).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// How it ended.
    ///
    /// ```
    /// # use sigchan::reap::Ended;
    /// assert_ne!(Ended::Exited(0), Ended::Exited(1));
    /// ```
    pub fn ended(&self) -> Ended {
        let status = self.status();
        match (status.code(), status.signal()) {
            (Some(code), _) => Ended::Exited(code),
            (None, Some(sig)) => Ended::Killed {
                signal: Signal::from_raw_unchecked(sig),
                core_dumped: status.core_dumped(),
            },
            // waitpid without WUNTRACED/WCONTINUED reports only exits and deaths.
            (None, None) => unreachable!("a reaped child exited or was killed"),
        }
    }

    /// The shell's number for how it ended: the exit code, or 128 + the signal's number
    /// (what an init exits with when its main child ends).
    pub fn shell_status(&self) -> i32 {
        match self.ended() {
            Ended::Exited(code) => code,
            Ended::Killed { signal, .. } => 128 + signal.as_raw(),
        }
    }

    /// The same, as std's `ExitStatus`.
    pub fn status(&self) -> std::process::ExitStatus {
        std::process::ExitStatus::from_raw(self.raw)
    }
}

/// Which children a reaper waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    All,
    Watched,
}

/// What the SIGCHLD hook and the `Reaper` share.
struct Reaping {
    mode: Mode,
    /// Held by a pass while it reaps.
    reaping: Mutex<()>,
    /// A pass was asked for. Whoever holds `reaping` runs passes until it is clear, so a
    /// request that finds the lock taken is never lost; with holds, the last hold's drop
    /// runs it.
    requested: AtomicBool,
    /// Live [`Hold`]s: while non-zero, no pass reaps.
    holds: AtomicUsize,
    /// In `Watched` mode, the pids not yet reaped.
    watched: Mutex<BTreeSet<i32>>,
    /// `Reaper::all_reporting`: the only pids whose exits become events (`None`: all).
    reported: Option<Vec<i32>>,
    /// Children reaped without an event (`Reaper::unreported`).
    unreported: AtomicU64,
    tx: Sender<ChildExit>,
}

impl Reaping {
    /// Reaps what has ended, without blocking: every child (`All`) or each watched pid.
    /// Runs on the signal thread (SIGCHLD) and in `Reaper::all`/`watch`; concurrent passes
    /// are fine, since the kernel hands each ended child to one `waitpid` only.
    fn pass(&self) {
        self.requested.store(true, SeqCst);
        loop {
            if self.holds.load(SeqCst) > 0 {
                return;
            }
            // Taken: by another pass, which will see the request.
            let Ok(held) = self.reaping.try_lock() else {
                return;
            };
            // A hold taken since the check above waits for this lock before its caller
            // goes on; leave the request to its drop.
            while self.holds.load(SeqCst) == 0 && self.requested.swap(false, SeqCst) {
                self.reap_now();
            }
            drop(held);
            if self.holds.load(SeqCst) > 0 {
                return;
            }
            // A request made after the last swap, whose try_lock failed before the unlock.
            if !self.requested.load(SeqCst) {
                return;
            }
        }
    }

    /// One round of `waitpid` calls; the caller holds `reaping`.
    fn reap_now(&self) {
        match self.mode {
            Mode::All => {
                while let Some(exit) = wait_nohang(-1) {
                    match &self.reported {
                        Some(pids) if !pids.contains(&(exit.pid as i32)) => {
                            self.unreported.fetch_add(1, SeqCst);
                        }
                        _ => {
                            let _ = self.tx.send(exit);
                        }
                    }
                }
            }
            Mode::Watched => {
                let mut watched = lock(&self.watched);
                let ended: Vec<i32> = watched
                    .iter()
                    .copied()
                    .filter(|&pid| match wait_nohang(pid) {
                        Some(exit) => {
                            let _ = self.tx.send(exit);
                            true
                        }
                        None => false,
                    })
                    .collect();
                for pid in ended {
                    watched.remove(&pid);
                }
            }
        }
    }
}

/// `waitpid(pid, WNOHANG)`: the child that ended, if one did.
fn wait_nohang(pid: i32) -> Option<ChildExit> {
    let mut raw = 0;
    // SAFETY: waitpid writes one status into a live local; WNOHANG never blocks.
    let got = unsafe { libc::waitpid(pid, &mut raw, libc::WNOHANG) };
    (got > 0).then_some(ChildExit {
        pid: got as u32,
        raw,
    })
}

impl Hook for Reaping {
    fn wants_info(&self) -> bool {
        false
    }

    /// On the signal thread with the registry locked: `waitpid` with `WNOHANG` never
    /// blocks, and the unbounded send never blocks or runs user code.
    fn deliver(&self, _info: SigInfo, _later: &mut Deferred) -> Delivered {
        self.pass();
        Delivered::Sent
    }
}

/// Reaps ended children and delivers one [`ChildExit`] per child (see the [module
/// docs](self)). Dropping it stops catching SIGCHLD for it, with [`stop`](crate::stop)'s
/// guarantee; SIGCHLD's disposition comes back when nothing else subscribes.
pub struct Reaper {
    reaping: Arc<Reaping>,
    sink: Sink,
    rx: Receiver<ChildExit>,
}

impl std::fmt::Debug for Reaper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reaper")
            .field("mode", &self.reaping.mode)
            .field("pending", &self.rx.len())
            .finish()
    }
}

impl Reaper {
    /// A reaper of every child of this process, orphans re-parented to it included (an init
    /// or a child subreaper). Children that ended before it was made are reaped at once.
    ///
    /// Only one part of a process may reap every child: with this reaper, a
    /// `std::process::Child`'s `wait` may find its child already reaped (`ECHILD`). Use
    /// [`Reaper::watching`] beside such code. The same holds for `std::process::Command::spawn`
    /// itself: when the `exec` fails, std reaps the failed child and panics if it was reaped
    /// first. Spawn under a [`hold`](Self::hold) (or before the reaper exists).
    ///
    /// # Errors
    /// [`Error::Os`] if the signal thread cannot be started.
    ///
    /// ```
    /// use sigchan::reap::{Ended, Reaper};
    /// let reaper = Reaper::all()?;
    /// let child = std::process::Command::new("true").spawn().unwrap();
    /// let exit = reaper.recv_timeout(std::time::Duration::from_secs(60)).unwrap();
    /// assert_eq!((exit.pid(), exit.ended()), (child.id(), Ended::Exited(0)));
    /// # Ok::<(), sigchan::Error>(())
    /// ```
    pub fn all() -> Result<Reaper, Error> {
        Reaper::new(Mode::All, None)
    }

    /// A reaper of every child, like [`Reaper::all`], that delivers an event only for the
    /// children in `pids`: the others (an init's orphans) are reaped on the signal thread
    /// and only counted ([`unreported`](Self::unreported)), so nothing else wakes up for
    /// them. What an init wants: its main child's exit, and no zombies.
    ///
    /// # Errors
    /// [`Error::Os`] if the signal thread cannot be started.
    ///
    /// ```
    /// use sigchan::reap::Reaper;
    /// use std::time::Duration;
    /// let other = std::process::Command::new("true").spawn().unwrap();
    /// let main = std::process::Command::new("sh").args(["-c", "sleep 0.2; exit 7"]).spawn().unwrap();
    /// let reaper = Reaper::all_reporting(&[main.id()])?;
    /// // `true` is reaped too, with no event: the first event is the main child's.
    /// let exit = reaper.recv_timeout(Duration::from_secs(60)).unwrap();
    /// assert_eq!((exit.pid(), exit.shell_status()), (main.id(), 7));
    /// # drop(other);
    /// # Ok::<(), sigchan::Error>(())
    /// ```
    pub fn all_reporting(pids: &[u32]) -> Result<Reaper, Error> {
        Reaper::new(Mode::All, Some(pids.iter().map(|&p| p as i32).collect()))
    }

    /// How many children this reaper reaped without delivering an event (only
    /// [`all_reporting`](Self::all_reporting) leaves any out).
    pub fn unreported(&self) -> u64 {
        self.reaping.unreported.load(SeqCst)
    }

    /// A reaper of the pids given to [`watch`](Self::watch) only: children that
    /// `std::process::Child`, tokio or other code own are never touched.
    ///
    /// # Errors
    /// [`Error::Os`] if the signal thread cannot be started.
    pub fn watching() -> Result<Reaper, Error> {
        Reaper::new(Mode::Watched, None)
    }

    fn new(mode: Mode, reported: Option<Vec<i32>>) -> Result<Reaper, Error> {
        let (tx, rx) = crossbeam_channel::unbounded();
        let reaping = Arc::new(Reaping {
            mode,
            reaping: Mutex::new(()),
            requested: AtomicBool::new(false),
            holds: AtomicUsize::new(0),
            watched: Mutex::new(BTreeSet::new()),
            reported,
            unreported: AtomicU64::new(0),
            tx,
        });
        let sink = Sink::Hook(reaping.clone());
        registry::notify(sink.clone(), &[SIGCHLD])?;
        // Children that ended before SIGCHLD was caught sent theirs to nobody.
        reaping.pass();
        Ok(Reaper { reaping, sink, rx })
    }

    /// Reaps `pid`, a child of this process, when it ends (at once if it already has).
    /// Watching a pid twice is harmless. On a reaper of every child it only checks `pid`.
    ///
    /// # Errors
    /// [`Error::Os`] with `ECHILD` if `pid` is not a child of this process (or was already
    /// reaped by someone else); nothing changes then.
    ///
    /// ```
    /// let reaper = sigchan::reap::Reaper::watching()?;
    /// // Pid 1 is never our child.
    /// assert!(reaper.watch(1).is_err());
    /// # Ok::<(), sigchan::Error>(())
    /// ```
    pub fn watch(&self, pid: u32) -> Result<(), Error> {
        let not_a_child = || Error::Os(std::io::Error::from_raw_os_error(libc::ECHILD));
        let pid = i32::try_from(pid)
            .ok()
            .filter(|&p| p > 0)
            .ok_or_else(not_a_child)?;
        let mut probe = zeroed_siginfo();
        // SAFETY: waitid with WNOWAIT only reports (never reaps) into a live siginfo_t.
        let r = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut probe,
                libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
            )
        };
        if r != 0 {
            return Err(Error::Os(std::io::Error::last_os_error()));
        }
        if self.reaping.mode == Mode::Watched {
            lock(&self.reaping.watched).insert(pid);
        }
        // It may have ended before it was watched: its SIGCHLD found no watched pid.
        self.reaping.pass();
        Ok(())
    }

    /// Blocks until a child ends and returns it.
    ///
    /// # Errors
    /// Never in practice: the reaper holds the sending side. (`RecvError` is crossbeam's.)
    pub fn recv(&self) -> Result<ChildExit, RecvError> {
        self.rx.recv()
    }

    /// Waits at most `timeout` for a child to end.
    ///
    /// # Errors
    /// `RecvTimeoutError::Timeout` if none did.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<ChildExit, RecvTimeoutError> {
        self.rx.recv_timeout(timeout)
    }

    /// A child that has ended, if any, without waiting.
    ///
    /// # Errors
    /// `TryRecvError::Empty` if none has.
    pub fn try_recv(&self) -> Result<ChildExit, TryRecvError> {
        self.rx.try_recv()
    }

    /// Holds reaping off until the returned guard is dropped; the last guard's drop reaps
    /// what ended meanwhile, so no exit is lost. For code that waits for a child of its own
    /// while a reaper of every child runs, above all `std::process::Command::spawn`, which
    /// reaps a child whose `exec` failed (and panics if that child was reaped first). Waits
    /// for a reaping pass that is running. A watching reaper never needs one (it only
    /// delays it). Another thread takes holds through a [`Holder`].
    ///
    /// ```
    /// let reaper = sigchan::reap::Reaper::all()?;
    /// let spawned = {
    ///     let _hold = reaper.hold();
    ///     std::process::Command::new("/nonexistent").spawn()
    /// };
    /// assert!(spawned.is_err(), "std reaped its failed child itself, without a panic");
    /// # Ok::<(), sigchan::Error>(())
    /// ```
    pub fn hold(&self) -> Hold {
        self.holder().hold()
    }

    /// A handle other threads use to take [`hold`](Self::hold)s (it keeps no subscription
    /// alive: holds taken after the reaper is dropped change nothing).
    pub fn holder(&self) -> Holder {
        Holder(self.reaping.clone())
    }

    /// The channel the events arrive on, for `select!` beside other channels.
    ///
    /// ```
    /// use sigchan::channel::{bounded, select};
    /// let reaper = sigchan::reap::Reaper::all()?;
    /// let (tx, signals) = bounded::<sigchan::Signal>(4);
    /// sigchan::notify(&tx, &[sigchan::SIGTERM])?;
    /// let child = std::process::Command::new("true").spawn().unwrap();
    /// select! {
    ///     recv(reaper.receiver()) -> exit => assert_eq!(exit.unwrap().pid(), child.id()),
    ///     recv(signals) -> _ => unreachable!(),
    /// }
    /// # Ok::<(), sigchan::Error>(())
    /// ```
    pub fn receiver(&self) -> &Receiver<ChildExit> {
        &self.rx
    }
}

/// Takes [`Hold`]s on a [`Reaper`] from any thread ([`Reaper::holder`]).
#[derive(Clone)]
pub struct Holder(Arc<Reaping>);

impl std::fmt::Debug for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Holder")
    }
}

impl Holder {
    /// As [`Reaper::hold`].
    pub fn hold(&self) -> Hold {
        self.0.holds.fetch_add(1, SeqCst);
        // A pass that started before the count went up finishes first.
        drop(lock(&self.0.reaping));
        Hold(self.0.clone())
    }
}

/// Reaping held off by [`Reaper::hold`]; dropping the last one reaps what ended meanwhile.
#[must_use = "reaping resumes when the guard is dropped"]
pub struct Hold(Arc<Reaping>);

impl std::fmt::Debug for Hold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hold")
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        if self.0.holds.fetch_sub(1, SeqCst) == 1 {
            // What ended meanwhile (its SIGCHLD's pass stood back).
            self.0.pass();
        }
    }
}

fn zeroed_siginfo() -> libc::siginfo_t {
    // SAFETY: siginfo_t is plain data; all-zero is a valid value.
    unsafe { std::mem::zeroed() }
}

impl Drop for Reaper {
    fn drop(&mut self) {
        registry::stop(&self.sink);
    }
}
