//! s390x (IBM Z, big-endian): the system-call instruction and numbers, and the layout facts
//! sigchan relies on.
//!
//! `svc 0` takes the number in r1 and arguments in r2..r5; the result comes back in r2,
//! `-4095..=-1` meaning `-errno`. Nothing here touches errno, so the handler can call these
//! freely. Numbers: `arch/s390/kernel/syscalls/syscall.tbl`, checked against libc's `SYS_*`
//! in `layout.rs`.
//!
//! Byte order: the kernel's signal set is one 64-bit `unsigned long` here, so signal `n` is
//! bit `n - 1` of its value, as on the little-endian targets; `sys` only ever handles masks
//! as word values, never as bytes.

use core::arch::asm;

pub const RT_SIGACTION: usize = 174;
pub const RT_SIGPROCMASK: usize = 175;
// Read only by the compile-time check in layout.rs, which Rust before 1.80 does not count.
#[allow(dead_code)]
pub const RT_SIGRETURN: usize = 173;
pub const GETPID: usize = 20;
pub const WRITE: usize = 4;
pub const KILL: usize = 37;
pub const GETTID: usize = 236;
pub const FUTEX: usize = 238;
pub const TGKILL: usize = 241;
pub const RT_SIGTIMEDWAIT: usize = 177;
pub const RT_TGSIGQUEUEINFO: usize = 330;

// How handlers return here: the kernel honours `SA_RESTORER` (r14 is set to it,
// `arch/s390/kernel/signal.c`) and returns through sigchan's trampoline (`asm/s390x.S`) instead
// of the vDSO's.

/// `offsetof(struct ucontext, uc_sigmask)` in `arch/s390/include/uapi/asm/ucontext.h`: after
/// uc_flags, uc_link, uc_stack (8 + 8 + 24) and the 344-byte `_sigregs`.
pub const UC_SIGMASK_OFFSET: usize = 384;

/// Issues a system call with up to four arguments.
///
/// # Safety
/// The caller must pass arguments valid for system call `nr` (pointers to live memory of the
/// layout the kernel expects).
#[inline(always)]
pub unsafe fn syscall4(nr: usize, a0: usize, a1: usize, a2: usize, a3: usize) -> isize {
    let ret: isize;
    // SAFETY: the caller vouches for the arguments; the asm follows the s390x Linux syscall
    // ABI (r1 = number, r2..r5 = arguments, result in r2).
    unsafe {
        asm!(
            "svc 0",
            in("r1") nr,
            inlateout("r2") a0 as isize => ret,
            in("r3") a1,
            in("r4") a2,
            in("r5") a3,
            options(nostack)
        );
    }
    ret
}
