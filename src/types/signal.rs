//! `Signal` and `SignalSet`: numbers, names, parsing and classification.

use super::error::Error;
use crate::sys::signo::MAX_SIGNAL;
use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// A Linux signal number, `1..=64`.
///
/// `Display` and `Debug` print the conventional name (`SIGINT`, `SIGRTMIN+3`, `SIGRTMAX-1`);
/// `FromStr` accepts `SIGINT`, `INT`, `sigint`, `2`, `SIGRTMIN+3` and `SIGRTMAX-1`.
/// A `Signal` can name any signal, including `SIGKILL` and glibc's reserved 32 and 33; the calls
/// that change dispositions reject those with [`Error::Uncatchable`] or [`Error::Reserved`].
///
/// ```
/// use sigchan::{Signal, SIGINT};
/// let sig: Signal = "int".parse()?;
/// assert_eq!(sig, SIGINT);
/// assert_eq!(sig.as_raw(), 2);
/// assert_eq!(sig.to_string(), "SIGINT");
/// assert_eq!(Signal::rtmin(3)?.to_string(), "SIGRTMIN+3");
/// # Ok::<(), sigchan::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Signal(u8);

/// Names of the classic signals 1..=31, without the `SIG` prefix; index = number - 1.
const NAMES: [&str; 31] = [
    "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
    "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
    "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
];

/// Other names Linux accepts for the same numbers.
const ALIASES: [(&str, i32); 4] = [("IOT", 6), ("POLL", 29), ("CLD", 17), ("UNUSED", 31)];

/// The first real-time signal available to programs (34 on glibc: 32 and 33 are its own).
pub(crate) fn rtmin() -> i32 {
    libc::SIGRTMIN()
}

/// The C library's reserved signals the program took for sigchan (`claim_reserved`).
static CLAIMED: AtomicU64 = AtomicU64::new(0);

/// Marks `sig`, one of the C library's reserved signals, as sigchan's to handle.
pub(crate) fn claim(sig: Signal) -> Result<(), Error> {
    let n = sig.as_raw();
    if !(32..rtmin()).contains(&n) {
        return Err(Error::Invalid(n));
    }
    CLAIMED.fetch_or(sig.bit(), Relaxed);
    Ok(())
}

/// The last real-time signal (64).
pub(crate) fn rtmax() -> i32 {
    libc::SIGRTMAX()
}

impl Signal {
    /// The signal with number `n`.
    ///
    /// Fails with [`Error::Invalid`] unless `1 <= n <= 64`.
    ///
    /// ```
    /// use sigchan::{Error, Signal, SIGTERM};
    /// assert_eq!(Signal::new(15)?, SIGTERM);
    /// assert!(matches!(Signal::new(0), Err(Error::Invalid(0))));
    /// assert!(matches!(Signal::new(65), Err(Error::Invalid(65))));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn new(n: i32) -> Result<Signal, Error> {
        if (1..=MAX_SIGNAL).contains(&n) {
            Ok(Signal(n as u8))
        } else {
            Err(Error::Invalid(n))
        }
    }

    pub(crate) const fn from_raw_unchecked(n: i32) -> Signal {
        Signal(n as u8)
    }

    /// `SIGRTMIN+n`, the program's `n`-th real-time signal.
    ///
    /// Fails with [`Error::Invalid`] when `SIGRTMIN+n` is beyond `SIGRTMAX` (30 on glibc).
    ///
    /// ```
    /// use sigchan::Signal;
    /// let first = Signal::rtmin(0)?;
    /// assert_eq!(first.as_raw(), libc::SIGRTMIN());
    /// assert!(Signal::rtmin(31).is_err());
    /// # Ok::<(), sigchan::Error>(())
    /// ```
    pub fn rtmin(n: u32) -> Result<Signal, Error> {
        let raw = rtmin().saturating_add(n.min(i32::MAX as u32) as i32);
        if raw > rtmax() {
            return Err(Error::Invalid(raw));
        }
        Signal::new(raw)
    }

    /// The signal's number, as the kernel and libc take it.
    ///
    /// ```
    /// assert_eq!(sigchan::SIGHUP.as_raw(), libc::SIGHUP);
    /// ```
    pub const fn as_raw(self) -> i32 {
        self.0 as i32
    }

    /// True for `SIGRTMIN..=SIGRTMAX`, the queued real-time signals programs may use.
    ///
    /// ```
    /// assert!(sigchan::Signal::rtmin(1)?.is_realtime());
    /// assert!(!sigchan::SIGUSR1.is_realtime());
    /// # Ok::<(), sigchan::Error>(())
    /// ```
    pub fn is_realtime(self) -> bool {
        (rtmin()..=rtmax()).contains(&self.as_raw())
    }

    /// True for the signals the kernel raises for a fault in the running instruction
    /// (`SIGSEGV`, `SIGBUS`, `SIGFPE`, `SIGILL`, `SIGTRAP`, `SIGSYS`). Sigchan delivers only the
    /// ones another process sent; a real fault still crashes the process.
    ///
    /// ```
    /// assert!(sigchan::SIGSEGV.is_synchronous());
    /// assert!(!sigchan::SIGTERM.is_synchronous());
    /// ```
    pub const fn is_synchronous(self) -> bool {
        crate::sys::signo::is_synchronous(self.as_raw())
    }

    /// True unless the signal is `SIGKILL`, `SIGSTOP`, or reserved by the C library: the
    /// signals `notify`, `ignore` and `reset` accept.
    ///
    /// ```
    /// assert!(sigchan::SIGINT.is_catchable());
    /// assert!(!sigchan::SIGKILL.is_catchable());
    /// ```
    pub fn is_catchable(self) -> bool {
        self.check_catchable().is_ok()
    }

    /// `Ok` for a signal sigchan may handle, otherwise the precise reason.
    pub(crate) fn check_catchable(self) -> Result<Signal, Error> {
        let n = self.as_raw();
        if n == libc::SIGKILL || n == libc::SIGSTOP {
            Err(Error::Uncatchable(self))
        } else if n >= 32 && n < rtmin() && CLAIMED.load(Relaxed) & self.bit() == 0 {
            Err(Error::Reserved(self))
        } else {
            Ok(self)
        }
    }

    /// The bit of this signal in a kernel signal set.
    pub(crate) const fn bit(self) -> u64 {
        1u64 << (self.0 - 1)
    }

    /// This signal's index in a table of `sys::signo::TABLE_LEN` entries.
    pub(crate) const fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.as_raw();
        let (lo, hi) = (rtmin(), rtmax());
        if n <= 31 {
            write!(f, "SIG{}", NAMES[n as usize - 1])
        } else if n < lo {
            write!(f, "SIG{n}")
        } else if n == lo {
            f.write_str("SIGRTMIN")
        } else if n == hi {
            f.write_str("SIGRTMAX")
        } else if n - lo <= (hi - lo) / 2 {
            // The first half counts up from SIGRTMIN, the second down from SIGRTMAX, as
            // `kill -l` and glibc's strsignal print them.
            write!(f, "SIGRTMIN+{}", n - lo)
        } else {
            write!(f, "SIGRTMAX-{}", hi - n)
        }
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Signal {
    type Err = Error;

    /// Parses `SIGINT`, `INT`, `sigint`, `2`, `SIGRTMIN`, `SIGRTMIN+3`, `RTMAX-1`, `SIG32`.
    fn from_str(s: &str) -> Result<Signal, Error> {
        let unknown = || Error::UnknownName(s.to_owned());
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            return match s.parse::<i32>() {
                Ok(n) => Signal::new(n),
                Err(_) => Err(Error::Invalid(i32::MAX)),
            };
        }
        if !s.is_ascii() {
            return Err(unknown());
        }
        let upper = s.to_ascii_uppercase();
        let name = upper.strip_prefix("SIG").unwrap_or(&upper);
        if let Some(i) = NAMES.iter().position(|&n| n == name) {
            return Ok(Signal(i as u8 + 1));
        }
        if let Some(&(_, n)) = ALIASES.iter().find(|(a, _)| *a == name) {
            return Signal::new(n);
        }
        if upper.starts_with("SIG") && !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit())
        {
            // SIG32, SIG33: glibc's reserved signals have no other name.
            return name
                .parse::<i32>()
                .map_err(|_| unknown())
                .and_then(Signal::new);
        }
        let rt = |base: i32, rest: &str, sign: u8| -> Result<Signal, Error> {
            if rest.is_empty() {
                return Signal::new(base);
            }
            let (op, digits) = rest.split_at(1);
            if op.as_bytes()[0] != sign
                || digits.is_empty()
                || !digits.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(unknown());
            }
            let off: i32 = digits.parse().map_err(|_| unknown())?;
            let n = if sign == b'+' { base + off } else { base - off };
            if (rtmin()..=rtmax()).contains(&n) {
                Signal::new(n)
            } else {
                Err(Error::Invalid(n))
            }
        };
        if let Some(rest) = name.strip_prefix("RTMIN") {
            return rt(rtmin(), rest, b'+');
        }
        if let Some(rest) = name.strip_prefix("RTMAX") {
            return rt(rtmax(), rest, b'-');
        }
        Err(unknown())
    }
}

impl TryFrom<i32> for Signal {
    type Error = Error;
    fn try_from(n: i32) -> Result<Signal, Error> {
        Signal::new(n)
    }
}

impl From<Signal> for i32 {
    fn from(s: Signal) -> i32 {
        s.as_raw()
    }
}

/// A set of signals, as a 64-bit mask (bit `n - 1` is signal `n`). Iterates in ascending order.
///
/// ```
/// use sigchan::{SignalSet, SIGINT, SIGTERM};
/// let mut set: SignalSet = [SIGTERM, SIGINT].into_iter().collect();
/// assert!(set.contains(SIGINT));
/// assert_eq!(set.iter().collect::<Vec<_>>(), vec![SIGINT, SIGTERM]);
/// set.remove(SIGINT);
/// assert_eq!(set.len(), 1);
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct SignalSet(u64);

impl SignalSet {
    /// The empty set.
    ///
    /// ```
    /// assert!(sigchan::SignalSet::new().is_empty());
    /// ```
    pub const fn new() -> SignalSet {
        SignalSet(0)
    }

    /// Every signal `notify`, `ignore` and `reset` accept: all but `SIGKILL`, `SIGSTOP` and
    /// the C library's reserved signals. This is what an empty slice means in those calls.
    ///
    /// ```
    /// let all = sigchan::SignalSet::catchable();
    /// assert!(all.contains(sigchan::SIGINT) && !all.contains(sigchan::SIGKILL));
    /// ```
    pub fn catchable() -> SignalSet {
        (1..=MAX_SIGNAL)
            .map(Signal::from_raw_unchecked)
            .filter(|s| s.is_catchable())
            .collect()
    }

    /// The requests to end the process: what [`shutdown_on(&[])`](crate::shutdown_on)
    /// listens for. `SIGHUP`, `SIGINT`, `SIGQUIT`, `SIGTERM`, `SIGUSR1`, `SIGUSR2`,
    /// `SIGSTKFLT` and `SIGPWR`: every signal whose default action ends the process, except
    ///
    /// - those a process raises at itself in its normal work: `SIGPIPE` (a write to a closed
    ///   pipe), `SIGALRM`, `SIGVTALRM`, `SIGPROF` (its timers and profilers), `SIGIO`, and
    ///   `SIGXCPU`/`SIGXFSZ` (resource limits reached), and `SIGABRT` (`abort()`);
    /// - the real-time signals, which libraries use for their own timers and I/O;
    /// - the synchronous fault signals (a real fault must still crash);
    ///
    /// and never a signal whose default is to be ignored (`SIGCHLD`, `SIGWINCH`, `SIGURG`,
    /// `SIGCONT`) or to stop (`SIGTSTP`, `SIGTTIN`, `SIGTTOU`).
    ///
    /// ```
    /// use sigchan::{SignalSet, SIGCHLD, SIGINT, SIGPIPE, SIGTERM, SIGWINCH};
    /// let ends = SignalSet::termination_requests();
    /// assert!(ends.contains(SIGINT) && ends.contains(SIGTERM));
    /// assert!(!ends.contains(SIGCHLD) && !ends.contains(SIGWINCH) && !ends.contains(SIGPIPE));
    /// assert_eq!(ends.len(), 8);
    /// ```
    pub fn termination_requests() -> SignalSet {
        [
            libc::SIGHUP,
            libc::SIGINT,
            libc::SIGQUIT,
            libc::SIGTERM,
            libc::SIGUSR1,
            libc::SIGUSR2,
            libc::SIGSTKFLT,
            libc::SIGPWR,
        ]
        .into_iter()
        .map(Signal::from_raw_unchecked)
        .collect()
    }

    /// Adds `sig`; returns true if it was not there.
    ///
    /// ```
    /// let mut s = sigchan::SignalSet::new();
    /// assert!(s.insert(sigchan::SIGHUP));
    /// assert!(!s.insert(sigchan::SIGHUP));
    /// ```
    pub fn insert(&mut self, sig: Signal) -> bool {
        let had = self.contains(sig);
        self.0 |= sig.bit();
        !had
    }

    /// Removes `sig`; returns true if it was there.
    ///
    /// ```
    /// let mut s: sigchan::SignalSet = [sigchan::SIGHUP].into_iter().collect();
    /// assert!(s.remove(sigchan::SIGHUP));
    /// assert!(s.is_empty());
    /// ```
    pub fn remove(&mut self, sig: Signal) -> bool {
        let had = self.contains(sig);
        self.0 &= !sig.bit();
        had
    }

    /// True if `sig` is in the set.
    ///
    /// ```
    /// let s: sigchan::SignalSet = [sigchan::SIGHUP].into_iter().collect();
    /// assert!(s.contains(sigchan::SIGHUP));
    /// ```
    pub const fn contains(&self, sig: Signal) -> bool {
        self.0 & sig.bit() != 0
    }

    /// Number of signals in the set.
    ///
    /// ```
    /// assert_eq!(sigchan::SignalSet::new().len(), 0);
    /// ```
    pub const fn len(&self) -> usize {
        self.0.count_ones() as usize
    }

    /// True if the set holds no signal.
    ///
    /// ```
    /// assert!(sigchan::SignalSet::default().is_empty());
    /// ```
    pub const fn is_empty(&self) -> bool {
        self.0 == 0
    }

    /// The signals in ascending order.
    ///
    /// ```
    /// let s: sigchan::SignalSet = [sigchan::SIGTERM, sigchan::SIGHUP].into_iter().collect();
    /// assert_eq!(s.iter().next(), Some(sigchan::SIGHUP));
    /// ```
    pub fn iter(&self) -> SignalSetIter {
        SignalSetIter(self.0)
    }

    /// The kernel mask form: bit `n - 1` is signal `n`.
    ///
    /// ```
    /// let s: sigchan::SignalSet = [sigchan::SIGHUP].into_iter().collect();
    /// assert_eq!(s.as_raw_mask(), 1);
    /// ```
    pub const fn as_raw_mask(&self) -> u64 {
        self.0
    }

    /// The set whose kernel mask is `mask`.
    ///
    /// ```
    /// let s = sigchan::SignalSet::from_raw_mask(0b11);
    /// assert!(s.contains(sigchan::SIGHUP) && s.contains(sigchan::SIGINT));
    /// ```
    pub const fn from_raw_mask(mask: u64) -> SignalSet {
        SignalSet(mask)
    }
}

impl fmt::Debug for SignalSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl FromIterator<Signal> for SignalSet {
    fn from_iter<I: IntoIterator<Item = Signal>>(iter: I) -> SignalSet {
        let mut s = SignalSet::new();
        s.extend(iter);
        s
    }
}

impl Extend<Signal> for SignalSet {
    fn extend<I: IntoIterator<Item = Signal>>(&mut self, iter: I) {
        for sig in iter {
            self.insert(sig);
        }
    }
}

impl IntoIterator for SignalSet {
    type Item = Signal;
    type IntoIter = SignalSetIter;
    fn into_iter(self) -> SignalSetIter {
        self.iter()
    }
}

impl IntoIterator for &SignalSet {
    type Item = Signal;
    type IntoIter = SignalSetIter;
    fn into_iter(self) -> SignalSetIter {
        self.iter()
    }
}

/// Iterator over a [`SignalSet`], lowest number first.
///
/// ```
/// let set: sigchan::SignalSet = [sigchan::SIGTERM, sigchan::SIGHUP].into_iter().collect();
/// let mut it = set.iter();
/// assert_eq!(it.len(), 2);
/// assert_eq!(it.next(), Some(sigchan::SIGHUP));
/// assert_eq!(it.next(), Some(sigchan::SIGTERM));
/// assert_eq!(it.next(), None);
/// ```
#[derive(Clone, Debug)]
pub struct SignalSetIter(u64);

impl Iterator for SignalSetIter {
    type Item = Signal;
    fn next(&mut self) -> Option<Signal> {
        if self.0 == 0 {
            return None;
        }
        let i = self.0.trailing_zeros();
        self.0 &= self.0 - 1;
        Some(Signal((i + 1) as u8))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.0.count_ones() as usize;
        (n, Some(n))
    }
}

impl ExactSizeIterator for SignalSetIter {}

macro_rules! signal_consts {
    ($($name:ident = $num:expr, $doc:literal;)*) => {
        $(
            #[doc = $doc]
            #[doc = ""]
            #[doc = "```"]
            #[doc = concat!("assert_eq!(sigchan::", stringify!($name), ".as_raw(), libc::", stringify!($name), ");")]
            #[doc = concat!("assert_eq!(sigchan::", stringify!($name), ".to_string(), \"", stringify!($name), "\");")]
            #[doc = "```"]
            pub const $name: Signal = Signal::from_raw_unchecked($num);
        )*
    };
}

signal_consts! {
    SIGHUP = libc::SIGHUP, "Hang-up of the controlling terminal; by convention, reload configuration.";
    SIGINT = libc::SIGINT, "Interrupt from the keyboard (Ctrl-C).";
    SIGQUIT = libc::SIGQUIT, "Quit from the keyboard (`Ctrl-\\`); default action dumps core.";
    SIGILL = libc::SIGILL, "Illegal instruction (synchronous).";
    SIGTRAP = libc::SIGTRAP, "Trace or breakpoint trap (synchronous).";
    SIGABRT = libc::SIGABRT, "Abort, from `abort(3)`.";
    SIGBUS = libc::SIGBUS, "Bus error: bad memory access (synchronous).";
    SIGFPE = libc::SIGFPE, "Arithmetic exception (synchronous).";
    SIGKILL = libc::SIGKILL, "Kill; cannot be caught, blocked or ignored.";
    SIGUSR1 = libc::SIGUSR1, "User-defined signal 1.";
    SIGSEGV = libc::SIGSEGV, "Invalid memory reference (synchronous).";
    SIGUSR2 = libc::SIGUSR2, "User-defined signal 2.";
    SIGPIPE = libc::SIGPIPE, "Write to a pipe or socket with no reader (Rust's runtime ignores it).";
    SIGALRM = libc::SIGALRM, "Timer from `alarm(2)`.";
    SIGTERM = libc::SIGTERM, "Termination request; what `kill` sends by default.";
    SIGSTKFLT = libc::SIGSTKFLT, "Coprocessor stack fault (unused on Linux).";
    SIGCHLD = libc::SIGCHLD, "A child stopped, continued or terminated.";
    SIGCONT = libc::SIGCONT, "Continue if stopped.";
    SIGSTOP = libc::SIGSTOP, "Stop the process; cannot be caught, blocked or ignored.";
    SIGTSTP = libc::SIGTSTP, "Stop typed at the terminal (Ctrl-Z).";
    SIGTTIN = libc::SIGTTIN, "Terminal input for a background process.";
    SIGTTOU = libc::SIGTTOU, "Terminal output for a background process.";
    SIGURG = libc::SIGURG, "Urgent condition on a socket.";
    SIGXCPU = libc::SIGXCPU, "CPU time limit exceeded.";
    SIGXFSZ = libc::SIGXFSZ, "File size limit exceeded.";
    SIGVTALRM = libc::SIGVTALRM, "Virtual alarm clock.";
    SIGPROF = libc::SIGPROF, "Profiling timer expired.";
    SIGWINCH = libc::SIGWINCH, "Terminal window size changed.";
    SIGIO = libc::SIGIO, "I/O now possible (also `SIGPOLL`).";
    SIGPWR = libc::SIGPWR, "Power failure.";
    SIGSYS = libc::SIGSYS, "Bad system call, e.g. from seccomp (synchronous).";
}
