//! powerpc64le (ELFv2): the system-call instruction and numbers, and the layout facts sigchan
//! relies on.
//!
//! `sc` takes the number in r0 and arguments in r3..r6; the result comes back in r3. Unlike
//! the other architectures the kernel reports failure out of band: it sets the summary
//! overflow bit of cr0 and leaves the *positive* errno in r3. `syscall4` turns that into the
//! `-errno` convention the rest of `sys` expects. The kernel may change r0, r4..r12, ctr, xer
//! and cr0. Nothing here touches errno, so the handler can call these freely. Numbers:
//! `arch/powerpc/kernel/syscalls/syscall.tbl`, checked against libc's `SYS_*` in `layout.rs`.

use core::arch::asm;

pub const RT_SIGACTION: usize = 173;
pub const RT_SIGPROCMASK: usize = 174;
// Read only by the compile-time check in layout.rs, which Rust before 1.80 does not count.
#[allow(dead_code)]
pub const RT_SIGRETURN: usize = 172;
pub const GETPID: usize = 20;
pub const WRITE: usize = 4;
pub const KILL: usize = 37;
pub const GETTID: usize = 207;
pub const FUTEX: usize = 221;
pub const TGKILL: usize = 250;
pub const RT_SIGTIMEDWAIT: usize = 176;
pub const RT_TGSIGQUEUEINFO: usize = 322;

// How handlers return here: powerpc's `struct sigaction` has an `sa_restorer` field, but the
// kernel never reads it: a 64-bit handler always returns to the vDSO's `__kernel_sigtramp_rt64`
// (or, without a vDSO, to a trampoline the kernel writes into the signal frame),
// `arch/powerpc/kernel/signal_64.c`. sigchan installs no restorer here; `tests/handler.rs`
// shows one is ignored.

/// `offsetof(struct ucontext, uc_sigmask)` in `arch/powerpc/include/uapi/asm/ucontext.h` on
/// 64-bit: after uc_flags, uc_link and uc_stack (8 + 8 + 24).
pub const UC_SIGMASK_OFFSET: usize = 40;

/// Issues a system call with up to four arguments.
///
/// # Safety
/// The caller must pass arguments valid for system call `nr` (pointers to live memory of the
/// layout the kernel expects).
#[inline(always)]
pub unsafe fn syscall4(nr: usize, a0: usize, a1: usize, a2: usize, a3: usize) -> isize {
    let ret: isize;
    // The asm follows the powerpc64 Linux syscall ABI: r0 = number, r3..r6 = arguments,
    // result in r3, cr0.SO set on failure with a positive errno, which `neg` turns into -errno.
    // SAFETY: the caller vouches for the arguments; every register the kernel may change is
    // declared.
    unsafe {
        asm!(
            "sc",
            "bns+ 2f",
            "neg 3, 3",
            "2:",
            inlateout("r0") nr => _,
            inlateout("r3") a0 as isize => ret,
            inlateout("r4") a1 => _,
            inlateout("r5") a2 => _,
            inlateout("r6") a3 => _,
            lateout("r7") _,
            lateout("r8") _,
            lateout("r9") _,
            lateout("r10") _,
            lateout("r11") _,
            lateout("r12") _,
            lateout("cr0") _,
            lateout("ctr") _,
            lateout("xer") _,
            options(nostack)
        );
    }
    ret
}
