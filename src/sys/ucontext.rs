//! The one field of the kernel's signal frame the handler edits: the mask the kernel puts
//! back when the handler returns (`uc_sigmask` of the `ucontext_t` passed as the third
//! argument of an `SA_SIGINFO` handler).
//!
//! It starts with the kernel's 64-bit signal set as `unsigned long` words (the C library pads
//! the field to 128 bytes and keeps that start); its offset is each architecture's
//! `UC_SIGMASK_OFFSET`, checked against libc's `ucontext_t` at compile time (`layout.rs`).

use super::arch::UC_SIGMASK_OFFSET;
use libc::{c_ulong, c_void};

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
    let bit = (sig - 1) as usize;
    let bits = c_ulong::BITS as usize;
    // SAFETY: per the contract, ctx is the live frame's ucontext; the mask's words start at
    // UC_SIGMASK_OFFSET, aligned to a word (both checked in layout.rs), and bit / bits is 0 or
    // 1, inside the 64-bit set.
    unsafe {
        let words = (ctx as *mut u8).add(UC_SIGMASK_OFFSET) as *mut c_ulong;
        *words.add(bit / bits) &= !(1 << (bit % bits));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clears_exactly_the_signal_in_libcs_view_of_the_frame() {
        for sig in [1, 2, 31, 32, 33, 34, 63, 64] {
            // SAFETY: a zeroed ucontext_t is valid plain data; every bit of its mask is then
            // set by hand (the C library's sigfillset leaves out its own reserved signals).
            let mut uc: libc::ucontext_t = unsafe { core::mem::zeroed() };
            // SAFETY: uc_sigmask is a live sigset_t, plain data.
            unsafe { core::ptr::write_bytes(&mut uc.uc_sigmask, 0xff, 1) };
            // SAFETY: a ucontext_t-sized frame; sig is in 1..=64.
            unsafe { unblock_on_return(&mut uc as *mut _ as *mut c_void, sig) };
            for other in 1..=64 {
                // SAFETY: reading a live sigset_t.
                let member = unsafe { libc::sigismember(&uc.uc_sigmask, other) };
                if member == -1 {
                    continue; // reserved by the C library
                }
                assert_eq!(member == 0, other == sig, "after clearing {sig}: {other}");
            }
        }
    }
}
