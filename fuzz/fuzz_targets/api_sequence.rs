//! Arbitrary sequences of notify / stop / ignore / reset / send / ignored over three channels
//! (two plain `notify` channels and one `notify_info` channel, whose records go through the
//! origin ring) and four signals, checked against a plain model of the semantics in
//! docs/DESIGN.md: which channel receives what (with which origin), what `ignored` answers,
//! and the disposition the kernel reports in /proc/self/status. Each input runs in a forked child, so every input starts from a fresh
//! process state; a send that the model says takes the default action (terminate) must kill
//! the child with that signal. Empty signal lists are skipped (they mean "every catchable
//! signal"; tests/notify.rs and tests/dispositions.rs cover that).
#![no_main]

use crossbeam_channel::{unbounded, Receiver, Sender};
use libfuzzer_sys::fuzz_target;
use sigchan::{Cause, SigInfo, Signal, SIGHUP, SIGUSR1, SIGUSR2, SIGWINCH};
use std::time::Duration;

const SIGS: [Signal; 4] = [SIGUSR1, SIGUSR2, SIGWINCH, SIGHUP];
const CHANNELS: usize = 3;
/// The channel given to `notify_info`; the others are plain.
const INFO: usize = 2;

/// A channel of either kind, with both ends.
enum Chan {
    Plain(Sender<Signal>, Receiver<Signal>),
    Info(Sender<SigInfo>, Receiver<SigInfo>),
}

impl Chan {
    fn notify(&self, sigs: &[Signal]) {
        match self {
            Chan::Plain(tx, _) => sigchan::notify(tx, sigs).unwrap(),
            Chan::Info(tx, _) => sigchan::notify_info(tx, sigs).unwrap(),
        }
    }
    fn stop(&self) {
        match self {
            Chan::Plain(tx, _) => sigchan::stop(tx),
            Chan::Info(tx, _) => sigchan::stop(tx),
        }
    }
    /// What arrived, as (signal, origin pid if any) pairs.
    fn drain(&self) -> Vec<(Signal, Option<i32>)> {
        match self {
            Chan::Plain(_, rx) => rx.try_iter().map(|s| (s, None)).collect(),
            Chan::Info(_, rx) => rx
                .try_iter()
                .map(|i| {
                    assert_eq!(i.cause(), Cause::Tkill, "{i:?}");
                    (i.signal(), i.pid())
                })
                .collect(),
        }
    }
}
const MAX_OPS: usize = 32;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Disposition {
    Default,
    Ignored,
    Caught,
}

#[derive(Debug)]
enum Op {
    Notify(usize, Vec<Signal>),
    Stop(usize),
    Ignore(Vec<Signal>),
    Reset(Vec<Signal>),
    Send(Signal),
    Ignored(Signal),
}

fn decode(data: &[u8]) -> Vec<Op> {
    let set = |b: u8| -> Vec<Signal> { (0..4).filter(|i| b >> (2 + i) & 1 == 1).map(|i| SIGS[i]).collect() };
    data.chunks_exact(2)
        .take(MAX_OPS)
        .map(|c| match c[0] % 6 {
            0 => Op::Notify(c[1] as usize % CHANNELS, set(c[1])),
            1 => Op::Stop(c[1] as usize % CHANNELS),
            2 => Op::Ignore(set(c[1])),
            3 => Op::Reset(set(c[1])),
            4 => Op::Send(SIGS[c[1] as usize % 4]),
            _ => Op::Ignored(SIGS[c[1] as usize % 4]),
        })
        .collect()
}

/// The reference model: subscriptions per channel, disposition per signal.
struct Model {
    subs: [Vec<Signal>; CHANNELS],
    disp: [Disposition; 4],
}

impl Model {
    fn idx(sig: Signal) -> usize {
        SIGS.iter().position(|&s| s == sig).unwrap()
    }
    fn subscribed(&self, sig: Signal) -> bool {
        self.subs.iter().any(|s| s.contains(&sig))
    }
    fn apply(&mut self, op: &Op) {
        match op {
            Op::Notify(ch, sigs) => {
                for &s in sigs {
                    if !self.subs[*ch].contains(&s) {
                        self.subs[*ch].push(s);
                    }
                    self.disp[Self::idx(s)] = Disposition::Caught;
                }
            }
            Op::Stop(ch) => {
                let gone = std::mem::take(&mut self.subs[*ch]);
                for s in gone {
                    if !self.subscribed(s) {
                        // The first-touch disposition: SIG_DFL (set before anything ran).
                        self.disp[Self::idx(s)] = Disposition::Default;
                    }
                }
            }
            Op::Ignore(sigs) | Op::Reset(sigs) => {
                for &s in sigs {
                    for sub in &mut self.subs {
                        sub.retain(|&x| x != s);
                    }
                    let ignore = matches!(op, Op::Ignore(_));
                    self.disp[Self::idx(s)] = if ignore { Disposition::Ignored } else { Disposition::Default };
                }
            }
            Op::Send(_) | Op::Ignored(_) => {}
        }
    }
}

fn status_mask(field: &str) -> u64 {
    let text = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = text.lines().find(|l| l.starts_with(field)).unwrap();
    u64::from_str_radix(line.split_whitespace().nth(1).unwrap(), 16).unwrap()
}

fn check_kernel(model: &Model, after: &Op) {
    let (ign, cgt) = (status_mask("SigIgn:"), status_mask("SigCgt:"));
    for (i, &s) in SIGS.iter().enumerate() {
        let bit = 1u64 << (s.as_raw() - 1);
        let want = model.disp[i];
        let got = if ign & bit != 0 {
            Disposition::Ignored
        } else if cgt & bit != 0 {
            Disposition::Caught
        } else {
            Disposition::Default
        };
        assert_eq!(got, want, "{s} after {after:?}");
        assert_eq!(sigchan::ignored(s), want == Disposition::Ignored, "ignored({s}) after {after:?}");
    }
}

fn run(ops: &[Op], deadly: &dyn Fn(i32)) {
    for s in SIGS {
        // SAFETY: plain disposition change in this single-threaded child; libFuzzer's own
        // handlers for USR1/USR2 must not be the "original" action here.
        unsafe { libc::signal(s.as_raw(), libc::SIG_DFL) };
    }
    let sentinel = Signal::rtmin(2).unwrap();
    // Two witnesses, one of each kind: plain deliveries are ordered among themselves (bits,
    // lower numbers first) and info deliveries among themselves (ring order), but a drain may
    // hand out a record newer than the bits it took, so neither kind orders the other.
    let (wtx, witness) = unbounded::<Signal>();
    sigchan::notify(&wtx, &[sentinel]).unwrap();
    let (winfo_tx, info_witness) = unbounded::<SigInfo>();
    sigchan::notify_info(&winfo_tx, &[sentinel]).unwrap();
    let chans: Vec<Chan> = (0..CHANNELS)
        .map(|i| {
            if i == INFO {
                let (tx, rx) = unbounded();
                Chan::Info(tx, rx)
            } else {
                let (tx, rx) = unbounded();
                Chan::Plain(tx, rx)
            }
        })
        .collect();
    let mut model = Model { subs: Default::default(), disp: [Disposition::Default; 4] };
    let tid = unsafe { libc::syscall(libc::SYS_gettid) } as i32;
    let pid = std::process::id() as i32;
    for op in ops {
        match op {
            // `&[]` means every catchable signal; this target keeps to its four.
            Op::Notify(ch, sigs) => {
                if !sigs.is_empty() {
                    chans[*ch].notify(sigs)
                }
            }
            Op::Stop(ch) => chans[*ch].stop(),
            Op::Ignore(sigs) => {
                if !sigs.is_empty() {
                    sigchan::ignore(sigs).unwrap()
                }
            }
            Op::Reset(sigs) => {
                if !sigs.is_empty() {
                    sigchan::reset(sigs).unwrap()
                }
            }
            Op::Send(s) => {
                let d = model.disp[Model::idx(*s)];
                if d == Disposition::Default && *s != SIGWINCH {
                    deadly(s.as_raw());
                }
                // SAFETY: signals to this thread of this process.
                unsafe {
                    libc::syscall(libc::SYS_tgkill, pid, tid, s.as_raw());
                    libc::syscall(libc::SYS_tgkill, pid, tid, sentinel.as_raw());
                }
                // The sentinel is sent after `s`: its bit is taken with or after `s`'s and
                // delivered after it (higher number), and its record follows any record of
                // `s` in the ring. Once both witnesses have it, every delivery of `s` has
                // happened.
                let w = witness.recv_timeout(Duration::from_secs(10)).ok();
                assert_eq!(w, Some(sentinel), "sentinel lost (plain)");
                let w = info_witness.recv_timeout(Duration::from_secs(10)).ok().map(|i| i.signal());
                assert_eq!(w, Some(sentinel), "sentinel lost (info)");
                for (i, chan) in chans.iter().enumerate() {
                    let origin = (i == INFO).then_some(pid);
                    let want = if model.subs[i].contains(s) { vec![(*s, origin)] } else { vec![] };
                    assert_eq!(chan.drain(), want, "channel {i} after {op:?} (model {:?})", model.subs);
                }
            }
            Op::Ignored(s) => {
                assert_eq!(sigchan::ignored(*s), model.disp[Model::idx(*s)] == Disposition::Ignored);
            }
        }
        model.apply(op);
        check_kernel(&model, op);
    }
}

fuzz_target!(|data: &[u8]| {
    let ops = decode(data);
    if ops.is_empty() {
        return;
    }
    let mut fds = [0; 2];
    // SAFETY: a pipe for the child to announce the signal it expects to die by.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: the child runs the sequence and _exits; the parent only waits.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        let announce = |sig: i32| {
            let b = sig as u8;
            // SAFETY: one byte into our pipe.
            unsafe { libc::write(fds[1], &b as *const u8 as *const libc::c_void, 1) };
        };
        let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&ops, &announce))).is_ok();
        // SAFETY: leaves the child without running libFuzzer's exit handlers.
        unsafe { libc::_exit(if ok { 0 } else { 101 }) };
    }
    // SAFETY: closing our write end; reading the announcement; reaping the child.
    let (expected, status) = unsafe {
        libc::close(fds[1]);
        let mut status = 0;
        libc::waitpid(pid, &mut status, 0);
        let mut b = 0u8;
        let n = libc::read(fds[0], &mut b as *mut u8 as *mut libc::c_void, 1);
        libc::close(fds[0]);
        (if n == 1 { Some(b as i32) } else { None }, status)
    };
    match expected {
        Some(sig) => assert!(
            libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == sig,
            "expected death by {sig}, status {status:#x}, ops {ops:?}"
        ),
        None => assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "child failed (status {status:#x}) on ops {ops:?}"
        ),
    }
});
