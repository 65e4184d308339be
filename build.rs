//! Picks the signal-return trampoline for the target architecture.
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
    if !(arch == "x86_64" || arch == "aarch64") {
        refuse(&format!(
            "sigchan supports Linux on x86_64 and aarch64 only; target `{target}` \
             (os `{os}`, arch `{arch}`) has no signal-return trampoline in asm/. \
             Its raw rt_sigaction/rt_sigreturn layer is per-architecture by design."
        ));
    }

    let manifest = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let asm = Path::new(&manifest).join("asm").join(format!("{arch}.S"));
    if !asm.is_file() {
        refuse(&format!(
            "sigchan: missing {} for target `{target}`",
            asm.display()
        ));
    }
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed={}", asm.display());
    println!("cargo:rustc-env=SIGCHAN_RESTORER_ASM={}", asm.display());
}

/// Stops the build with `message` alone on stderr (cargo shows it), no panic backtrace.
fn refuse(message: &str) -> ! {
    eprintln!("\n{message}\n");
    std::process::exit(1);
}
