//! aarch64: the system-call instruction and numbers (the generic table), and the layout
//! facts sigchan relies on.
//!
//! Arguments go in x0..x3, the number in x8; `svc #0` returns the result in x0, `-4095..=-1`
//! meaning `-errno`. Nothing here touches errno, so the handler can call these freely.
//! Numbers: the generic table (`asm_generic.rs`).

use core::arch::asm;

pub use super::asm_generic::*;

// How handlers return here: the kernel honours `SA_RESTORER` (x30 is set to it) and returns
// through sigchan's trampoline (`asm/aarch64.S`) instead of the vDSO's.

/// `offsetof(struct ucontext, uc_sigmask)` in `arch/arm64/include/uapi/asm/ucontext.h`: after
/// uc_flags, uc_link and uc_stack (8 + 8 + 24).
pub const UC_SIGMASK_OFFSET: usize = 40;

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
