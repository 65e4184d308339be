//! A plain program for sigchan-init's tests and benchmarks (no sigchan in it): it reports
//! the signal state it started with, catches every signal it can, and prints one line per
//! arrival with the sender.
//!
//! ```text
//! probe [--peer] [--orphans N] [--exit-on SIG] [--default SIG]... [--stamp]
//! ```
//! - prints `state SigBlk=.. SigIgn=.. SigCgt=.. pid=.. pgid=.. sid=.. fg=..` first, from
//!   /proc before it installs anything (`fg`: the terminal's foreground group, or -1);
//! - `--peer`: forks a copy in the same process group that reports as `peer` (a process of
//!   the child's group that is not the child);
//! - `--orphans N`: makes N grandchildren that outlive their parent (orphans for the init
//!   to reap), each exiting after 50 ms, then prints `orphans N`;
//! - `--default SIG`: leaves SIG at its default action;
//! - `--exit-on SIG`: exits 0 when SIG arrives;
//! - `--stamp`: each line carries the CLOCK_MONOTONIC time the handler ran, in ns.
//!
//! Then it prints `got SIGNAME from PID [at NS]` per arrival (`peer got ...` for the peer).

use std::io::Write;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicI32, Ordering};

#[path = "support/monotonic.rs"]
mod monotonic;
use monotonic::monotonic_ns;

static PIPE_W: AtomicI32 = AtomicI32::new(-1);

/// Async-signal-safe: writes (signal, sender pid, time) to the self-pipe.
extern "C" fn on_signal(sig: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    let at = monotonic_ns();
    // SAFETY: the kernel passes a valid siginfo_t with SA_SIGINFO.
    let pid = if info.is_null() {
        0
    } else {
        unsafe { (*info).si_pid() }
    };
    let mut rec = [0u8; 16];
    rec[..4].copy_from_slice(&sig.to_ne_bytes());
    rec[4..8].copy_from_slice(&pid.to_ne_bytes());
    rec[8..].copy_from_slice(&at.to_ne_bytes());
    // SAFETY: write on our pipe; errno is not read afterwards.
    unsafe { libc::write(PIPE_W.load(Ordering::Relaxed), rec.as_ptr().cast(), 16) };
}

/// A new self-pipe for the handler; returns `[read, write]`.
fn self_pipe() -> [RawFd; 2] {
    let mut fds: [RawFd; 2] = [0; 2];
    // SAFETY: pipe2 fills two descriptors.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    PIPE_W.store(fds[1], Ordering::Relaxed);
    fds
}

fn status_field(name: &str) -> String {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    s.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .map(|v| v.trim().to_owned())
        .unwrap_or_default()
}

fn signal_number(name: &str) -> i32 {
    let name = name.trim_start_matches("SIG");
    (1..=64)
        .find(|&n| signal_name(n) == name)
        .unwrap_or_else(|| name.parse().expect("a signal name or number"))
}

fn signal_name(n: i32) -> String {
    const NAMES: [&str; 31] = [
        "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
        "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
        "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
    ];
    match n {
        1..=31 => NAMES[n as usize - 1].to_owned(),
        _ => format!("{n}"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |f: &str| args.iter().any(|a| a == f);
    let values = |f: &str| -> Vec<String> {
        args.windows(2)
            .filter(|w| w[0] == f)
            .map(|w| w[1].clone())
            .collect()
    };
    let exit_on = values("--exit-on").first().map(|s| signal_number(s));
    let defaults: Vec<i32> = values("--default")
        .iter()
        .map(|s| signal_number(s))
        .collect();
    let stamp = flag("--stamp");
    // SAFETY: plain getters.
    let (pid, pgid, sid, fg) = unsafe {
        (
            libc::getpid(),
            libc::getpgrp(),
            libc::getsid(0),
            libc::tcgetpgrp(libc::STDIN_FILENO),
        )
    };
    println!(
        "state SigBlk={} SigIgn={} SigCgt={} pid={pid} pgid={pgid} sid={sid} fg={fg}",
        status_field("SigBlk"),
        status_field("SigIgn"),
        status_field("SigCgt")
    );

    let mut fds = self_pipe();
    for sig in 1..=64 {
        if [libc::SIGKILL, libc::SIGSTOP, libc::SIGCHLD].contains(&sig)
            || (32..libc::SIGRTMIN()).contains(&sig)
            || defaults.contains(&sig)
        {
            continue;
        }
        // SAFETY: installs an async-signal-safe SA_SIGINFO handler.
        unsafe {
            let mut act: libc::sigaction = std::mem::zeroed();
            act.sa_sigaction = on_signal as *const () as usize;
            act.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
            libc::sigaction(sig, &act, std::ptr::null_mut());
        }
    }
    let mut who = "";
    if flag("--peer") {
        // SAFETY: fork; the child only continues this single-threaded program.
        if unsafe { libc::fork() } == 0 {
            who = "peer ";
            // A pipe of its own: the inherited one is the child's, and either could read
            // the other's records.
            fds = self_pipe();
            // SAFETY: getpid takes no arguments.
            println!("peer state pid={}", unsafe { libc::getpid() });
        }
    }
    if let Some(n) = values("--orphans").first() {
        let n: usize = n.parse().unwrap();
        for _ in 0..n {
            // SAFETY: fork twice; the middle process exits at once, orphaning the second.
            unsafe {
                let middle = libc::fork();
                if middle == 0 {
                    if libc::fork() == 0 {
                        let t = libc::timespec {
                            tv_sec: 0,
                            tv_nsec: 50_000_000,
                        };
                        libc::nanosleep(&t, std::ptr::null_mut());
                    }
                    libc::_exit(0);
                }
                libc::waitpid(middle, std::ptr::null_mut(), 0);
            }
        }
        println!("orphans {n}");
    }
    println!("{who}ready");
    let _ = std::io::stdout().flush();
    let mut rec = [0u8; 16];
    loop {
        // SAFETY: reads 16 bytes into a live buffer; SA_RESTART restarts it.
        let n = unsafe { libc::read(fds[0], rec.as_mut_ptr().cast(), 16) };
        if n != 16 {
            continue;
        }
        let sig = i32::from_ne_bytes(rec[..4].try_into().unwrap());
        let from = i32::from_ne_bytes(rec[4..8].try_into().unwrap());
        let at = u64::from_ne_bytes(rec[8..].try_into().unwrap());
        if stamp {
            println!("{who}got SIG{} from {from} at {at}", signal_name(sig));
        } else {
            println!("{who}got SIG{} from {from}", signal_name(sig));
        }
        let _ = std::io::stdout().flush();
        if Some(sig) == exit_on {
            std::process::exit(0);
        }
    }
}
