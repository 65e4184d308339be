//! The raw handler: installed flags and restorer, errno, chaining, real faults.
//! Each test runs in a forked child.

mod common;
use common::*;
use crossbeam_channel::{bounded, unbounded};
use sigchan::{Signal, SIGBUS, SIGSEGV, SIGUSR1, SIGUSR2};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Whether handlers return through `sa_restorer` here (else through the kernel's vDSO).
const HAS_RESTORER: bool = !cfg!(any(target_arch = "riscv64", target_arch = "powerpc64"));
/// `SA_RESTORER` (the same value on every architecture that has it).
const SA_RESTORER: u64 = 0x0400_0000;

#[cfg(not(any(target_arch = "riscv64", target_arch = "powerpc64")))]
extern "C" {
    /// sigchan's trampoline from asm/<arch>.S (a global symbol of the library).
    fn sigchan_sigaction_restorer();
}

/// sigchan's trampoline, or 0 where handlers return through the kernel's.
fn restorer() -> usize {
    #[cfg(not(any(target_arch = "riscv64", target_arch = "powerpc64")))]
    return sigchan_sigaction_restorer as *const () as usize;
    #[cfg(any(target_arch = "riscv64", target_arch = "powerpc64"))]
    return 0;
}

#[test]
fn handler_is_installed_with_sigchans_restorer_flags_and_full_mask() {
    isolated(|| {
        let (tx, _rx) = bounded::<Signal>(1);
        sigchan::notify(&tx, &[SIGUSR1]).unwrap();
        let act = kernel_action(SIGUSR1.as_raw());
        assert_eq!(
            act.restorer,
            restorer(),
            "sa_restorer is not sigchan's trampoline"
        );
        let restorer_flag = if HAS_RESTORER { SA_RESTORER } else { 0 };
        let want = (libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_RESTART) as u64 | restorer_flag;
        assert_eq!(act.flags, want, "flags {:#x}", act.flags);
        // Every blockable signal is blocked while the handler runs. (The kernel also drops
        // KILL and STOP from the stored mask; qemu-user keeps them: both are fine.)
        let unblockable = bit(sigchan::SIGKILL) | bit(sigchan::SIGSTOP);
        assert_eq!(act.mask | unblockable, !0, "mask {:#x}", act.mask);
    });
}

#[test]
#[cfg(not(any(target_arch = "riscv64", target_arch = "powerpc64")))]
fn restorer_has_the_exact_instructions_unwinders_recognise() {
    // SAFETY: reading the trampoline's own code bytes (mapped readable and executable).
    let code = unsafe { std::slice::from_raw_parts(restorer() as *const u8, 12) };
    let want: &[u8] = if cfg!(target_arch = "x86_64") {
        // movq $15, %rax; syscall; ud2  (glibc's __restore_rt, then a trap)
        &[0x48, 0xc7, 0xc0, 0x0f, 0, 0, 0, 0x0f, 0x05, 0x0f, 0x0b]
    } else if cfg!(target_arch = "aarch64") {
        // mov x8, #139; svc #0; udf #0
        &[0x68, 0x11, 0x80, 0xd2, 0x01, 0x00, 0x00, 0xd4, 0, 0, 0, 0]
    } else if cfg!(target_arch = "x86") {
        // movl $173, %eax; int $0x80; ud2  (glibc's i386 __restore_rt, then a trap)
        &[0xb8, 0xad, 0, 0, 0, 0xcd, 0x80, 0x0f, 0x0b]
    } else if cfg!(target_arch = "arm") {
        // mov r7, #173; svc #0; udf #0  (ARM state, little-endian words)
        &[
            0xad, 0x70, 0xa0, 0xe3, 0, 0, 0, 0xef, 0xf0, 0x00, 0xf0, 0xe7,
        ]
    } else {
        // s390x: svc 173; an invalid all-zero opcode
        &[0x0a, 0xad, 0, 0]
    };
    assert_eq!(&code[..want.len()], want);
}

// A test-only trampoline with the wrong syscall number (getpid instead of rt_sigreturn),
// then the same trap sigchan's has: a handler returning through it must crash.
#[cfg(target_arch = "x86_64")]
std::arch::global_asm!(
    ".globl test_broken_restorer",
    "test_broken_restorer:",
    "movq $39, %rax",
    "syscall",
    "ud2",
    options(att_syntax)
);
#[cfg(target_arch = "x86")]
std::arch::global_asm!(
    ".globl test_broken_restorer",
    "test_broken_restorer:",
    "movl $20, %eax",
    "int $0x80",
    "ud2",
    options(att_syntax)
);
#[cfg(target_arch = "aarch64")]
std::arch::global_asm!(
    ".globl test_broken_restorer",
    "test_broken_restorer:",
    "mov x8, #172",
    "svc #0",
    "udf #0"
);
#[cfg(target_arch = "arm")]
std::arch::global_asm!(
    ".arm",
    ".globl test_broken_restorer",
    "test_broken_restorer:",
    "mov r7, #20",
    "svc #0",
    "udf #0"
);
#[cfg(target_arch = "s390x")]
std::arch::global_asm!(
    ".globl test_broken_restorer",
    "test_broken_restorer:",
    "svc 20",
    ".short 0"
);
// Where the kernel never returns through sa_restorer, any address shows it: a null one.
#[cfg(any(target_arch = "riscv64", target_arch = "powerpc64"))]
extern "C" fn test_broken_restorer() {}

#[cfg(not(any(target_arch = "riscv64", target_arch = "powerpc64")))]
extern "C" {
    fn test_broken_restorer();
}

extern "C" fn quiet_handler(_: libc::c_int, _: *mut libc::siginfo_t, _: *mut libc::c_void) {}

/// Installs `quiet_handler` for USR1 with the raw call and `restorer` (with `SA_RESTORER`
/// where the architecture has the field), then raises USR1. `SA_SIGINFO`, as sigchan's: on
/// i686, arm and s390x a handler without it gets the old non-RT frame, which `rt_sigreturn`
/// cannot unwind.
fn raise_with_restorer(restorer: usize) {
    let act = KernelAction {
        handler: quiet_handler as *const () as usize,
        flags: libc::SA_SIGINFO as u64
            | if cfg!(target_arch = "riscv64") {
                0
            } else {
                SA_RESTORER
            },
        restorer,
        mask: 0,
    };
    // SAFETY: a valid handler; the restorer is the test's to choose (a broken one is the
    // point of one test).
    unsafe { set_kernel_action(libc::SIGUSR1, &act) };
    raise_thread(gettid(), SIGUSR1);
}

/// The kernel (and qemu-user) really return through `sa_restorer`: a broken one kills the
/// process, sigchan's lets it go on. With the read-back test above, a green run on an arch
/// means sigchan's own trampoline is the one that works there.
#[test]
#[cfg(not(any(target_arch = "riscv64", target_arch = "powerpc64")))]
fn a_broken_restorer_is_caught_and_sigchans_is_not() {
    let out = run_in_child(|| {
        raise_with_restorer(test_broken_restorer as *const () as usize);
        write_stderr("returned through a broken restorer\n");
    });
    out.assert_killed_by(libc::SIGILL);
    isolated(|| {
        raise_with_restorer(restorer());
        raise_with_restorer(restorer());
    });
}

/// riscv64 has no `sa_restorer` at all and powerpc64's kernel ignores it: handlers return
/// through the vDSO, whatever the action says. A do-nothing function as "restorer" (it would
/// return into the signal frame's bytes) and a null one change nothing: the process goes on.
#[test]
#[cfg(any(target_arch = "riscv64", target_arch = "powerpc64"))]
fn handlers_return_through_the_kernels_trampoline_whatever_sa_restorer_says() {
    isolated(|| {
        raise_with_restorer(test_broken_restorer as *const () as usize);
        raise_with_restorer(0);
        assert_eq!(
            kernel_action(libc::SIGUSR1).handler,
            quiet_handler as *const () as usize
        );
    });
}

#[test]
fn handler_returns_through_the_restorer_many_times() {
    // Every delivery below returns through sigchan_sigaction_restorer; a broken one would crash.
    isolated(|| {
        let (tx, rx) = unbounded::<Signal>();
        sigchan::notify(&tx, &[SIGUSR1]).unwrap();
        let me = gettid();
        for i in 0..200 {
            raise_thread(me, SIGUSR1);
            assert_eq!(expect_signal(&rx, &format!("delivery {i}")), SIGUSR1);
        }
    });
}

static CHAINED: AtomicUsize = AtomicUsize::new(0);

extern "C" fn clobbering_previous(_: libc::c_int) {
    CHAINED.fetch_add(1, Ordering::SeqCst);
    // SAFETY: writing this thread's errno, as a careless handler would.
    unsafe { *libc::__errno_location() = 9999 };
}

#[test]
fn errno_is_preserved_under_thread_directed_signals() {
    isolated(|| {
        set_disposition(SIGUSR2.as_raw(), clobbering_previous as *const () as usize);
        let (tx, rx) = unbounded::<Signal>();
        sigchan::notify(&tx, &[SIGUSR2]).unwrap();
        let target = gettid();
        let done = std::sync::Arc::new(AtomicBool::new(false));
        let d = done.clone();
        let sender = std::thread::spawn(move || {
            for _ in 0..2000 {
                raise_thread(target, SIGUSR2);
            }
            d.store(true, Ordering::SeqCst);
        });
        let mut checks = 0u64;
        while !done.load(Ordering::SeqCst) {
            // SAFETY: this thread's errno.
            unsafe { *libc::__errno_location() = libc::EBADF };
            for _ in 0..100 {
                std::hint::spin_loop();
            }
            // SAFETY: as above.
            let e = unsafe { *libc::__errno_location() };
            assert_eq!(
                e,
                libc::EBADF,
                "errno changed under a signal after {checks} checks"
            );
            checks += 1;
        }
        sender.join().unwrap();
        assert!(
            CHAINED.load(Ordering::SeqCst) > 0,
            "the previous handler never ran"
        );
        // Both cores were busy (this loop and the sender): the signal thread may only now
        // get to deliver.
        assert_eq!(expect_signal(&rx, "USR2 delivered"), SIGUSR2);
    });
}

static PREVIOUS_CALLS: AtomicUsize = AtomicUsize::new(0);

extern "C" fn counting_previous(_: libc::c_int) {
    PREVIOUS_CALLS.fetch_add(1, Ordering::SeqCst);
}

#[test]
fn previously_installed_handler_is_chained_and_comes_back_after_reset() {
    isolated(|| {
        let prev = counting_previous as *const () as usize;
        set_disposition(SIGUSR1.as_raw(), prev);
        let (tx, rx) = unbounded::<Signal>();
        sigchan::notify(&tx, &[SIGUSR1]).unwrap();
        raise_thread(gettid(), SIGUSR1);
        assert_eq!(expect_signal(&rx, "USR1"), SIGUSR1);
        assert_eq!(
            PREVIOUS_CALLS.load(Ordering::SeqCst),
            1,
            "previous handler not chained"
        );
        sigchan::reset(&[SIGUSR1]).unwrap();
        assert_eq!(
            kernel_action(SIGUSR1.as_raw()).handler,
            prev,
            "reset must restore it"
        );
        raise_thread(gettid(), SIGUSR1);
        assert_eq!(PREVIOUS_CALLS.load(Ordering::SeqCst), 2);
        assert!(rx.try_recv().is_err(), "delivered after reset");
    });
}

/// In a child: SEGV's original disposition set to `original` (None: leave Rust's
/// stack-overflow handler), SEGV notified, then a real null-pointer write. Must die by SEGV.
fn real_segv_with_original(original: Option<libc::sighandler_t>) {
    let out = run_in_child(move || {
        if let Some(h) = original {
            set_disposition(libc::SIGSEGV, h);
        }
        let (tx, _rx) = bounded::<Signal>(1);
        sigchan::notify(&tx, &[SIGSEGV]).unwrap();
        // SAFETY: deliberately faults: this is the crash under test.
        unsafe { std::ptr::write_volatile(std::ptr::null_mut::<u64>(), 1) };
        write_stderr("survived a null write\n");
    });
    out.assert_killed_by(libc::SIGSEGV);
}

#[test]
fn real_segv_with_segv_notified_dies_by_segv_through_rusts_handler() {
    real_segv_with_original(None);
}

#[test]
fn real_segv_with_default_original_dies_by_segv() {
    real_segv_with_original(Some(libc::SIG_DFL));
}

#[test]
fn real_segv_with_segv_ignored_still_dies_instead_of_looping() {
    real_segv_with_original(Some(libc::SIG_IGN));
}

/// A hardware fault sigchan is notified of still kills by that fault: integer division by
/// zero (SIGFPE) on x86, where it traps; an undefined instruction (SIGILL) elsewhere.
#[test]
fn real_fpe_or_ill_dies_by_it() {
    #[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
    let (sig, fault) = (libc::SIGFPE, || {
        // SAFETY: deliberately divides by zero in hardware (idiv raises #DE -> SIGFPE).
        unsafe {
            std::arch::asm!("xor edx, edx", "mov eax, 1", "xor ecx, ecx", "idiv ecx", out("eax") _, out("edx") _, out("ecx") _);
        }
    });
    #[cfg(not(any(target_arch = "x86_64", target_arch = "x86")))]
    let (sig, fault) = (libc::SIGILL, || {
        // SAFETY: deliberately executes a permanently undefined instruction -> SIGILL.
        unsafe {
            #[cfg(any(target_arch = "aarch64", target_arch = "arm"))]
            std::arch::asm!("udf #1");
            #[cfg(target_arch = "riscv64")]
            std::arch::asm!("unimp");
            #[cfg(target_arch = "powerpc64")]
            std::arch::asm!(".long 0");
            #[cfg(target_arch = "s390x")]
            std::arch::asm!(".short 0");
        }
    });
    let out = run_in_child(move || {
        let (tx, _rx) = bounded::<Signal>(1);
        sigchan::notify(&tx, &[Signal::new(sig).unwrap()]).unwrap();
        fault();
    });
    out.assert_killed_by(sig);
}

#[test]
fn stack_overflow_is_still_reported_with_segv_and_bus_notified() {
    let out = run_in_child(|| {
        let (tx, _rx) = bounded::<Signal>(1);
        sigchan::notify(&tx, &[SIGSEGV, SIGBUS]).unwrap();
        std::thread::Builder::new()
            .name("deep".into())
            .spawn(|| {
                #[allow(unconditional_recursion)] // the overflow is the point
                fn recurse(n: u64) -> u64 {
                    let buf = std::hint::black_box([n; 64]);
                    buf[3] + recurse(n + 1)
                }
                recurse(0)
            })
            .unwrap()
            .join()
            .unwrap();
    });
    assert!(
        out.stderr.contains("has overflowed its stack"),
        "Rust's message is missing: {}",
        out.stderr
    );
    out.assert_killed_by(libc::SIGABRT);
}
