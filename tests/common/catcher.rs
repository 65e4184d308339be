//! A process that catches every signal sent to it and reports each arrival on a pipe: the
//! target of the forwarding tests. It blocks every signal and takes them with `sigwaitinfo`,
//! so nothing it receives merges except in the kernel.

use std::time::{Duration, Instant};

/// One arrival as the catcher saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caught {
    pub signo: i32,
    pub code: i32,
    pub pid: i32,
    pub value: i32,
}

/// The catcher's pid and the read end of its report pipe; killed and reaped on drop.
pub struct Catcher {
    pub pid: i32,
    reports: i32,
}

impl Catcher {
    /// Forks a catcher (in a process group of its own if `own_group`), which dies with the
    /// process that forked it, and waits until it blocks every signal.
    pub fn start(own_group: bool) -> Catcher {
        let mut fds = [0; 2];
        // SAFETY: fds is a valid array of two ints.
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        // SAFETY: getpid cannot fail.
        let parent = unsafe { libc::getpid() };
        // SAFETY: the child runs only async-signal-safe calls until it is killed.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            // SAFETY: raw calls on local data, then a loop that never returns.
            unsafe { catch_forever(fds[1], own_group, parent) }
        }
        // SAFETY: closing our copy of the write end.
        unsafe { libc::close(fds[1]) };
        let c = Catcher {
            pid,
            reports: fds[0],
        };
        let ready = c
            .next(Duration::from_secs(60))
            .expect("the catcher started");
        assert_eq!(ready.signo, 0, "the ready mark first");
        c
    }

    /// The next arrival the catcher reports, if one comes within `within`.
    pub fn next(&self, within: Duration) -> Option<Caught> {
        let mut buf = [0u8; 16];
        let mut got = 0;
        let deadline = Instant::now() + within;
        while got < buf.len() {
            let left = deadline.saturating_duration_since(Instant::now());
            let mut pfd = libc::pollfd {
                fd: self.reports,
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one live pollfd.
            let n = unsafe { libc::poll(&mut pfd, 1, left.as_millis().min(60_000) as i32) };
            if n == 0 && left.is_zero() {
                return None;
            }
            if n <= 0 {
                continue;
            }
            // SAFETY: reading into the rest of a live buffer.
            let r = unsafe {
                libc::read(
                    self.reports,
                    buf[got..].as_mut_ptr().cast(),
                    buf.len() - got,
                )
            };
            if r <= 0 {
                return None;
            }
            got += r as usize;
        }
        let word = |i: usize| i32::from_ne_bytes(buf[i * 4..i * 4 + 4].try_into().unwrap());
        Some(Caught {
            signo: word(0),
            code: word(1),
            pid: word(2),
            value: word(3),
        })
    }

    /// Everything reported until nothing more comes for `quiet`.
    pub fn drain(&self, quiet: Duration) -> Vec<Caught> {
        std::iter::from_fn(|| self.next(quiet)).collect()
    }
}

impl Drop for Catcher {
    fn drop(&mut self) {
        // SAFETY: killing and reaping our own child, closing our fd.
        unsafe {
            libc::kill(self.pid, libc::SIGKILL);
            libc::waitpid(self.pid, std::ptr::null_mut(), 0);
            libc::close(self.reports);
        }
    }
}

/// The catcher's body: block everything, say ready, then report each arrival.
///
/// # Safety
/// Runs in a freshly forked child; `out` is the write end of the report pipe, `parent` the
/// pid that forked it.
unsafe fn catch_forever(out: i32, own_group: bool, parent: i32) -> ! {
    // SAFETY: local sigset; raw calls on it and on our own pipe.
    unsafe {
        // Dies with the test process, even one that the default action of a signal ended
        // before it could drop the `Catcher` (the stop-vs-kill rounds end that way).
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        if libc::getppid() != parent {
            libc::_exit(0);
        }
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_BLOCK, &all, std::ptr::null_mut());
        if own_group {
            libc::setpgid(0, 0);
        }
        let report = |w: [i32; 4]| {
            let mut bytes = [0u8; 16];
            for (i, v) in w.iter().enumerate() {
                bytes[i * 4..i * 4 + 4].copy_from_slice(&v.to_ne_bytes());
            }
            libc::write(out, bytes.as_ptr().cast(), 16);
        };
        report([0; 4]);
        loop {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            let sig = libc::sigwaitinfo(&all, &mut info);
            if sig > 0 {
                report([
                    sig,
                    info.si_code,
                    info.si_pid(),
                    info.si_value().sival_ptr as usize as i32,
                ]);
            }
        }
    }
}
