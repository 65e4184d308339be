//! Unwinding through sigchan's restorer (x86_64; gdb is needed): gdb's `bt` from a function
//! called on the signal path walks back through the signal frame into the interrupted code,
//! and so does a Rust backtrace taken inside a chained handler (libgcc's unwinder).
#![cfg(target_arch = "x86_64")]

mod common;
use common::*;
use crossbeam_channel::bounded;
use sigchan::{Signal, SIGUSR1};
use std::process::Command;

static CAPTURED: std::sync::Mutex<Option<std::backtrace::Backtrace>> = std::sync::Mutex::new(None);
static CAPTURE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The chained handler: runs inside sigchan's handler. gdb stops here; when `CAPTURE` is set
/// it captures a Rust backtrace (not async-signal-safe: test only, while the interrupted
/// thread is in a syscall and nothing else runs). It is formatted after the handler returns.
#[no_mangle]
#[inline(never)]
pub extern "C" fn sigchan_unwind_probe(_: libc::c_int) {
    if CAPTURE.load(std::sync::atomic::Ordering::SeqCst) {
        *CAPTURED.lock().unwrap() = Some(std::backtrace::Backtrace::force_capture());
    }
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

/// The code the signal interrupts.
#[no_mangle]
#[inline(never)]
pub extern "C" fn sigchan_interrupted_here() {
    raise_thread(gettid(), SIGUSR1);
    std::hint::black_box(());
}

#[test]
#[ignore = "helper: run under gdb or with a backtrace by the tests below"]
fn probe_helper() {
    if std::env::var_os("SIGCHAN_PROBE_BACKTRACE").is_some() {
        big_alternate_stack();
        CAPTURE.store(true, std::sync::atomic::Ordering::SeqCst);
    }
    set_disposition(SIGUSR1.as_raw(), sigchan_unwind_probe as *const () as usize);
    let (tx, rx) = bounded::<Signal>(1);
    sigchan::notify(&tx, &[SIGUSR1]).unwrap();
    sigchan_interrupted_here();
    assert_eq!(expect_signal(&rx, "USR1"), SIGUSR1);
    if let Some(bt) = CAPTURED.lock().unwrap().take() {
        eprintln!("{bt}");
    }
}

fn helper_args() -> Vec<String> {
    [
        "--ignored",
        "--exact",
        "probe_helper",
        "--nocapture",
        "--test-threads=1",
    ]
    .map(String::from)
    .to_vec()
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
fn gdb_backtrace_walks_through_the_restorer_into_the_interrupted_frame() {
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("gdb")
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
        .args(helper_args())
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
fn rust_backtrace_from_a_chained_handler_reaches_the_interrupted_frame() {
    let exe = std::env::current_exe().unwrap();
    let out = Command::new(exe)
        .args(helper_args())
        .env("SIGCHAN_PROBE_BACKTRACE", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "helper failed: {text}");
    assert_in_order(
        &text,
        &[
            "sigchan_unwind_probe",
            "sigchan::sigctx::handler::entry",
            "sigchan_interrupted_here",
            "probe_helper",
        ],
    );
}
