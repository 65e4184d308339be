//! The system-call numbers of the kernel's generic table (`include/uapi/asm-generic/unistd.h`),
//! which the newer ports (aarch64, riscv64) use as they are. Checked against libc's `SYS_*`
//! on each in `layout.rs`.

pub const RT_SIGACTION: usize = 134;
pub const RT_SIGPROCMASK: usize = 135;
// Read only by the compile-time check in layout.rs, which Rust before 1.80 does not count.
#[allow(dead_code)]
pub const RT_SIGRETURN: usize = 139;
pub const GETPID: usize = 172;
pub const WRITE: usize = 64;
pub const KILL: usize = 129;
pub const GETTID: usize = 178;
pub const FUTEX: usize = 98;
pub const TGKILL: usize = 131;
pub const RT_SIGTIMEDWAIT: usize = 137;
pub const RT_TGSIGQUEUEINFO: usize = 240;
