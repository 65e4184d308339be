//! Picks the signal-return trampoline for the target architecture, if it has one.
//!
//! The trampoline is assembled by rustc itself (`global_asm!` in `src/sys/restorer.rs`), so no C
//! toolchain is needed to build sigchan, even when cross-compiling. This script only selects the
//! file and refuses, with a clear message, targets sigchan does not support.

use std::env;
use std::path::Path;

fn main() {
    let os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let target = env::var("TARGET").unwrap_or_default();

    if os != "linux" {
        let version = env::var("CARGO_PKG_VERSION").unwrap_or_default();
        let major_minor: Vec<&str> = version.split('.').take(2).collect();
        refuse(&format!(
            "sigchan supports Linux only, and this build targets `{target}` (os `{os}`).\n\
             If your crate also builds for other systems, declare sigchan as a Linux-only\n\
             dependency in Cargo.toml and keep the code that uses it behind\n\
             #[cfg(target_os = \"linux\")]:\n\n\
             [target.'cfg(target_os = \"linux\")'.dependencies]\n\
             sigchan = \"{}\"",
            major_minor.join(".")
        ));
    }
    if let Err(why) = supported(&arch, &target) {
        refuse(&format!(
            "sigchan does not support target `{target}` (arch `{arch}`): {why}.\n\
             Supported: Linux on x86_64, aarch64, i686, armv7 (ARM state), riscv64, \
             powerpc64le and s390x, with glibc or musl. The raw rt_sigaction/rt_sigreturn \
             layer (src/sys/) is per-architecture by design, and a port is added only with \
             its tests running (docs/TESTING.md)."
        ));
    }
    println!("cargo:rerun-if-changed=build.rs");
    if !has_restorer(&arch) {
        // Handlers return through the kernel's vDSO trampoline: no asm/ file to assemble.
        return;
    }
    let manifest = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let asm = Path::new(&manifest).join("asm").join(format!("{arch}.S"));
    if !asm.is_file() {
        refuse(&format!(
            "sigchan: missing {} for target `{target}`",
            asm.display()
        ));
    }
    println!("cargo:rerun-if-changed={}", asm.display());
    println!("cargo:rustc-env=SIGCHAN_RESTORER_ASM={}", asm.display());
    // `src/sys/restorer.rs` assembles and exports the trampoline under this cfg.
    println!("cargo:rustc-cfg=sigchan_restorer");
}

/// Whether sigchan has a raw layer for `arch`, and why not.
fn supported(arch: &str, target: &str) -> Result<(), String> {
    let endian = env::var("CARGO_CFG_TARGET_ENDIAN").unwrap_or_default();
    let atomics = env::var("CARGO_CFG_TARGET_HAS_ATOMIC").unwrap_or_default();
    match arch {
        "x86_64" | "aarch64" | "x86" | "arm" | "riscv64" | "s390x" => {}
        "powerpc64" if endian == "little" => {}
        "powerpc64" => return Err("big-endian powerpc64 (ELFv1) is not tested".into()),
        _ => return Err("no raw layer for this architecture in src/sys/".into()),
    }
    if target.starts_with("thumb") {
        return Err("Thumb state reserves r7, the syscall-number register".into());
    }
    if !atomics.split(',').any(|w| w == "64") {
        return Err("the sigqueue needs 64-bit atomics".into());
    }
    Ok(())
}

/// Whether handlers return through sigchan's own trampoline (`asm/<arch>.S`) on `arch`; on
/// riscv64 and powerpc64 the kernel's vDSO provides the return path (see `src/sys/`).
fn has_restorer(arch: &str) -> bool {
    !matches!(arch, "riscv64" | "powerpc64")
}

/// Stops the build with `message` alone on stderr (cargo shows it), no panic backtrace.
fn refuse(message: &str) -> ! {
    eprintln!("\n{message}\n");
    std::process::exit(1);
}
