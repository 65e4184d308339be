//! i686 (32-bit x86): the system-call instruction and numbers, and the layout facts sigchan
//! relies on.
//!
//! `int $0x80` takes the number in eax and arguments in ebx, ecx, edx, esi; the result comes
//! back in eax, `-4095..=-1` meaning `-errno`. LLVM reserves esi on x86 (a base pointer), so
//! the fourth argument is swapped into it around the instruction, as rustix does. Nothing
//! here touches errno, so the handler can call these freely. Numbers:
//! `arch/x86/entry/syscalls/syscall_32.tbl`, checked against libc's `SYS_*` in `layout.rs`.

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
pub const TGKILL: usize = 270;
pub const RT_SIGTIMEDWAIT: usize = 177;
pub const RT_TGSIGQUEUEINFO: usize = 335;

// How handlers return here: the kernel honours `SA_RESTORER` (pushed as the handler's return
// address) and returns through sigchan's trampoline (`asm/x86.S`) instead of the vDSO's
// `__kernel_rt_sigreturn`.

/// `offsetof(struct ucontext, uc_sigmask)` in `arch/x86/include/uapi/asm/ucontext.h` on i386:
/// after uc_flags, uc_link, uc_stack (4 + 4 + 12) and the 88-byte 32-bit `struct sigcontext`.
pub const UC_SIGMASK_OFFSET: usize = 108;

/// Issues a system call with up to four arguments.
///
/// # Safety
/// The caller must pass arguments valid for system call `nr` (pointers to live memory of the
/// layout the kernel expects).
#[inline(always)]
pub unsafe fn syscall4(nr: usize, a0: usize, a1: usize, a2: usize, a3: usize) -> isize {
    let ret: isize;
    // SAFETY: the caller vouches for the arguments; the asm follows the i386 Linux syscall ABI
    // (eax = number, ebx, ecx, edx, esi = arguments, result in eax). esi is restored by the
    // second xchg, so LLVM's base pointer is intact when the block ends.
    unsafe {
        asm!(
            "xchg esi, {a3}",
            "int 0x80",
            "xchg esi, {a3}",
            a3 = inout(reg) a3 => _,
            inlateout("eax") nr as isize => ret,
            in("ebx") a0,
            in("ecx") a1,
            in("edx") a2,
            options(nostack, preserves_flags)
        );
    }
    ret
}
