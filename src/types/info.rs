//! `SigInfo`: one arrival of a signal with its origin, decoded from the raw `siginfo_t`
//! fields the handler copied into the ring (decoding happens here, outside the handler).

use super::signal::Signal;
use crate::sigctx::record::Record;

/// Why a signal was sent, from the kernel's `si_code`.
///
/// ```
/// use sigchan::{Cause, SigInfo};
/// use sigchan::channel::bounded;
///
/// let (tx, rx) = bounded::<SigInfo>(4);
/// sigchan::notify_info(&tx, &[sigchan::SIGUSR1])?;
/// unsafe { libc::kill(libc::getpid(), libc::SIGUSR1) };
/// let info = rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap();
/// assert_eq!(info.cause(), Cause::Kill);
/// assert_eq!(info.pid(), Some(std::process::id() as i32));
/// # sigchan::stop(&tx);
/// # Ok::<(), sigchan::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Cause {
    /// `kill(2)` (also `raise` in a single-threaded program, and the shell's `kill`).
    Kill,
    /// `tgkill(2)` or `tkill(2)`: `raise(3)`, `pthread_kill(3)`.
    Tkill,
    /// `sigqueue(3)` (`rt_sigqueueinfo`): carries a value, see [`SigInfo::value`].
    Sigqueue,
    /// The kernel itself (`SI_KERNEL`), e.g. a terminal's `SIGINT`, `SIGHUP` on hang-up, or
    /// `SIGPIPE`, `SIGXCPU`, `SIGXFSZ`.
    Kernel,
    /// A POSIX timer expired (`timer_create`); carries the timer's value.
    Timer,
    /// A message arrived on an empty POSIX message queue (`mq_notify`); carries a value.
    MessageQueue,
    /// Asynchronous I/O completed (`aio_*`).
    AsyncIo,
    /// A child process changed state (`SIGCHLD`).
    Child(ChildEvent),
    /// An I/O event on a file descriptor set up with `F_SETSIG`/`O_ASYNC` (`SIGIO`); the
    /// number is the `POLL_*` code.
    Io(i32),
    /// The origin did not fit: the origin ring was full when the signal arrived. The signal
    /// itself still arrived; [`crate::Stats::origins_lost`] counts these.
    Lost,
    /// Any other `si_code` (kept raw).
    Other(i32),
}

/// What happened to a child, from a `SIGCHLD`'s `si_code` and `si_status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildEvent {
    /// It exited with this status (`CLD_EXITED`).
    Exited(i32),
    /// A signal with this number killed it (`CLD_KILLED`).
    Killed(i32),
    /// A signal with this number killed it and it dumped core (`CLD_DUMPED`).
    Dumped(i32),
    /// A traced child trapped (`CLD_TRAPPED`).
    Trapped,
    /// A signal with this number stopped it (`CLD_STOPPED`).
    Stopped(i32),
    /// It was continued by `SIGCONT` (`CLD_CONTINUED`).
    Continued,
}

/// One arrival of a signal, with who sent it and why, delivered by [`crate::notify_info`].
///
/// The accessors return `None` where the kernel's `si_code` says a field is not filled in,
/// so a value never comes from another union member of `siginfo_t`.
///
/// ```
/// use sigchan::{Cause, SigInfo, SIGUSR2};
/// use sigchan::channel::bounded;
///
/// let (tx, rx) = bounded::<SigInfo>(4);
/// sigchan::notify_info(&tx, &[SIGUSR2])?;
/// let value = libc::sigval { sival_ptr: 42 as *mut libc::c_void };
/// unsafe { libc::sigqueue(libc::getpid(), libc::SIGUSR2, value) };
/// let info = rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap();
/// assert_eq!((info.signal(), info.cause(), info.value()), (SIGUSR2, Cause::Sigqueue, Some(42)));
/// assert_eq!(info.uid(), Some(unsafe { libc::getuid() }));
/// # sigchan::stop(&tx);
/// # Ok::<(), sigchan::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SigInfo {
    signal: Signal,
    code: i32,
    pid: i32,
    uid: u32,
    value: u64,
    status: i32,
    lost: bool,
}

const CLD_EXITED: i32 = 1;
const CLD_KILLED: i32 = 2;
const CLD_DUMPED: i32 = 3;
const CLD_TRAPPED: i32 = 4;
const CLD_STOPPED: i32 = 5;
const CLD_CONTINUED: i32 = 6;

impl SigInfo {
    pub(crate) fn from_record(rec: &Record) -> SigInfo {
        SigInfo {
            signal: Signal::from_raw_unchecked(i32::from(rec.signo)),
            code: rec.code,
            pid: rec.pid,
            uid: rec.uid,
            value: rec.value,
            status: rec.status,
            lost: false,
        }
    }

    /// An arrival without a record: for plain sinks, or when the full ring lost the origin.
    pub(crate) fn unknown_origin(signal: Signal) -> SigInfo {
        SigInfo {
            signal,
            code: 0,
            pid: 0,
            uid: 0,
            value: 0,
            status: 0,
            lost: true,
        }
    }

    /// The signal that arrived.
    ///
    /// ```
    /// # use sigchan::{SigInfo, SIGHUP};
    /// # let (tx, rx) = sigchan::channel::bounded::<SigInfo>(1);
    /// # sigchan::notify_info(&tx, &[SIGHUP])?;
    /// # unsafe { libc::kill(libc::getpid(), libc::SIGHUP) };
    /// let info = rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap();
    /// assert_eq!(info.signal(), SIGHUP);
    /// # sigchan::stop(&tx);
    /// # Ok::<(), sigchan::Error>(())
    /// ```
    pub fn signal(&self) -> Signal {
        self.signal
    }

    /// Why it was sent, from `si_code`; [`Cause::Lost`] if the origin was not recorded.
    ///
    /// ```
    /// # use sigchan::{Cause, SigInfo, SIGWINCH};
    /// # let (tx, rx) = sigchan::channel::bounded::<SigInfo>(1);
    /// # sigchan::notify_info(&tx, &[SIGWINCH])?;
    /// unsafe { libc::raise(libc::SIGWINCH) }; // tgkill to this thread
    /// let info = rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap();
    /// assert_eq!(info.cause(), Cause::Tkill);
    /// # sigchan::stop(&tx);
    /// # Ok::<(), sigchan::Error>(())
    /// ```
    pub fn cause(&self) -> Cause {
        if self.lost {
            return Cause::Lost;
        }
        match self.code {
            libc::SI_USER => Cause::Kill,
            libc::SI_TKILL => Cause::Tkill,
            libc::SI_QUEUE => Cause::Sigqueue,
            libc::SI_KERNEL => Cause::Kernel,
            libc::SI_TIMER => Cause::Timer,
            libc::SI_MESGQ => Cause::MessageQueue,
            libc::SI_ASYNCIO => Cause::AsyncIo,
            c if c > 0 && self.signal.as_raw() == libc::SIGCHLD => match c {
                CLD_EXITED => Cause::Child(ChildEvent::Exited(self.status)),
                CLD_KILLED => Cause::Child(ChildEvent::Killed(self.status)),
                CLD_DUMPED => Cause::Child(ChildEvent::Dumped(self.status)),
                CLD_TRAPPED => Cause::Child(ChildEvent::Trapped),
                CLD_STOPPED => Cause::Child(ChildEvent::Stopped(self.status)),
                CLD_CONTINUED => Cause::Child(ChildEvent::Continued),
                other => Cause::Other(other),
            },
            c if c > 0 && self.signal.as_raw() == libc::SIGIO => Cause::Io(c),
            other => Cause::Other(other),
        }
    }

    /// The raw `si_code` (0 when the origin was lost).
    ///
    /// ```
    /// # use sigchan::{SigInfo, SIGUSR1};
    /// # let (tx, rx) = sigchan::channel::bounded::<SigInfo>(1);
    /// # sigchan::notify_info(&tx, &[SIGUSR1])?;
    /// # unsafe { libc::kill(libc::getpid(), libc::SIGUSR1) };
    /// let info = rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap();
    /// assert_eq!(info.code(), libc::SI_USER);
    /// # sigchan::stop(&tx);
    /// # Ok::<(), sigchan::Error>(())
    /// ```
    pub fn code(&self) -> i32 {
        self.code
    }

    fn has_sender(&self) -> bool {
        matches!(
            self.cause(),
            Cause::Kill | Cause::Tkill | Cause::Sigqueue | Cause::Child(_)
        )
    }

    /// The sending process (for `SIGCHLD`, the child), when `si_code` says it is known:
    /// `kill`, `tgkill`, `sigqueue` and child events.
    ///
    /// ```
    /// # use sigchan::{SigInfo, SIGUSR1};
    /// # let (tx, rx) = sigchan::channel::bounded::<SigInfo>(1);
    /// # sigchan::notify_info(&tx, &[SIGUSR1])?;
    /// unsafe { libc::kill(libc::getpid(), libc::SIGUSR1) };
    /// let info = rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap();
    /// assert_eq!(info.pid(), Some(std::process::id() as i32));
    /// # sigchan::stop(&tx);
    /// # Ok::<(), sigchan::Error>(())
    /// ```
    pub fn pid(&self) -> Option<i32> {
        self.has_sender().then_some(self.pid)
    }

    /// The sender's real user id, when [`pid`](Self::pid) is known.
    ///
    /// ```
    /// # use sigchan::{SigInfo, SIGUSR1};
    /// # let (tx, rx) = sigchan::channel::bounded::<SigInfo>(1);
    /// # sigchan::notify_info(&tx, &[SIGUSR1])?;
    /// # unsafe { libc::kill(libc::getpid(), libc::SIGUSR1) };
    /// let info = rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap();
    /// assert_eq!(info.uid(), Some(unsafe { libc::getuid() }));
    /// # sigchan::stop(&tx);
    /// # Ok::<(), sigchan::Error>(())
    /// ```
    pub fn uid(&self) -> Option<u32> {
        self.has_sender().then_some(self.uid)
    }

    /// The value sent with `sigqueue(3)` (`sival_ptr`, or `sival_int` widened), a timer's or
    /// a message queue's value; `None` for other causes.
    ///
    /// ```
    /// # use sigchan::{SigInfo, SIGUSR1};
    /// # let (tx, rx) = sigchan::channel::bounded::<SigInfo>(1);
    /// # sigchan::notify_info(&tx, &[SIGUSR1])?;
    /// # unsafe { libc::kill(libc::getpid(), libc::SIGUSR1) };
    /// let info = rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap();
    /// assert_eq!(info.value(), None); // kill carries no value
    /// # sigchan::stop(&tx);
    /// # Ok::<(), sigchan::Error>(())
    /// ```
    pub fn value(&self) -> Option<usize> {
        matches!(
            self.cause(),
            Cause::Sigqueue | Cause::Timer | Cause::MessageQueue
        )
        .then_some(self.value as usize)
    }

    /// True when the ring was full and this arrival's origin is unknown
    /// (the same as `cause() == Cause::Lost`).
    ///
    /// ```
    /// # use sigchan::{SigInfo, SIGUSR1};
    /// # let (tx, rx) = sigchan::channel::bounded::<SigInfo>(1);
    /// # sigchan::notify_info(&tx, &[SIGUSR1])?;
    /// # unsafe { libc::kill(libc::getpid(), libc::SIGUSR1) };
    /// let info = rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap();
    /// assert!(!info.origin_lost());
    /// # sigchan::stop(&tx);
    /// # Ok::<(), sigchan::Error>(())
    /// ```
    pub fn origin_lost(&self) -> bool {
        self.lost
    }

    /// The sending process's name from `/proc/PID/comm`, best effort: `None` when the pid is
    /// unknown or the process has gone. The process may have exited and its pid been reused
    /// between the signal and this call, so treat the name as a hint for logs, not for
    /// security decisions. Reads a file: call it from your receiving thread, as here.
    ///
    /// ```
    /// # use sigchan::{SigInfo, SIGUSR1};
    /// # let (tx, rx) = sigchan::channel::bounded::<SigInfo>(1);
    /// # sigchan::notify_info(&tx, &[SIGUSR1])?;
    /// # unsafe { libc::kill(libc::getpid(), libc::SIGUSR1) };
    /// let info = rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap();
    /// let me = std::fs::read_to_string("/proc/self/comm").unwrap();
    /// assert_eq!(info.sender_name().as_deref(), Some(me.trim_end()));
    /// # sigchan::stop(&tx);
    /// # Ok::<(), sigchan::Error>(())
    /// ```
    pub fn sender_name(&self) -> Option<String> {
        let pid = self.pid().filter(|&p| p > 0)?;
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
        Some(comm.trim_end_matches('\n').to_owned())
    }
}

impl From<SigInfo> for Signal {
    fn from(info: SigInfo) -> Signal {
        info.signal
    }
}
