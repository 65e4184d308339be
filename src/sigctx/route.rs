//! Forwarding routes (`crate::forward`): where the handler sends an arrival it forwards,
//! packed into the one word the sigqueue keeps per signal, and the forward itself.
//!
//! A route word: bits 0-31 the target (a pidfd, a pid or a process group id), bits 32-39 the
//! signal to send (0: discard the arrival), bits 40-41 how to reach the target. 0 is no route.

use super::counters::{DISCARDED, FORWARDED, FORWARD_FAILED};
use super::record::Record;
use crate::sys::{self, QueuedSiginfo, SI_QUEUE};
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

/// How the handler reaches a route's target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Via {
    /// `pidfd_send_signal` on this descriptor: immune to pid reuse, and carries a
    /// `sigqueue` value.
    Pidfd(i32),
    /// `kill(pid)`: kernels without pidfds.
    Pid(i32),
    /// `kill(-pgid)`: every process of the group.
    Group(i32),
}

/// One signal's route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Route {
    /// Where to.
    pub(crate) via: Via,
    /// The signal to send in place of the one that arrived; 0 discards the arrival.
    pub(crate) send: i32,
}

const PIDFD: u64 = 1;
const PID: u64 = 2;
const GROUP: u64 = 3;

impl Route {
    /// The route as the sigqueue stores it: never 0.
    pub(crate) fn encode(self) -> u64 {
        let (kind, target) = match self.via {
            Via::Pidfd(fd) => (PIDFD, fd),
            Via::Pid(pid) => (PID, pid),
            Via::Group(pgid) => (GROUP, pgid),
        };
        u64::from(target as u32) | (u64::from(self.send as u8) << 32) | (kind << 40)
    }

    /// The inverse of `encode`; `None` for 0 (or any word `encode` never makes).
    pub(crate) fn decode(word: u64) -> Option<Route> {
        let target = word as u32 as i32;
        let via = match (word >> 40) & 3 {
            PIDFD => Via::Pidfd(target),
            PID => Via::Pid(target),
            GROUP => Via::Group(target),
            _ => return None,
        };
        Some(Route {
            via,
            send: ((word >> 32) & 0xff) as i32,
        })
    }
}

/// The user id a forwarded `sigqueue` arrival names as its sender (the runtime sets it when
/// it starts a forward; the handler cannot ask the C library).
static SENDER_UID: AtomicU32 = AtomicU32::new(0);

pub(crate) fn set_sender_uid(uid: u32) {
    SENDER_UID.store(uid, Relaxed);
}

/// Handler side: forwards one arrival of `sig` (origin `rec`) along `word`, counting it as
/// forwarded, failed (the target is gone, or refuses us) or discarded. A `sigqueue` arrival
/// keeps its value when the target is a pidfd. Async-signal-safe: raw syscalls and atomics.
pub(crate) fn forward(word: u64, sig: i32, rec: &Record) {
    let Some(route) = Route::decode(word) else {
        return;
    };
    let sig = sig as usize;
    if route.send == 0 {
        DISCARDED.bump(sig);
        return;
    }
    let sent = match route.via {
        Via::Pidfd(fd) if rec.code == SI_QUEUE => {
            let info = QueuedSiginfo::new(
                route.send,
                sys::getpid(),
                SENDER_UID.load(Relaxed),
                rec.value as usize,
            );
            // Where the value cannot travel (qemu-user refuses the siginfo with EINVAL),
            // the signal still must: sent bare.
            match sys::pidfd_send_signal(fd, route.send, Some(&info)) {
                Err(sys::Errno(libc::EINVAL)) => sys::pidfd_send_signal(fd, route.send, None),
                sent => sent,
            }
        }
        Via::Pidfd(fd) => sys::pidfd_send_signal(fd, route.send, None),
        Via::Pid(pid) => sys::kill(pid, route.send),
        Via::Group(pgid) => sys::kill(-pgid, route.send),
    };
    match sent {
        Ok(()) => FORWARDED.bump(sig),
        Err(_) => FORWARD_FAILED.bump(sig),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_round_trip_through_their_word() {
        for via in [
            Via::Pidfd(3),
            Via::Pid(1),
            Via::Group(i32::MAX),
            Via::Pidfd(0),
        ] {
            for send in [0, 1, 15, 34, 64] {
                let r = Route { via, send };
                assert_ne!(r.encode(), 0);
                assert_eq!(Route::decode(r.encode()), Some(r));
            }
        }
        assert_eq!(Route::decode(0), None);
    }
}
