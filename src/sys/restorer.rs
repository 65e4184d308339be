//! The signal-return trampoline from `asm/<arch>.S`, assembled into the crate by rustc, on the
//! architectures whose handlers return through `sa_restorer` (`super::Return::Restorer`).
//!
//! The files are plain assembly (`options(raw)`: no `{}` substitution). `build.rs` points
//! `SIGCHAN_RESTORER_ASM` at the file for the target architecture and sets
//! `cfg(sigchan_restorer)`, from which `super::RETURN` follows; riscv64 and powerpc64 have
//! none (their handlers return through the kernel's vDSO trampoline).

#[cfg(all(sigchan_restorer, any(target_arch = "x86_64", target_arch = "x86")))]
core::arch::global_asm!(
    include_str!(env!("SIGCHAN_RESTORER_ASM")),
    options(att_syntax, raw)
);

#[cfg(all(
    sigchan_restorer,
    not(any(target_arch = "x86_64", target_arch = "x86"))
))]
core::arch::global_asm!(include_str!(env!("SIGCHAN_RESTORER_ASM")), options(raw));

#[cfg(sigchan_restorer)]
extern "C" {
    /// Executes `rt_sigreturn`; only ever entered by the kernel as a handler's return address.
    fn sigchan_sigaction_restorer();
}

/// The address installed as `sa_restorer` for every sigchan handler: 0 where the kernel
/// provides the return path.
pub fn address() -> usize {
    #[cfg(sigchan_restorer)]
    return sigchan_sigaction_restorer as *const () as usize;
    #[cfg(not(sigchan_restorer))]
    return 0;
}
