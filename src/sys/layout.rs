//! The kernel's `struct sigaction` and signal set as each architecture lays them out, and the
//! compile-time checks of every layout fact sigchan relies on against libc's definitions.
//!
//! The kernel's `struct sigaction` (`include/linux/signal_types.h`) is the handler, then the
//! flags as an `unsigned long`, then `sa_restorer` where the architecture has it (all but
//! riscv64), then the signal set: 64 bits as `unsigned long` words, word `i` holding signals
//! `32i + 1 ..` on 32-bit targets and one word on 64-bit ones. Words are handled as values,
//! so the byte order (s390x is big-endian) never matters.

use super::{arch, KernelSigaction, RawSet};
use core::mem::{offset_of, size_of};
use libc::{c_long, c_ulong};

/// Bytes in the kernel's signal set (`_NSIG / 8`): the size argument of `rt_sigaction` and
/// `rt_sigprocmask`.
pub const SIGSET_BYTES: usize = 8;

const WORD_BITS: usize = c_ulong::BITS as usize;
const WORDS: usize = 64 / WORD_BITS;

/// A kernel word as a 64-bit value (`unsigned long` is 32 bits on i686 and armv7, where the
/// conversion does something; clippy sees only the target it checks).
#[allow(clippy::useless_conversion)]
fn widen(w: c_ulong) -> u64 {
    u64::from(w)
}

/// The kernel's `sigset_t`: `unsigned long` words.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RawSigset([c_ulong; WORDS]);

impl RawSigset {
    /// The kernel's words for `set` (bit `n - 1` = signal `n`).
    pub fn from_set(set: RawSet) -> RawSigset {
        let mut words = [0; WORDS];
        for (i, w) in words.iter_mut().enumerate() {
            *w = (set >> (i * WORD_BITS)) as c_ulong;
        }
        RawSigset(words)
    }

    /// The set these words hold.
    pub fn to_set(self) -> RawSet {
        self.0
            .iter()
            .enumerate()
            .fold(0, |set, (i, &w)| set | widen(w) << (i * WORD_BITS))
    }
}

/// The kernel's `struct sigaction` on this architecture.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RawSigaction {
    handler: usize,
    flags: c_ulong,
    #[cfg(not(target_arch = "riscv64"))]
    restorer: usize,
    mask: RawSigset,
}

impl From<&KernelSigaction> for RawSigaction {
    fn from(a: &KernelSigaction) -> RawSigaction {
        RawSigaction {
            handler: a.handler,
            // Every SA_* flag fits the low 32 bits, so nothing is lost on 32-bit targets.
            flags: a.flags as c_ulong,
            #[cfg(not(target_arch = "riscv64"))]
            restorer: a.restorer,
            mask: RawSigset::from_set(a.mask),
        }
    }
}

impl From<&RawSigaction> for KernelSigaction {
    fn from(r: &RawSigaction) -> KernelSigaction {
        KernelSigaction {
            handler: r.handler,
            flags: widen(r.flags),
            #[cfg(not(target_arch = "riscv64"))]
            restorer: r.restorer,
            #[cfg(target_arch = "riscv64")]
            restorer: 0,
            mask: r.mask.to_set(),
        }
    }
}

// The signal set: 64 signals in whole words.
const _: () = assert!(size_of::<RawSigset>() == SIGSET_BYTES && WORDS * WORD_BITS == 64);
// `struct sigaction`: two or three words, then the set, with no padding (on armv7 a u64 mask
// would be 8-aligned and leave a hole; words avoid it).
const _: () = assert!(
    size_of::<RawSigaction>()
        == (if cfg!(target_arch = "riscv64") { 2 } else { 3 }) * size_of::<c_ulong>()
            + SIGSET_BYTES
);
const _: () = assert!(size_of::<usize>() == size_of::<c_ulong>());
// The one frame field the handler edits: where libc's ucontext_t keeps the mask (the C
// library's `sigset_t` is longer, but starts with the kernel's words).
const _: () = assert!(offset_of!(libc::ucontext_t, uc_sigmask) == arch::UC_SIGMASK_OFFSET);
const _: () = assert!(arch::UC_SIGMASK_OFFSET % size_of::<c_ulong>() == 0);
// The siginfo_t header the handler reads directly; the union behind it is read through libc's
// accessors (checked against the kernel's offsets by the tests below).
const _: () = assert!(size_of::<libc::siginfo_t>() == 128);
const _: () = assert!(offset_of!(libc::siginfo_t, si_signo) == 0);
const _: () = assert!(offset_of!(libc::siginfo_t, si_errno) == 4);
const _: () = assert!(offset_of!(libc::siginfo_t, si_code) == 8);
// The system-call numbers, against the C library's.
const _: () = assert!(arch::RT_SIGACTION as c_long == libc::SYS_rt_sigaction);
const _: () = assert!(arch::RT_SIGPROCMASK as c_long == libc::SYS_rt_sigprocmask);
const _: () = assert!(arch::RT_SIGRETURN as c_long == libc::SYS_rt_sigreturn);
const _: () = assert!(arch::GETPID as c_long == libc::SYS_getpid);
const _: () = assert!(arch::KILL as c_long == libc::SYS_kill);
const _: () = assert!(arch::WRITE as c_long == libc::SYS_write);
const _: () = assert!(arch::GETTID as c_long == libc::SYS_gettid);
const _: () = assert!(arch::FUTEX as c_long == libc::SYS_futex);
const _: () = assert!(arch::TGKILL as c_long == libc::SYS_tgkill);
const _: () = assert!(arch::RT_SIGTIMEDWAIT as c_long == libc::SYS_rt_sigtimedwait);
const _: () = assert!(arch::RT_TGSIGQUEUEINFO as c_long == libc::SYS_rt_tgsigqueueinfo);
const _: () = assert!(super::PIDFD_SEND_SIGNAL as c_long == libc::SYS_pidfd_send_signal);
const _: () = assert!(super::PIDFD_OPEN as c_long == libc::SYS_pidfd_open);
const _: () = assert!(size_of::<super::QueuedSiginfo>() == 128);
const _: () = assert!(super::SI_QUEUE == libc::SI_QUEUE);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_round_trip_through_the_kernels_words() {
        for set in [0, 1, 1 << 31, 1 << 32, 1 << 63, !0, 0x8000_0001_8000_0001] {
            assert_eq!(RawSigset::from_set(set).to_set(), set);
        }
    }

    #[test]
    fn the_kernels_words_are_what_libc_reads_as_a_sigset() {
        // libc's sigismember reads the C library's sigset_t, whose first 8 bytes are the
        // kernel's set: the two must agree on every signal, whatever the word size and byte
        // order.
        for sig in 1..=64 {
            let raw = RawSigset::from_set(1 << (sig - 1));
            // SAFETY: a zeroed sigset_t is valid; the kernel's words are copied over its start.
            let member = unsafe {
                let mut c: libc::sigset_t = core::mem::zeroed();
                core::ptr::copy_nonoverlapping(
                    &raw as *const RawSigset as *const u8,
                    &mut c as *mut libc::sigset_t as *mut u8,
                    SIGSET_BYTES,
                );
                libc::sigismember(&c, sig)
            };
            // The C library refuses the signals it reserves for itself (glibc's 32 and 33).
            assert!(member == 1 || member == -1, "signal {sig}: {member}");
            if member == -1 {
                assert!(
                    (32..libc::SIGRTMIN()).contains(&sig),
                    "signal {sig} refused"
                );
            }
        }
    }

    #[test]
    fn libcs_siginfo_accessors_read_the_kernels_offsets() {
        // The kernel's siginfo: three ints, then (on 64-bit) padding to the union's 8-byte
        // alignment; si_pid, si_uid, then si_status (SIGCHLD) or si_value (rt signals).
        let union_at = if size_of::<usize>() == 8 { 16 } else { 12 };
        let mut bytes = [0u8; 128];
        let put = |b: &mut [u8; 128], at: usize, v: &[u8]| b[at..at + v.len()].copy_from_slice(v);
        put(&mut bytes, union_at, &4242i32.to_ne_bytes());
        put(&mut bytes, union_at + 4, &1001u32.to_ne_bytes());
        put(&mut bytes, union_at + 8, &77i32.to_ne_bytes());
        // SAFETY: siginfo_t is plain data of 128 bytes (checked above); any bytes are valid.
        let info: libc::siginfo_t = unsafe { core::mem::transmute(bytes) };
        // SAFETY: reading union fields of plain data.
        unsafe {
            assert_eq!(info.si_pid(), 4242);
            assert_eq!(info.si_uid(), 1001);
            assert_eq!(info.si_status(), 77);
        }
        put(&mut bytes, union_at + 8, &0x1234_5678usize.to_ne_bytes());
        // SAFETY: as above.
        let info: libc::siginfo_t = unsafe { core::mem::transmute(bytes) };
        // SAFETY: as above.
        assert_eq!(unsafe { info.si_value() }.sival_ptr as usize, 0x1234_5678);
    }

    #[test]
    fn a_queued_siginfo_reads_back_through_libcs_accessors() {
        let q = super::super::QueuedSiginfo::new(40, 4242, 1001, 0x1234_5678);
        // SAFETY: both are plain data of 128 bytes (checked above).
        let info: libc::siginfo_t = unsafe { core::mem::transmute(q) };
        assert_eq!((info.si_signo, info.si_code), (40, libc::SI_QUEUE));
        // SAFETY: reading union fields of plain data.
        unsafe {
            assert_eq!(info.si_pid(), 4242);
            assert_eq!(info.si_uid(), 1001);
            assert_eq!(info.si_value().sival_ptr as usize, 0x1234_5678);
        }
    }
}
