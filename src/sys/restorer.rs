//! The signal-return trampoline from `asm/<arch>.S`, assembled into the crate by rustc.
//!
//! `build.rs` points `SIGCHAN_RESTORER_ASM` at the file for the target architecture.

#[cfg(target_arch = "x86_64")]
core::arch::global_asm!(
    include_str!(env!("SIGCHAN_RESTORER_ASM")),
    options(att_syntax)
);

#[cfg(target_arch = "aarch64")]
core::arch::global_asm!(include_str!(env!("SIGCHAN_RESTORER_ASM")));

extern "C" {
    /// Executes `rt_sigreturn`; only ever entered by the kernel as a handler's return address.
    fn sigchan_sigaction_restorer();
}

/// The address installed as `sa_restorer` for every sigchan handler.
pub fn address() -> usize {
    sigchan_sigaction_restorer as *const () as usize
}
