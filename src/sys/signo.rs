//! The kernel's facts about signal numbers (signal(7)): how many there are, which ones a
//! fault raises, and what `SIG_DFL` does with each. Constants and `const fn`s only.

/// The highest signal number on Linux (`_NSIG - 1`).
pub const MAX_SIGNAL: i32 = 64;

/// Length of a table indexed by signal number (index 0 unused).
pub const TABLE_LEN: usize = MAX_SIGNAL as usize + 1;

/// Fault signals: a kernel-generated instance (`si_code > 0`) comes from the thread's own
/// instruction, and only process-sent instances may be queued.
pub const fn is_synchronous(n: i32) -> bool {
    matches!(
        n,
        libc::SIGSEGV | libc::SIGBUS | libc::SIGFPE | libc::SIGILL | libc::SIGTRAP | libc::SIGSYS
    )
}

/// What the kernel does with a signal whose disposition is `SIG_DFL`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultAction {
    /// Discarded (CHLD, CONT, URG, WINCH).
    Ignore,
    /// Stops the process (STOP, TSTP, TTIN, TTOU).
    Stop,
    /// Terminates the process, with a core dump for some.
    Terminate,
}

/// `SIG_DFL`'s action for signal `n`.
pub const fn default_action(n: i32) -> DefaultAction {
    match n {
        libc::SIGCHLD | libc::SIGCONT | libc::SIGURG | libc::SIGWINCH => DefaultAction::Ignore,
        libc::SIGSTOP | libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU => DefaultAction::Stop,
        _ => DefaultAction::Terminate,
    }
}
