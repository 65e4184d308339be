//! aarch64 system-call instruction and numbers (the generic syscall table).
//!
//! Arguments go in x0..x3, the number in x8; `svc #0` returns the result in x0, `-4095..=-1`
//! meaning `-errno`. Nothing here touches errno, so the handler can call these freely.

use core::arch::asm;

pub const RT_SIGACTION: usize = 134;
pub const RT_SIGPROCMASK: usize = 135;
pub const GETPID: usize = 172;
pub const KILL: usize = 129;
pub const GETTID: usize = 178;
pub const FUTEX: usize = 98;
pub const TGKILL: usize = 131;

/// Issues a system call with up to four arguments.
///
/// # Safety
/// The caller must pass arguments valid for system call `nr` (pointers to live memory of the
/// layout the kernel expects).
#[inline(always)]
pub unsafe fn syscall4(nr: usize, a0: usize, a1: usize, a2: usize, a3: usize) -> isize {
    let ret: isize;
    // SAFETY: the caller vouches for the arguments; the asm follows the aarch64 Linux syscall
    // ABI (x8 = number, x0..x3 = arguments, result in x0).
    unsafe {
        asm!(
            "svc #0",
            in("x8") nr,
            inlateout("x0") a0 as isize => ret,
            in("x1") a1,
            in("x2") a2,
            in("x3") a3,
            options(nostack, preserves_flags)
        );
    }
    ret
}
