//! Forwarding signals to another process where they land: a proxy, a supervisor or an init
//! passes the signals it receives on to its child without waking any thread of its own.
//!
//! A [`Forwarding`] gives a set of signals a route: sigchan's handler sends each arrival on
//! to the target (a process, through a pidfd, or a process group) from inside the handler,
//! with one system call, as tini and dumb-init do from their loops. No signal thread wakes
//! up, no channel is involved: the arrival costs the target's wake-up and nothing else. A
//! rewrite table sends another signal in place of one (SIGTERM as SIGQUIT, say) or
//! discards an arrival.
//!
//! The guarantees are a channel subscription's:
//! - **A racing stop loses nothing.** When [`Forwarding::stop`] (or the drop) returns,
//!   nothing more is forwarded; an arrival that raced it was either forwarded or took the
//!   signal's original action, exactly as for [`stop`](crate::stop). A hand-over between a
//!   channel and a forward of the same signal, in either order, never lets an arrival fall
//!   between them (sigqueue invariant 7, checked by loom).
//! - **Counted** in [`stats`](crate::stats): [`Stats::forwarded`](crate::Stats::forwarded),
//!   [`Stats::forward_failed`](crate::Stats::forward_failed) (the target is gone, or not
//!   ours to signal) and [`Stats::discarded`](crate::Stats::discarded).
//! - **Real-time signals** sent with `sigqueue(3)` arrive at a process target with their
//!   value (the kernel's `pidfd_send_signal` with `SI_QUEUE`, naming this process as the
//!   sender); each queued arrival is forwarded once, so none merge on the way. A process
//!   group cannot be sent a value: the group gets the bare signal (`kill(-pgid)`). Where the
//!   kernel (or an emulator: qemu-user) refuses the value, the bare signal is sent.
//! - **Pid reuse cannot misdirect it**: a process target is held by a pidfd, so once the
//!   child is reaped a late arrival fails (counted) instead of reaching a new process that
//!   took the pid. (Kernels before 5.3 have no pidfd: sigchan falls back to `kill(pid)`.)
//! - **Channels stay independent.** A signal can be forwarded and subscribed at once; a
//!   [`notify`](crate::notify) channel still receives it, and only channels wake the signal
//!   thread. [`ignore`](crate::ignore) and [`reset`](crate::reset) of a forwarded signal
//!   end its forward too, with the same guarantee.
//! - **`fork`**: a child does not forward its parent's routes (they are the parent's);
//!   there its signals take their original action until it forwards or subscribes itself.
//!
//! A signal has one route at a time: forwarding a signal that another `Forwarding` holds is
//! [`Error::AlreadyForwarded`].
//!
//! ```
//! use sigchan::forward::{Forward, Target};
//! use sigchan::{SIGHUP, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH};
//!
//! let mut child = std::process::Command::new("sleep").arg("60").spawn().unwrap();
//! let fwd = Forward::to(Target::Process(child.id()))
//!     .rewrite(SIGHUP, SIGTERM) // the child reloads on TERM
//!     .discard(SIGWINCH)
//!     .start(&[SIGHUP, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH])?;
//! sigchan::raise(SIGHUP)?; // any process sending us HUP: the child gets TERM
//! let status = child.wait().unwrap();
//! assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(libc::SIGTERM));
//! assert_eq!(sigchan::stats(SIGHUP).forwarded, 1);
//! fwd.stop();
//! # Ok::<(), sigchan::Error>(())
//! ```

use crate::runtime::registry;
use crate::runtime::sink::Sink;
use crate::sigctx::route::{self, Route, Via};
use crate::sys;
use crate::types::error::Error;
use crate::types::info::SigInfo;
use crate::types::signal::{Signal, SignalSet};
use crossbeam_channel::Sender;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// Where a [`Forward`] sends signals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// One process (held by a pidfd while forwarding). A `sigqueue` value travels along.
    Process(u32),
    /// Every process of a process group (`kill(-pgid, sig)`), as an init that placed its
    /// child in a group of its own forwards to the whole group.
    Group(u32),
}

/// A forward being set up: the target and the rewrite table. [`start`](Forward::start)
/// makes it a [`Forwarding`].
#[derive(Clone, Debug)]
pub struct Forward {
    target: Target,
    /// What to send for each signal number, if not itself; `None` discards it.
    rewrites: Vec<(Signal, Option<Signal>)>,
    /// A `notify_info` channel subscribed in the same step as the forward starts.
    tap: Option<(Sender<SigInfo>, Vec<Signal>)>,
}

impl Forward {
    /// A forward to `target` that sends every signal as it arrived.
    pub fn to(target: Target) -> Forward {
        Forward {
            target,
            rewrites: Vec::new(),
            tap: None,
        }
    }

    /// Also delivers each arrival of `sigs` to `tx`, as [`notify_info`](crate::notify_info)
    /// would, subscribed in the same step as the forward starts: no arrival can be forwarded
    /// before `tx` hears of it, not even one that was pending before `start` (the signals
    /// were blocked, say, while a child was spawned). For a supervisor that logs what it
    /// forwards or acts on some signals itself. `tx` stays subscribed after the forward
    /// stops; end it with [`stop`](crate::stop). `&[]` taps every signal forwarded.
    ///
    /// ```
    /// use sigchan::forward::{Forward, Target};
    /// let mut child = std::process::Command::new("sleep").arg("60").spawn().unwrap();
    /// let (tx, rx) = sigchan::channel::unbounded();
    /// let fwd = Forward::to(Target::Process(child.id()))
    ///     .tap(&tx, &[])
    ///     .start(&[sigchan::SIGTERM])?;
    /// sigchan::raise(sigchan::SIGTERM)?;
    /// let seen = rx.recv_timeout(std::time::Duration::from_secs(60)).unwrap();
    /// assert_eq!(seen.signal(), sigchan::SIGTERM);
    /// child.wait().unwrap();
    /// sigchan::stop(&tx);
    /// drop(fwd);
    /// # Ok::<(), sigchan::Error>(())
    /// ```
    pub fn tap(mut self, tx: &Sender<SigInfo>, sigs: &[Signal]) -> Forward {
        self.tap = Some((tx.clone(), sigs.to_vec()));
        self
    }

    /// Sends `to` in place of `from` (any signal, `SIGKILL` and `SIGSTOP` included). The
    /// last rewrite given for a signal wins.
    pub fn rewrite(mut self, from: Signal, to: Signal) -> Forward {
        self.rewrites.push((from, Some(to)));
        self
    }

    /// Drops arrivals of `sig` instead of forwarding them (counted as
    /// [`discarded`](crate::Stats::discarded)): caught, so they do not take their default
    /// action here either.
    pub fn discard(mut self, sig: Signal) -> Forward {
        self.rewrites.push((sig, None));
        self
    }

    /// What arrivals of `sig` are sent as (0: discarded).
    fn sent_for(&self, sig: Signal) -> i32 {
        self.rewrites
            .iter()
            .rev()
            .find(|(from, _)| *from == sig)
            .map_or(sig.as_raw(), |(_, to)| to.map_or(0, |s| s.as_raw()))
    }

    /// Starts forwarding `sigs` (`&[]`: every catchable signal) and returns the handle that
    /// ends it. When it returns, every arrival of them is forwarded.
    ///
    /// # Errors
    /// Nothing changes on an error. [`Error::Uncatchable`], [`Error::Reserved`] or
    /// [`Error::Invalid`] for a signal that cannot be caught (forwarded or tapped);
    /// [`Error::AlreadyForwarded`] if
    /// another `Forwarding` holds one of them; [`Error::BadTarget`] for target 0 or above
    /// `i32::MAX`; [`Error::Os`] if the process does not exist (`ESRCH`) or the signal
    /// thread cannot be started.
    ///
    /// ```
    /// use sigchan::forward::{Forward, Target};
    /// let err = Forward::to(Target::Process(0)).start(&[sigchan::SIGUSR1]).unwrap_err();
    /// assert!(matches!(err, sigchan::Error::BadTarget(0)));
    /// ```
    pub fn start(&self, sigs: &[Signal]) -> Result<Forwarding, Error> {
        let set = registry::validate(sigs)?;
        let tap = match &self.tap {
            Some((tx, tapped)) if tapped.is_empty() => Some((Sink::Info(tx.clone()), set)),
            Some((tx, tapped)) => Some((Sink::Info(tx.clone()), registry::validate(tapped)?)),
            None => None,
        };
        let (raw, group) = match self.target {
            Target::Process(p) => (p, false),
            Target::Group(g) => (g, true),
        };
        let id = i32::try_from(raw)
            .ok()
            .filter(|&p| p > 0)
            .ok_or(Error::BadTarget(raw))?;
        let (via, pidfd) = if group {
            (Via::Group(id), None)
        } else {
            match sys::pidfd_open(id) {
                Ok(fd) => {
                    // SAFETY: pidfd_open returned a new descriptor that nothing else owns.
                    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
                    (Via::Pidfd(fd), Some(owned))
                }
                Err(sys::Errno(libc::ENOSYS)) => {
                    // Before Linux 5.3: check the process exists, then forward by pid.
                    sys::kill(id, 0).map_err(|e| Error::Os(e.into()))?;
                    (Via::Pid(id), None)
                }
                Err(e) => return Err(Error::Os(e.into())),
            }
        };
        // SAFETY: getuid cannot fail and takes no pointer.
        route::set_sender_uid(unsafe { libc::getuid() });
        let route_of = |sig: Signal| {
            Route {
                via,
                send: self.sent_for(sig),
            }
            .encode()
        };
        let id = registry::forward(&set.iter().collect::<Vec<_>>(), route_of, tap)?;
        Ok(Forwarding {
            id,
            signals: set,
            target: self.target,
            pidfd,
        })
    }
}

/// Signals being forwarded (see the [module docs](self)). Dropping it stops the forward,
/// like [`stop`](Forwarding::stop).
#[derive(Debug)]
pub struct Forwarding {
    id: u64,
    signals: SignalSet,
    target: Target,
    /// The target process while forwarding; closed only after the routes are cleared and
    /// no handler can still be using it.
    pidfd: Option<OwnedFd>,
}

impl Forwarding {
    /// The signals this forward was started with (a later [`ignore`](crate::ignore) or
    /// [`reset`](crate::reset) may have ended some of them).
    pub fn signals(&self) -> SignalSet {
        self.signals
    }

    /// Where they go.
    pub fn target(&self) -> Target {
        self.target
    }

    /// The pidfd of a [`Target::Process`] (none for a group, or on kernels without pidfds):
    /// poll it to learn that the target has ended.
    pub fn pidfd(&self) -> Option<i32> {
        self.pidfd.as_ref().map(AsRawFd::as_raw_fd)
    }

    /// Stops forwarding. When it returns nothing more is forwarded, and each arrival that
    /// raced it was forwarded or took its original action; signals that no channel
    /// subscribes get back the disposition they had before sigchan.
    pub fn stop(self) {}
}

impl Drop for Forwarding {
    fn drop(&mut self) {
        registry::unforward(self.id);
        // `pidfd` closes after this: no handler can reach it any more.
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::signal::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};

    #[test]
    fn the_last_rewrite_of_a_signal_wins() {
        let f = Forward::to(Target::Group(1))
            .rewrite(SIGTERM, SIGQUIT)
            .discard(SIGHUP)
            .rewrite(SIGHUP, SIGINT);
        assert_eq!(f.sent_for(SIGTERM), SIGQUIT.as_raw());
        assert_eq!(f.sent_for(SIGHUP), SIGINT.as_raw());
        assert_eq!(f.sent_for(SIGINT), SIGINT.as_raw());
        assert_eq!(f.clone().discard(SIGINT).sent_for(SIGINT), 0);
    }
}
