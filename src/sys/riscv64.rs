//! riscv64: the system-call instruction and numbers (the generic table), and the layout facts
//! sigchan relies on.
//!
//! `ecall` takes the number in a7 and arguments in a0..a3; the result comes back in a0,
//! `-4095..=-1` meaning `-errno`. Nothing here touches errno, so the handler can call these
//! freely. Numbers: the generic table (`asm_generic.rs`).

use core::arch::asm;

pub use super::asm_generic::*;

// How handlers return here: the RISC-V ABI has no `SA_RESTORER`: `struct sigaction` has no
// `sa_restorer` field and the kernel always sets ra to the vDSO's `__vdso_rt_sigreturn`
// (`arch/riscv/kernel/signal.c`), which issues `rt_sigreturn` (139). There is no trampoline of
// sigchan's here.

/// `offsetof(struct ucontext, uc_sigmask)` in `arch/riscv/include/uapi/asm/ucontext.h`: after
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
    // SAFETY: the caller vouches for the arguments; the asm follows the RISC-V Linux syscall
    // ABI (a7 = number, a0..a3 = arguments, result in a0).
    unsafe {
        asm!(
            "ecall",
            in("a7") nr,
            inlateout("a0") a0 as isize => ret,
            in("a1") a1,
            in("a2") a2,
            in("a3") a3,
            options(nostack, preserves_flags)
        );
    }
    ret
}
