//! Signal context: everything sigchan's handler can reach, and nothing else.
//!
//! **The contract.** Code in this folder runs (or may run) inside a signal handler, at any
//! instruction of any thread, in a forked child before anything is set up, and on the signal
//! thread interrupting itself. It therefore uses only atomics and the raw system calls of
//! `crate::sys`: no allocation, lock, panic, formatting, thread-local beyond `errno`, or libc
//! call; `errno` is preserved. It imports nothing from sigchan but `crate::sys` and itself
//! (`tests/layering.rs` checks that, and `.ci/handler_reach.py` checks the compiled handler
//! calls nothing outside this folder and `sys`; docs/SAFETY.md lists both).
//!
//! Who writes what: the handler writes the queue, the ring, the arrival and forwarding
//! counters, the fd receivers' slots and eventfds (`poller`), and sends the signals it
//! forwards (`route`); the
//! signal thread (`crate::runtime`) drains the queue through [`queue::Queue::drain`] and
//! publishes what the handler reads: which signals are wanted (the queue), the dispositions
//! to fall back to (`original`), and where the signal thread lives (`receiver`).
//!
//! Go's counterpart: `runtime/signal_unix.go` (`sighandler`, `sigfwd`) and
//! `runtime/sigqueue.go`.

#[macro_use]
pub(crate) mod sync;
pub(crate) mod counters;
pub(crate) mod handler;
pub(crate) mod original;
pub(crate) mod poller;
pub(crate) mod queue;
pub(crate) mod receiver;
pub(crate) mod record;
pub(crate) mod ring;
pub(crate) mod route;

/// Records the ring between the handlers and the signal thread holds (`INFO_CAPACITY`).
pub(crate) const RING_CAPACITY: usize = 512;

/// The sigqueue with the capacity the crate uses.
pub(crate) type SigQueue = queue::Queue<RING_CAPACITY>;

/// The one sigqueue between every handler and the signal thread: a static, so the handler
/// never follows a pointer to reach it.
pub(crate) static QUEUE: SigQueue = queue::Queue::new();

/// Fd receivers that can exist at once: one bit each in a signal's poll mask.
pub(crate) const POLL_SLOTS: usize = 64;

/// Records an fd receiver's slot holds between two reads (`FD_INFO_CAPACITY`).
pub(crate) const SLOT_CAPACITY: usize = 64;

/// A fd receiver's slot as the crate sizes it.
pub(crate) type PollSlot = poller::Slot<SLOT_CAPACITY>;

/// The fd receivers' slots: a static, as `QUEUE`. Untouched slots cost address space only.
pub(crate) static POLLERS: [PollSlot; POLL_SLOTS] = [const { PollSlot::new() }; POLL_SLOTS];

/// What one drain of `QUEUE` took.
pub(crate) type SigDrain<'q> = queue::Drain<'q, RING_CAPACITY>;
