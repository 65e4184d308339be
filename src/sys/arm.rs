//! 32-bit ARM (EABI, ARM instruction set): the system-call instruction and numbers, and the
//! layout facts sigchan relies on.
//!
//! `svc #0` takes the number in r7 and arguments in r0..r3; the result comes back in r0,
//! `-4095..=-1` meaning `-errno`. r7 is free in ARM state (the frame pointer is r11); Thumb
//! targets, where r7 is the frame pointer, are refused by `build.rs`. Nothing here touches
//! errno, so the handler can call these freely. Numbers: `arch/arm/tools/syscall.tbl`,
//! checked against libc's `SYS_*` in `layout.rs`.

use core::arch::asm;

pub const RT_SIGACTION: usize = 174;
pub const RT_SIGPROCMASK: usize = 175;
// Read only by the compile-time check in layout.rs, which Rust before 1.80 does not count.
#[allow(dead_code)]
pub const RT_SIGRETURN: usize = 173;
pub const GETPID: usize = 20;
pub const WRITE: usize = 4;
pub const KILL: usize = 37;
pub const GETTID: usize = 224;
pub const FUTEX: usize = 240;
pub const TGKILL: usize = 268;
pub const RT_SIGTIMEDWAIT: usize = 177;
pub const RT_TGSIGQUEUEINFO: usize = 363;

// How handlers return here: the kernel honours `SA_RESTORER` (lr is set to it) and returns
// through sigchan's trampoline (`asm/arm.S`), instead of the sigpage's.

/// `offsetof(struct ucontext, uc_sigmask)` in `arch/arm/include/asm/ucontext.h`: after
/// uc_flags, uc_link, uc_stack (4 + 4 + 12) and the 84-byte `struct sigcontext`.
pub const UC_SIGMASK_OFFSET: usize = 104;

/// Issues a system call with up to four arguments.
///
/// # Safety
/// The caller must pass arguments valid for system call `nr` (pointers to live memory of the
/// layout the kernel expects).
#[inline(always)]
pub unsafe fn syscall4(nr: usize, a0: usize, a1: usize, a2: usize, a3: usize) -> isize {
    let ret: isize;
    // SAFETY: the caller vouches for the arguments; the asm follows the ARM EABI Linux syscall
    // ABI (r7 = number, r0..r3 = arguments, result in r0).
    unsafe {
        asm!(
            "svc #0",
            in("r7") nr,
            inlateout("r0") a0 as isize => ret,
            in("r1") a1,
            in("r2") a2,
            in("r3") a3,
            options(nostack, preserves_flags)
        );
    }
    ret
}
