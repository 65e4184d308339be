//! x86_64: the system-call instruction and numbers, and the layout facts sigchan relies on.
//!
//! Arguments go in rdi, rsi, rdx, r10; the number in rax; `syscall` clobbers rcx and r11.
//! The result comes back in rax, `-4095..=-1` meaning `-errno`. Nothing here touches errno, so
//! the handler can call these freely. Numbers: `arch/x86/entry/syscalls/syscall_64.tbl`,
//! checked against libc's `SYS_*` in `layout.rs`.

use core::arch::asm;

pub const RT_SIGACTION: usize = 13;
pub const RT_SIGPROCMASK: usize = 14;
// Read only by the compile-time check in layout.rs, which Rust before 1.80 does not count.
#[allow(dead_code)]
pub const RT_SIGRETURN: usize = 15;
pub const GETPID: usize = 39;
pub const WRITE: usize = 1;
pub const KILL: usize = 62;
pub const GETTID: usize = 186;
pub const FUTEX: usize = 202;
pub const TGKILL: usize = 234;
pub const RT_SIGTIMEDWAIT: usize = 128;
pub const RT_TGSIGQUEUEINFO: usize = 297;

// How handlers return here: the kernel honours `SA_RESTORER` and returns through sigchan's
// trampoline (`asm/x86_64.S`); there is no vDSO fallback on x86_64.

/// `offsetof(struct ucontext, uc_sigmask)` in `arch/x86/include/uapi/asm/ucontext.h`: after
/// uc_flags, uc_link, uc_stack (8 + 8 + 24) and the 256-byte `struct sigcontext`.
pub const UC_SIGMASK_OFFSET: usize = 296;

/// Issues a system call with up to four arguments.
///
/// # Safety
/// The caller must pass arguments valid for system call `nr` (pointers to live memory of the
/// layout the kernel expects).
#[inline(always)]
pub unsafe fn syscall4(nr: usize, a0: usize, a1: usize, a2: usize, a3: usize) -> isize {
    let ret: isize;
    // SAFETY: the caller vouches for the arguments; the asm follows the x86_64 Linux syscall
    // ABI and declares every register the kernel clobbers.
    unsafe {
        asm!(
            "syscall",
            inlateout("rax") nr as isize => ret,
            in("rdi") a0,
            in("rsi") a1,
            in("rdx") a2,
            in("r10") a3,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack, preserves_flags)
        );
    }
    ret
}
