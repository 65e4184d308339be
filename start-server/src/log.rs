//! start_server's log lines, on stderr (or wherever --log-file sent it).
//!
//! Never `eprintln!`: it panics when stderr is gone (a `--log-file="| cmd"` whose command
//! exited gives EPIPE, SIGPIPE being ignored), and a supervisor must outlive its logger.

/// Writes one line to stderr, ignoring a failed write.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}
pub(crate) use say;
