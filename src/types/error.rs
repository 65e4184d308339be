//! The crate's error type.

use super::signal::Signal;
use std::fmt;

/// What went wrong in a sigchan call.
///
/// A call that returns an error has changed nothing: every signal is checked before any
/// disposition, mask or subscription is touched.
///
/// ```
/// use sigchan::{Error, SIGKILL};
/// let (tx, _rx) = sigchan::channel::bounded(1);
/// match sigchan::notify(&tx, &[SIGKILL]) {
///     Err(Error::Uncatchable(sig)) => assert_eq!(sig, SIGKILL),
///     other => panic!("unexpected: {other:?}"),
/// }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The signal cannot be caught, blocked or ignored (`SIGKILL`, `SIGSTOP`).
    Uncatchable(Signal),
    /// The C library keeps this signal for itself (32 and 33 on glibc: thread cancellation and
    /// the set*id broadcast); anything between the kernel's 32 and `libc::SIGRTMIN()`.
    Reserved(Signal),
    /// Not a signal number on Linux: 0, negative, or above 64.
    Invalid(i32),
    /// A string that names no signal (from [`Signal`]'s `FromStr`).
    UnknownName(String),
    /// [`init`](crate::init) was called while other threads already run: they would keep
    /// the signals unblocked, so the masked-process mode would silently hold only for
    /// threads started later. `threads` counts the threads other than the caller and
    /// sigchan's own that do not already block every signal `init` blocks. Call `init`
    /// first in `main`, before spawning threads or building an async runtime.
    TooLate {
        /// How many other threads were running.
        threads: usize,
    },
    /// The signal is already forwarded by another [`Forwarding`](crate::forward::Forwarding):
    /// a signal has one route at a time.
    AlreadyForwarded(Signal),
    /// A forward's target names no process: 0, or above `i32::MAX`.
    BadTarget(u32),
    /// `limit` fd receivers ([`crate::fd`]) already exist; stop one before making another.
    TooManyFdReceivers {
        /// How many can exist at once.
        limit: usize,
    },
    /// The kernel refused a call.
    Os(std::io::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Uncatchable(s) => write!(f, "{s} cannot be caught, blocked or ignored"),
            Error::Reserved(s) => write!(
                f,
                "{s} is reserved by the C library for its own use (threads, set*id) and must not be handled"
            ),
            Error::Invalid(n) => write!(f, "{n} is not a signal number (Linux signals are 1..=64)"),
            Error::UnknownName(s) => write!(
                f,
                "{s:?} is not a signal name (try SIGINT, INT, 2, SIGRTMIN+3 or SIGRTMAX-1)"
            ),
            Error::TooLate { threads } => write!(
                f,
                "init() must run before any other thread starts, but {threads} other thread(s) \
                 already run and would keep receiving signals; call it first in main, before \
                 spawning threads or building an async runtime"
            ),
            Error::AlreadyForwarded(s) => write!(
                f,
                "{s} is already forwarded; stop that forward before starting another"
            ),
            Error::BadTarget(p) => write!(f, "{p} is not a process or process group id"),
            Error::TooManyFdReceivers { limit } => write!(
                f,
                "{limit} fd receivers already exist, the most sigchan keeps; stop one first"
            ),
            Error::Os(e) => write!(f, "the kernel refused a signal call: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Os(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Os(e)
    }
}

impl From<crate::sys::Errno> for Error {
    fn from(e: crate::sys::Errno) -> Self {
        Error::Os(e.into())
    }
}
