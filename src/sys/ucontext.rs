//! The one field of the kernel's signal frame the handler edits: the mask the kernel puts
//! back when the handler returns (`uc_sigmask` of the `ucontext_t` passed as the third
//! argument of an `SA_SIGINFO` handler).
//!
//! Its first 8 bytes are the kernel's 64-bit signal set, bit `n - 1` for signal `n`, on
//! x86_64 and aarch64 alike (glibc pads the field to 128 bytes to keep that layout); the
//! offsets below are the kernel's `struct ucontext` on each architecture, checked against
//! libc's definition at compile time.

use libc::c_void;

#[cfg(target_arch = "x86_64")]
const UC_SIGMASK_OFFSET: usize = 296;
#[cfg(target_arch = "aarch64")]
const UC_SIGMASK_OFFSET: usize = 40;

const _: () = assert!(core::mem::offset_of!(libc::ucontext_t, uc_sigmask) == UC_SIGMASK_OFFSET);

/// Clears `sig` from the mask the kernel restores when the handler owning `ctx` returns, so
/// a signal queued to this thread meanwhile is acted on at once.
///
/// # Safety
/// `ctx` is the third argument the kernel passed to the running `SA_SIGINFO` handler (or
/// null, then nothing happens), and `sig` is in `1..=64`.
pub unsafe fn unblock_on_return(ctx: *mut c_void, sig: i32) {
    if ctx.is_null() {
        return;
    }
    // SAFETY: per the contract, ctx is the live frame's ucontext; the mask's first word is
    // the kernel's 64-bit set at UC_SIGMASK_OFFSET (checked above), aligned to 8.
    unsafe {
        let mask = (ctx as *mut u8).add(UC_SIGMASK_OFFSET) as *mut u64;
        *mask &= !(1u64 << (sig - 1));
    }
}
