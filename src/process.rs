//! Starting children that do not inherit sigchan's state.
//!
//! A child inherits its parent's signal mask and its ignored signals across `exec`; caught
//! signals go back to the default. After [`init`](crate::init), every thread but sigchan's
//! blocks the asynchronous signals, so a child started from any of them would start with
//! `SIGTERM`, `SIGINT`, `SIGHUP`, … blocked: it could not be stopped. Rust's
//! `std::process::Command` passes the calling thread's mask on (rust-lang/rust#101077), and
//! so do `posix_spawn`, `vfork`, `system()` and `tokio::process::Command`.
//!
//! What sigchan does by itself, and what it needs you for:
//!
//! | how the child is made | clean without you? | what to use |
//! |---|---|---|
//! | `libc::fork()` (+ exec) | yes: sigchan's fork handler unblocks what `init` blocked | [`restore_signals_in_child`] after the fork restores ignored dispositions too |
//! | `std::process::Command` | no: the mask is inherited | [`CommandExt::restore_signals`] |
//! | `tokio::process::Command` | no | [`CommandExt::restore_signals`], feature `tokio` |
//! | `posix_spawn` | no | `POSIX_SPAWN_SETSIGMASK` with [`child_mask`]: the mask only (below) |
//! | `syscall(SYS_fork)`, `clone`, `vfork`, `system()` | default mode: yes, until the child calls sigchan its subscribed signals take their original action; after `init`: no, no fork handler runs, the child keeps every signal blocked | [`restore_signals_in_child`] in the child, or a `Command` |
//!
//! "Restored" means the child starts with the mask and dispositions it would have had if the
//! program had never used sigchan: the signals `init` blocked are unblocked (a block the
//! program made itself stays); a signal sigchan catches goes back to what it was before
//! sigchan (so an inherited `SIG_IGN`, as under `nohup`, stays ignored, and anything else is
//! the default); a signal the program ignored with [`ignore`](crate::ignore) stays ignored.
//!
//! **`posix_spawn` recipe.** It restores the mask, not every disposition: `posix_spawn`
//! cannot set a disposition to `SIG_IGN`, only to the default, and `exec` gives every caught
//! signal the default. So a signal sigchan catches starts at the default in the child even
//! where it would have been ignored without sigchan: `SIGHUP` inherited ignored under
//! `nohup`, or a signal the program ignored itself before subscribing to it. Signals ignored
//! with [`ignore`](crate::ignore) (or never caught) stay ignored, as `exec` keeps `SIG_IGN`.
//! When a caught signal must stay ignored in the child, use `Command` with
//! [`CommandExt::restore_signals`] or fork + [`restore_signals_in_child`] instead
//! (`tests/children.rs` checks both behaviours). Set the mask:
//!
//! ```
//! use std::ffi::CString;
//! sigchan::init()?;
//! let mut attr: libc::posix_spawnattr_t = unsafe { std::mem::zeroed() };
//! let mask = sigchan::process::child_mask();
//! let prog = CString::new("/bin/true").unwrap();
//! let argv: [*const libc::c_char; 2] = [prog.as_ptr(), std::ptr::null()];
//! let mut pid = 0;
//! // SAFETY: attr is initialised before use and destroyed after; argv is null-terminated;
//! // a null environment pointer is replaced by an empty one.
//! unsafe {
//!     libc::posix_spawnattr_init(&mut attr);
//!     libc::posix_spawnattr_setsigmask(&mut attr, &mask);
//!     libc::posix_spawnattr_setflags(&mut attr, libc::POSIX_SPAWN_SETSIGMASK as _);
//!     let env: [*const libc::c_char; 1] = [std::ptr::null()];
//!     assert_eq!(libc::posix_spawn(&mut pid, prog.as_ptr(), std::ptr::null(), &attr,
//!         argv.as_ptr() as _, env.as_ptr() as _), 0);
//!     libc::posix_spawnattr_destroy(&mut attr);
//!     libc::waitpid(pid, std::ptr::null_mut(), 0);
//! }
//! # Ok::<(), sigchan::Error>(())
//! ```
//!
//! **Raw `fork` + `exec` recipe.** Between the two, call [`restore_signals_in_child`]:
//!
//! ```
//! sigchan::init()?;
//! let prog = std::ffi::CString::new("/bin/true").unwrap();
//! let argv: [*const libc::c_char; 2] = [prog.as_ptr(), std::ptr::null()];
//! // SAFETY: the child only makes async-signal-safe calls before exec or _exit.
//! unsafe {
//!     let pid = libc::fork();
//!     if pid == 0 {
//!         if sigchan::process::restore_signals_in_child().is_ok() {
//!             libc::execv(prog.as_ptr(), argv.as_ptr());
//!         }
//!         libc::_exit(127);
//!     }
//!     libc::waitpid(pid, std::ptr::null_mut(), 0);
//! }
//! # Ok::<(), sigchan::Error>(())
//! ```

use crate::runtime::init_mask::init_blocked;
use crate::sigctx::{handler, original};
use crate::sys::signo::MAX_SIGNAL;
use crate::sys::{self, KernelSigaction, SIG_DFL, SIG_IGN};
use std::io;

/// Starts children with the signal state they would have had without sigchan.
///
/// Implemented for `std::process::Command` and, with the feature `tokio`, for
/// `tokio::process::Command`. It adds a `pre_exec` step, so the command takes its fork
/// path rather than `posix_spawn` (one more page-table copy at spawn; nothing afterwards).
///
/// ```
/// use sigchan::process::CommandExt;
/// use std::process::Command;
///
/// sigchan::init()?;
/// let mut child = Command::new("sleep").arg("30").restore_signals().spawn()?;
/// unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
/// let status = child.wait()?;
/// use std::os::unix::process::ExitStatusExt;
/// assert_eq!(status.signal(), Some(libc::SIGTERM));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait CommandExt {
    /// In the child, before `exec`: unblock the signals [`init`](crate::init) blocked and
    /// put back the dispositions of the signals sigchan catches (see the
    /// [module docs](self)). Returns `self` for chaining.
    fn restore_signals(&mut self) -> &mut Self;
}

impl CommandExt for std::process::Command {
    fn restore_signals(&mut self) -> &mut Self {
        // SAFETY: the closure runs in the child between fork and exec, where only
        // async-signal-safe calls are allowed: it makes raw syscalls and reads atomics.
        unsafe { std::os::unix::process::CommandExt::pre_exec(self, || restore_signals_in_child()) }
    }
}

#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
impl CommandExt for tokio::process::Command {
    fn restore_signals(&mut self) -> &mut Self {
        // SAFETY: as for std's Command: raw syscalls and atomic loads only, in the child.
        unsafe { self.pre_exec(|| restore_signals_in_child()) }
    }
}

/// The mask a child should start with: the calling thread's, without the signals
/// [`init`](crate::init) blocked. For `posix_spawnattr_setsigmask`.
///
/// ```
/// sigchan::init()?;
/// let mask = sigchan::process::child_mask();
/// // SAFETY: reading a sigset_t sigchan filled.
/// assert_eq!(unsafe { libc::sigismember(&mask, libc::SIGTERM) }, 0);
/// # Ok::<(), sigchan::Error>(())
/// ```
pub fn child_mask() -> libc::sigset_t {
    let current = sys::mask_block(0).unwrap_or(0);
    let wanted = current & !init_blocked();
    // SAFETY: sigemptyset initialises the zeroed set; sigaddset is given signal numbers
    // 1..=64, all valid members.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for n in 1..=MAX_SIGNAL {
            if wanted & (1u64 << (n - 1)) != 0 {
                libc::sigaddset(&mut set, n);
            }
        }
        set
    }
}

/// Gives the calling process the signal state it would have had without sigchan: the
/// signals `init` blocked are unblocked in the calling thread, and every signal whose
/// handler is sigchan's gets back `SIG_IGN` if it had that before sigchan, else `SIG_DFL`.
///
/// Async-signal-safe (raw system calls and atomic loads only, no allocation or lock), so
/// it may run between `fork` and `exec`.
///
/// # Safety
/// Only for a child process that will `exec` (or exit) without using sigchan: in a process
/// that goes on using sigchan, its subscribed signals would no longer be caught.
///
/// # Errors
/// The kernel's error if a `rt_sigaction` or `rt_sigprocmask` call fails (it does not for
/// valid signal numbers). Made from the raw errno: no allocation.
pub unsafe fn restore_signals_in_child() -> io::Result<()> {
    let entry = handler::entry_address();
    for sig in 1..=MAX_SIGNAL {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            continue;
        }
        let current = sys::sigaction_get(sig)?;
        if current.handler != entry {
            continue;
        }
        let handler = if original::handler(sig) == SIG_IGN {
            SIG_IGN
        } else {
            SIG_DFL
        };
        let act = KernelSigaction {
            handler,
            ..KernelSigaction::default()
        };
        // SAFETY: SIG_DFL or SIG_IGN, no handler address.
        unsafe { sys::sigaction_set(sig, &act)? };
    }
    sys::mask_unblock(init_blocked())?;
    Ok(())
}
