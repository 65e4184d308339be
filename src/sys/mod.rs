//! The raw kernel interface: `rt_sigaction` with sigchan's own restorer, `rt_sigprocmask`,
//! `futex`, `tgkill`, with the kernel's own structure layouts.
//!
//! Everything here but `pthread.rs` is a direct system call or a fixed kernel fact: no libc
//! wrapper, no errno, no allocation. That makes each function async-signal-safe (the handler
//! uses `sigaction_get`/`sigaction_set`, `futex_wake`, `getpid`, `gettid`, `tgkill`, `kill`,
//! `tgsigqueueinfo`, `errno_location` and `ucontext::unblock_on_return`; the signal thread
//! takes signals with `sigtimedwait`) and keeps the C library's wrappers,
//! which rewrite masks and install their own restorer, out of the way. Calls that fail return
//! `Err(Errno)` (the kernel's `-errno`); `futex_*`, `getpid` and `gettid` cannot fail and
//! return nothing to check.
//!
//! Per-architecture code lives in one file per architecture (`x86_64.rs`, `aarch64.rs`,
//! `x86.rs`, `arm.rs`, `riscv64.rs`, `powerpc64.rs`, `s390x.rs`): the syscall instruction and
//! numbers (aarch64 and riscv64 take theirs from the kernel's generic table,
//! `asm_generic.rs`), why a handler returns the way it does there, and where `uc_sigmask`
//! is. `layout.rs` holds the kernel's `struct sigaction` and signal set in each
//! architecture's word size and byte order,
//! with every layout fact checked against libc at compile time; `ucontext.rs` the one frame
//! field the handler edits; `signo.rs` the kernel's facts about signal numbers; `pthread.rs`
//! the three libc thread calls the runtime needs (not async-signal-safe, never used by the
//! handler); this file is the same everywhere.

#[cfg(target_arch = "aarch64")]
#[path = "aarch64.rs"]
mod arch;
#[cfg(target_arch = "arm")]
#[path = "arm.rs"]
mod arch;
#[cfg(target_arch = "powerpc64")]
#[path = "powerpc64.rs"]
mod arch;
#[cfg(target_arch = "riscv64")]
#[path = "riscv64.rs"]
mod arch;
#[cfg(target_arch = "s390x")]
#[path = "s390x.rs"]
mod arch;
#[cfg(target_arch = "x86")]
#[path = "x86.rs"]
mod arch;
#[cfg(target_arch = "x86_64")]
#[path = "x86_64.rs"]
mod arch;

#[cfg(any(target_arch = "aarch64", target_arch = "riscv64"))]
mod asm_generic;
mod layout;
pub mod pthread;
pub mod restorer;
pub mod signo;
pub mod ucontext;

use core::ptr;
use core::sync::atomic::AtomicU32;
use layout::{RawSigaction, RawSigset};

/// How a handler returns to the interrupted code on this architecture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Return {
    /// Through `sa_restorer`, sigchan's trampoline from `asm/` (`restorer.rs`).
    Restorer,
    /// Through a trampoline the kernel provides (the vDSO's); the ABI has no `SA_RESTORER`, or
    /// the kernel ignores it.
    Kernel,
}

/// How a handler returns here: decided once, by `build.rs` (`cfg(sigchan_restorer)` where
/// `asm/` has a trampoline); each architecture's file says why.
pub const RETURN: Return = if cfg!(sigchan_restorer) {
    Return::Restorer
} else {
    Return::Kernel
};

/// `SA_RESTORER` (the kernel reads `sa_restorer`; the same value on every architecture that
/// has it), or 0 where handlers return through the kernel's trampoline.
pub const SA_RESTORER: u64 = match RETURN {
    Return::Restorer => 0x0400_0000,
    Return::Kernel => 0,
};
/// The flags every sigchan handler is installed with.
pub const HANDLER_FLAGS: u64 =
    (libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_RESTART) as u64 | SA_RESTORER;

/// `SIG_DFL` and `SIG_IGN` as handler values.
pub const SIG_DFL: usize = 0;
pub const SIG_IGN: usize = 1;

/// Whether a handler value is a function (neither `SIG_DFL` nor `SIG_IGN`).
pub const fn is_function(handler: usize) -> bool {
    handler != SIG_DFL && handler != SIG_IGN
}

/// A disposition as the kernel's `struct sigaction` holds it, in fixed-width fields whatever
/// the architecture (`layout::RawSigaction` is the kernel's own layout, converted at the
/// system call): not the C library's, whose mask is 128 bytes and whose field order differs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KernelSigaction {
    /// Handler address, or `SIG_DFL` / `SIG_IGN`.
    pub handler: usize,
    /// `SA_*` flags (an `unsigned long` in the kernel).
    pub flags: u64,
    /// The return trampoline: sigchan's own actions set 0 where `RETURN` is `Kernel`; on
    /// riscv64, which has no such field, it always reads 0.
    pub restorer: usize,
    /// Bit `n - 1` blocks signal `n` while the handler runs.
    pub mask: u64,
}

/// A signal set as a value: bit `n - 1` is signal `n` (`layout::RawSigset` is the kernel's
/// words).
pub type RawSet = u64;

/// An errno value returned by a failed raw call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Errno(pub i32);

impl From<Errno> for std::io::Error {
    fn from(e: Errno) -> Self {
        std::io::Error::from_raw_os_error(e.0)
    }
}

#[inline(always)]
fn check(ret: isize) -> Result<usize, Errno> {
    if (-4095..0).contains(&ret) {
        Err(Errno(-ret as i32))
    } else {
        Ok(ret as usize)
    }
}

/// `rt_sigaction(sig, NULL, old)`: the current action of `sig`.
pub fn sigaction_get(sig: i32) -> Result<KernelSigaction, Errno> {
    // SAFETY: a null `new` changes nothing, so no handler contract applies.
    unsafe { rt_sigaction(sig, None) }
}

/// `rt_sigaction(sig, new, old)`: installs `new` and returns the previous action.
///
/// # Safety
/// `new.handler` is `SIG_DFL`, `SIG_IGN`, or the address of an `extern "C"` function with
/// the signature its flags announce (three arguments with `SA_SIGINFO`, else one) that is
/// async-signal-safe; with `SA_RESTORER`, `new.restorer` is code that issues `rt_sigreturn`
/// (`restorer::address()`). The kernel jumps to both addresses as they are.
pub unsafe fn sigaction_set(sig: i32, new: &KernelSigaction) -> Result<KernelSigaction, Errno> {
    // SAFETY: the caller vouches for the handler and restorer in `new`.
    unsafe { rt_sigaction(sig, Some(new)) }
}

/// # Safety
/// As for `sigaction_set` when `new` is given.
unsafe fn rt_sigaction(sig: i32, new: Option<&KernelSigaction>) -> Result<KernelSigaction, Errno> {
    let mut old = RawSigaction::default();
    let new = new.map(RawSigaction::from);
    let new_ptr = new
        .as_ref()
        .map_or(ptr::null(), |n| n as *const RawSigaction);
    // SAFETY: both pointers are null or point to live RawSigaction values, the layout the
    // kernel expects on this architecture; the set size argument is the kernel's 8-byte
    // sigset. The caller vouches for the addresses inside `new`.
    let ret = unsafe {
        arch::syscall4(
            arch::RT_SIGACTION,
            sig as usize,
            new_ptr as usize,
            &mut old as *mut _ as usize,
            layout::SIGSET_BYTES,
        )
    };
    check(ret).map(|_| KernelSigaction::from(&old))
}

/// `rt_sigprocmask(how, set, old)` for the calling thread; returns the previous mask.
fn sigprocmask(how: i32, set: Option<RawSet>) -> Result<RawSet, Errno> {
    let mut old = RawSigset::default();
    let set = set.map(RawSigset::from_set);
    let set_ptr = set.as_ref().map_or(ptr::null(), |s| s as *const RawSigset);
    // SAFETY: set_ptr is null or points to a live kernel sigset (its size passed as
    // SIGSET_BYTES); old is a live kernel sigset the kernel writes.
    let ret = unsafe {
        arch::syscall4(
            arch::RT_SIGPROCMASK,
            how as usize,
            set_ptr as usize,
            &mut old as *mut _ as usize,
            layout::SIGSET_BYTES,
        )
    };
    check(ret).map(|_| old.to_set())
}

/// Blocks `set` in the calling thread, returning the previous mask.
pub fn mask_block(set: RawSet) -> Result<RawSet, Errno> {
    sigprocmask(libc::SIG_BLOCK, Some(set))
}

/// Unblocks `set` in the calling thread, returning the previous mask.
pub fn mask_unblock(set: RawSet) -> Result<RawSet, Errno> {
    sigprocmask(libc::SIG_UNBLOCK, Some(set))
}

/// Replaces the calling thread's mask, returning the previous one.
pub fn mask_set(set: RawSet) -> Result<RawSet, Errno> {
    sigprocmask(libc::SIG_SETMASK, Some(set))
}

const FUTEX_WAIT_PRIVATE: usize = 128;
const FUTEX_WAKE_PRIVATE: usize = 129;

/// Sleeps while `*word == expected`. Returns on a wake, a signal, a spurious wake-up, or at
/// once if the value differs: callers always re-check their condition.
pub fn futex_wait(word: &AtomicU32, expected: u32) {
    // SAFETY: word is a live, aligned u32 for the duration of the call (a reference); a null
    // timeout means no timeout.
    unsafe {
        arch::syscall4(
            arch::FUTEX,
            word.as_ptr() as usize,
            FUTEX_WAIT_PRIVATE,
            expected as usize,
            0,
        );
    }
}

/// Wakes up to `n` threads sleeping in `futex_wait` on `word`.
pub fn futex_wake(word: &AtomicU32, n: u32) {
    // SAFETY: futex wake only uses the address as a key; word is a live u32 (a reference).
    unsafe {
        arch::syscall4(
            arch::FUTEX,
            word.as_ptr() as usize,
            FUTEX_WAKE_PRIVATE,
            n as usize,
            0,
        );
    }
}

/// `getpid()` without libc.
pub fn getpid() -> i32 {
    // SAFETY: getpid takes no arguments and cannot fail.
    unsafe { arch::syscall4(arch::GETPID, 0, 0, 0, 0) as i32 }
}

/// `gettid()` without libc.
pub fn gettid() -> i32 {
    // SAFETY: gettid takes no arguments and cannot fail.
    unsafe { arch::syscall4(arch::GETTID, 0, 0, 0, 0) as i32 }
}

/// `tgkill(tgid, tid, sig)`: sends `sig` to one thread.
pub fn tgkill(tgid: i32, tid: i32, sig: i32) -> Result<(), Errno> {
    // SAFETY: integer arguments only.
    check(unsafe { arch::syscall4(arch::TGKILL, tgid as usize, tid as usize, sig as usize, 0) })
        .map(|_| ())
}

/// `rt_sigtimedwait(set, info, timeout)`: takes one signal of `set` pending for the process
/// or the calling thread, without running a handler (no signal frame), and fills `info` with
/// its siginfo. `wait` true sleeps until one is pending (no timeout); false returns
/// `Err(EAGAIN)` at once when none is. `Err(EINTR)` when a handler ran on this thread
/// meanwhile. The signals of `set` should be blocked in the calling thread, or the kernel may
/// deliver them to a handler instead.
pub fn sigtimedwait(set: RawSet, info: &mut libc::siginfo_t, wait: bool) -> Result<i32, Errno> {
    let set = RawSigset::from_set(set);
    // A zero `struct timespec` in the layout of this system call's era: two longs, on 32-bit
    // architectures the old 32-bit one `rt_sigtimedwait` (not `_time64`) takes.
    let now: [libc::c_long; 2] = [0, 0];
    let timeout = if wait { ptr::null() } else { &now as *const _ };
    // SAFETY: set is a live kernel sigset of SIGSET_BYTES; info a live 128-byte siginfo_t the
    // kernel writes; timeout null or a live zero timespec of the kernel's old layout.
    check(unsafe {
        arch::syscall4(
            arch::RT_SIGTIMEDWAIT,
            &set as *const RawSigset as usize,
            info as *mut libc::siginfo_t as usize,
            timeout as usize,
            layout::SIGSET_BYTES,
        )
    })
    .map(|sig| sig as i32)
}

/// `rt_tgsigqueueinfo(tgid, tid, sig, info)`: queues `sig` with the siginfo `info` to one
/// thread. The kernel takes a negative `si_code` (`SI_QUEUE`) from anyone allowed to signal,
/// and any `si_code` only when a thread sends to itself (re-queueing a taken signal as it
/// came).
///
/// # Safety
/// `info` must point to 128 readable bytes laid out as the kernel's `siginfo_t`.
pub unsafe fn tgsigqueueinfo(
    tgid: i32,
    tid: i32,
    sig: i32,
    info: *const libc::siginfo_t,
) -> Result<(), Errno> {
    // SAFETY: the caller vouches for info; the rest are integers.
    check(unsafe {
        arch::syscall4(
            arch::RT_TGSIGQUEUEINFO,
            tgid as usize,
            tid as usize,
            sig as usize,
            info as usize,
        )
    })
    .map(|_| ())
}

/// `kill(pid, sig)`: sends `sig` to a process.
pub fn kill(pid: i32, sig: i32) -> Result<(), Errno> {
    // SAFETY: integer arguments only.
    check(unsafe { arch::syscall4(arch::KILL, pid as usize, sig as usize, 0, 0) }).map(|_| ())
}

/// Adds 1 to the counter of the eventfd `fd` (`write(2)` of one `u64`), making it readable.
/// The handler's wake-up of an fd receiver (`crate::fd`). `EAGAIN` (the counter at its
/// maximum) still leaves it readable.
#[inline(always)]
pub fn eventfd_add_one(fd: i32) -> Result<(), Errno> {
    let one: u64 = 1;
    // SAFETY: `one` is a live u64 for the duration of the call; the kernel reads 8 bytes.
    check(unsafe { arch::syscall4(arch::WRITE, fd as usize, &one as *const u64 as usize, 8, 0) })
        .map(|_| ())
}

/// `pidfd_send_signal` and `pidfd_open`: numbers from the kernel's unified table (5.1 and
/// later), the same on every architecture sigchan supports (checked against libc's in
/// `layout.rs`).
pub const PIDFD_SEND_SIGNAL: usize = 424;
pub const PIDFD_OPEN: usize = 434;

/// `si_code` of a `sigqueue(3)` arrival.
pub const SI_QUEUE: i32 = -1;

/// A `siginfo_t` as `sigqueue(3)` fills it: the header, then `si_pid`, `si_uid` and the
/// pointer-sized `si_value` at the start of the union (at 16 on 64-bit, 12 on 32-bit, as the
/// kernel aligns it); the rest zero. Checked against libc's accessors in `layout.rs`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct QueuedSiginfo {
    pub signo: i32,
    pub errno: i32,
    pub code: i32,
    #[cfg(target_pointer_width = "64")]
    pad: i32,
    pub pid: i32,
    pub uid: u32,
    pub value: usize,
    rest: [u8; QUEUED_SIGINFO_REST],
}

/// 128 bytes in all: after five ints and a word (plus the padding int on 64-bit).
const QUEUED_SIGINFO_REST: usize = if cfg!(target_pointer_width = "64") {
    96
} else {
    104
};

impl QueuedSiginfo {
    /// What `sigqueue(pid, signo, value)` called by process `pid`, user `uid`, sends.
    pub const fn new(signo: i32, pid: i32, uid: u32, value: usize) -> QueuedSiginfo {
        QueuedSiginfo {
            signo,
            errno: 0,
            code: SI_QUEUE,
            #[cfg(target_pointer_width = "64")]
            pad: 0,
            pid,
            uid,
            value,
            rest: [0; QUEUED_SIGINFO_REST],
        }
    }
}

/// `pidfd_send_signal(fd, sig, info, 0)`: sends `sig` to the process `fd` refers to (it cannot
/// have been replaced by another process with a reused pid). Without `info` the arrival looks
/// like a `kill`; with it, like a `sigqueue` carrying its value (the kernel accepts a negative
/// `si_code` such as `SI_QUEUE` from another process).
pub fn pidfd_send_signal(fd: i32, sig: i32, info: Option<&QueuedSiginfo>) -> Result<(), Errno> {
    let info = info.map_or(ptr::null(), |i| i as *const QueuedSiginfo);
    // SAFETY: info is null or a live 128-byte siginfo_t in the kernel's layout.
    check(unsafe {
        arch::syscall4(
            PIDFD_SEND_SIGNAL,
            fd as usize,
            sig as usize,
            info as usize,
            0,
        )
    })
    .map(|_| ())
}

/// `pidfd_open(pid, 0)`: a file descriptor (close-on-exec) that refers to process `pid`.
pub fn pidfd_open(pid: i32) -> Result<i32, Errno> {
    // SAFETY: integer arguments only.
    check(unsafe { arch::syscall4(PIDFD_OPEN, pid as usize, 0, 0, 0) }).map(|fd| fd as i32)
}

/// The calling thread's `errno`, to save and restore around a handler.
pub fn errno_location() -> *mut i32 {
    // SAFETY: __errno_location takes no argument and returns the address of the calling
    // thread's errno, valid for the thread's life; glibc computes it from the thread pointer
    // (initial-exec TLS), allocating nothing, so it is safe in a handler.
    unsafe { libc::__errno_location() }
}
