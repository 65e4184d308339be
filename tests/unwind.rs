//! Unwinding through the signal frame: a Rust backtrace taken inside a chained handler walks
//! back through sigchan's handler and the return path (sigchan's restorer, or the kernel's
//! trampoline on riscv64 and powerpc64) into the interrupted code, on every architecture and
//! both C libraries (libgcc's unwinder on glibc, LLVM's libunwind on musl); and gdb's `bt`
//! does the same (x86_64, where gdb runs natively).

mod common;
use common::*;
use crossbeam_channel::bounded;
use sigchan::{Signal, SIGUSR1};
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};

static CAPTURED: std::sync::Mutex<Option<std::backtrace::Backtrace>> = std::sync::Mutex::new(None);
static CAPTURE: AtomicBool = AtomicBool::new(false);
static HANDLED: AtomicBool = AtomicBool::new(false);
static SPINNING: AtomicBool = AtomicBool::new(false);

/// The chained handler: runs inside sigchan's handler. gdb stops here; when `CAPTURE` is set
/// it captures a Rust backtrace (not async-signal-safe: test only, while the interrupted
/// thread spins holding no lock and the sender only waits). It is formatted after the handler
/// returns.
#[no_mangle]
#[inline(never)]
pub extern "C" fn sigchan_unwind_probe(_: libc::c_int) {
    if CAPTURE.load(SeqCst) {
        *CAPTURED.lock().unwrap() = Some(std::backtrace::Backtrace::force_capture());
    }
    HANDLED.store(true, SeqCst);
    std::hint::black_box(());
}

/// Gives this thread a 1 MiB alternate signal stack: Rust's default one is sized for its
/// stack-overflow message, not for walking and recording a backtrace.
fn big_alternate_stack() {
    let mem: &'static mut [u8] = Box::leak(vec![0u8; 1 << 20].into_boxed_slice());
    let ss = libc::stack_t {
        ss_sp: mem.as_mut_ptr().cast(),
        ss_flags: 0,
        ss_size: mem.len(),
    };
    // SAFETY: the memory is leaked, so it outlives the thread.
    assert_eq!(unsafe { libc::sigaltstack(&ss, std::ptr::null_mut()) }, 0);
}

/// The code the signal interrupts: Rust code spinning until the handler has run, so the
/// interrupted frame is this function's, which has unwind information. (Raising the signal
/// from here through the C library would leave the interrupted frame in its `syscall()`,
/// which on musl has no unwind information, and any unwinder stops there.) Another thread
/// sends the signal once this one spins.
#[no_mangle]
#[inline(never)]
pub extern "C" fn sigchan_interrupted_here() {
    let me = gettid();
    let sender = std::thread::spawn(move || {
        wait_until("the interrupted thread spins", || SPINNING.load(SeqCst));
        raise_thread(me, SIGUSR1);
    });
    SPINNING.store(true, SeqCst);
    while !HANDLED.load(SeqCst) {
        std::hint::spin_loop();
    }
    sender.join().unwrap();
    std::hint::black_box(());
}

/// Installs the probe as the handler sigchan chains to, subscribes USR1, and runs the
/// interrupted code; prints the captured backtrace to stderr when `capture` is set.
fn probe(capture: bool) {
    if capture {
        big_alternate_stack();
        CAPTURE.store(true, SeqCst);
    }
    set_disposition(SIGUSR1.as_raw(), sigchan_unwind_probe as *const () as usize);
    let (tx, rx) = bounded::<Signal>(1);
    sigchan::notify(&tx, &[SIGUSR1]).unwrap();
    sigchan_interrupted_here();
    assert_eq!(expect_signal(&rx, "USR1"), SIGUSR1);
    if let Some(bt) = CAPTURED.lock().unwrap().take() {
        write_stderr(&format!("{bt}\n"));
    }
}

#[test]
#[ignore = "helper: run under gdb by the test below"]
fn probe_helper() {
    probe(false);
}

/// Positions of `needles` in `text`, which must appear in this order.
fn assert_in_order(text: &str, needles: &[&str]) {
    let mut from = 0;
    for n in needles {
        match text[from..].find(n) {
            Some(i) => from += i + n.len(),
            None => panic!("{n:?} missing (or out of order) in:\n{text}"),
        }
    }
}

#[test]
#[cfg(target_arch = "x86_64")]
#[ignore = "needs gdb (Debian package gdb): .ci/run installs it and runs it"]
fn gdb_backtrace_walks_through_the_restorer_into_the_interrupted_frame() {
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new("gdb")
        .args([
            "--batch",
            "-nx",
            "-ex",
            "set pagination off",
            "-ex",
            "handle SIGUSR1 nostop noprint pass",
        ])
        .args([
            "-ex",
            "break sigchan_unwind_probe",
            "-ex",
            "run",
            "-ex",
            "bt",
            "-ex",
            "kill",
            "--args",
        ])
        .arg(&exe)
        .args([
            "--ignored",
            "--exact",
            "probe_helper",
            "--nocapture",
            "--test-threads=1",
        ])
        .output()
        .expect("gdb must be installed (.ci/run installs it)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_in_order(
        &text,
        &[
            "sigchan_unwind_probe",
            "sigchan::sigctx::handler",
            "<signal handler called>",
            "sigchan_interrupted_here",
            "probe_helper",
        ],
    );
}

#[test]
#[cfg_attr(
    all(sigchan_qemu, target_arch = "powerpc64"),
    ignore = "qemu-user returns powerpc64 handlers through its own trampoline, not the \
              kernel's vDSO one with unwind information: libgcc stops there (docs/TESTING.md)"
)]
fn rust_backtrace_from_a_chained_handler_reaches_the_interrupted_frame() {
    let out = run_in_child(|| probe(true));
    out.assert_success();
    assert_in_order(
        &out.stderr,
        &[
            "sigchan_unwind_probe",
            "sigchan::sigctx::handler::entry",
            "sigchan_interrupted_here",
            "unwind::probe",
        ],
    );
}
