//! The page the sender and a receiving process share: a file in `/dev/shm` both map, so the
//! receiver can be any program (the Go receiver maps the same layout).
//!
//! Six native-endian u64 words:
//! - `ARRIVALS`: signals that have come out of the mechanism under test (its low half is also
//!   the futex the sender sleeps on);
//! - `ARRIVED_AT`: `CLOCK_MONOTONIC` nanoseconds of the last arrival, taken by the receiving
//!   code as the signal comes out (the same clock in every process);
//! - `ARMED`: how many signals the receiver is ready for (a variant that re-subscribes per
//!   signal, `Shutdown::wait`, lags behind `ARRIVALS` while it does);
//! - `READY`: 1 once the receiver is set up;
//! - `PROBE`: set by the sender while it wants to know which thread ran the handler;
//! - `HANDLER_TID`: then written by a probe handler the mechanism chains to (`receivers.rs`).

use super::monotonic::monotonic_ns;
use std::fs::OpenOptions;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};

pub const ARRIVALS: usize = 0;
pub const ARRIVED_AT: usize = 1;
pub const ARMED: usize = 2;
pub const READY: usize = 3;
pub const PROBE: usize = 4;
pub const HANDLER_TID: usize = 5;
const WORDS: usize = 6;

/// The mapped page.
#[derive(Clone, Copy)]
pub struct Shared(&'static [AtomicU64; WORDS]);

impl Shared {
    /// Creates (zeroed) or opens the file at `path` and maps it shared.
    pub fn map(path: &str, create: bool) -> Shared {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(create)
            .truncate(create)
            .open(path)
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        file.set_len(4096).unwrap();
        use std::os::fd::AsRawFd;
        // SAFETY: a shared mapping of a 4096-byte file; it is never unmapped, so the
        // 'static reference stays valid; AtomicU64 accepts any bit pattern.
        let page = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                4096,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                0,
            )
        };
        assert_ne!(page, libc::MAP_FAILED, "mmap {path}");
        // SAFETY: as above; the page is 4096-aligned, enough for AtomicU64.
        Shared(unsafe { &*(page as *const [AtomicU64; WORDS]) })
    }

    pub fn get(&self, word: usize) -> u64 {
        self.0[word].load(SeqCst)
    }

    pub fn set(&self, word: usize, v: u64) {
        self.0[word].store(v, SeqCst)
    }

    /// Called by the receiving code the moment a signal comes out: the time, then the count
    /// (the sender reads them in the other order), then a futex wake of the sender, which
    /// sleeps on the count's low half meanwhile (after the time was taken: the wake is not
    /// in the latency). `rearm`: also ready for the next one.
    pub fn arrived(&self, rearm: bool) {
        self.set(ARRIVED_AT, monotonic_ns());
        if rearm {
            self.0[ARMED].fetch_add(1, SeqCst);
        }
        self.0[ARRIVALS].fetch_add(1, SeqCst);
        // SAFETY: a shared (not private) futex wake on the count's low half, in a mapping
        // both processes keep.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                self.0[ARRIVALS].as_ptr(),
                libc::FUTEX_WAKE,
                1,
            )
        };
    }

    /// Sender side: sleeps until `ARRIVALS` reaches `n` (at most `timeout` per wait).
    pub fn wait_arrivals(&self, n: u64, timeout: std::time::Duration) -> bool {
        let seen = self.get(ARRIVALS);
        if seen >= n {
            return true;
        }
        let ts = libc::timespec {
            tv_sec: timeout.as_secs() as libc::time_t,
            tv_nsec: timeout.subsec_nanos() as libc::c_long,
        };
        // SAFETY: a shared futex wait on the count's low half (little-endian x86_64) while it
        // still holds `seen`; a relative timeout.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                self.0[ARRIVALS].as_ptr(),
                libc::FUTEX_WAIT,
                seen as u32,
                &ts as *const libc::timespec,
            )
        };
        self.get(ARRIVALS) >= n
    }
}
