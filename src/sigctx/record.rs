//! One arrival's origin as the handler copies it out of the kernel's `siginfo_t`: raw fields
//! only, decoded later into a `SigInfo` outside the handler (`crate::types::info`).

use libc::siginfo_t;

/// The raw `siginfo_t` fields of one arrival (32 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Record {
    /// The signal number.
    pub(crate) signo: u8,
    /// `si_code`: who or what sent it (decoded into `Cause`).
    pub(crate) code: i32,
    /// `si_pid`: the sender, or the child for `SIGCHLD`.
    pub(crate) pid: i32,
    /// `si_uid`: the sender's real user id.
    pub(crate) uid: u32,
    /// `si_value`: the `sigqueue(3)` payload, as the pointer-sized union's bits.
    pub(crate) value: u64,
    /// `si_status`: a `SIGCHLD` child's exit code or signal.
    pub(crate) status: i32,
}

impl Record {
    /// Copies the origin of an arrival of `sig` whose `si_code` is `code`. Which union member
    /// is meaningful depends on `code`; all are copied, and `SigInfo` reports only the ones
    /// that apply. Async-signal-safe: plain loads.
    ///
    /// # Safety
    /// `info` is null or the `siginfo_t` the kernel passed to the running `SA_SIGINFO`
    /// handler.
    pub(crate) unsafe fn from_siginfo(sig: i32, code: i32, info: *const siginfo_t) -> Record {
        let mut rec = Record {
            signo: sig as u8,
            code,
            ..Record::default()
        };
        if !info.is_null() {
            // SAFETY: per the contract info is the kernel's siginfo_t; these accessors read
            // fixed offsets of its 128 bytes.
            unsafe {
                rec.pid = (*info).si_pid();
                rec.uid = (*info).si_uid();
                rec.status = (*info).si_status();
                rec.value = (*info).si_value().sival_ptr as usize as u64;
            }
        }
        rec
    }

    /// The record as three words plus `value`, the form a ring slot stores.
    pub(crate) fn to_words(self) -> [u64; 3] {
        [
            u64::from(self.signo) | (u64::from(self.code as u32) << 32),
            u64::from(self.pid as u32) | (u64::from(self.uid) << 32),
            u64::from(self.status as u32),
        ]
    }

    /// The inverse of `to_words`.
    pub(crate) fn from_words(w: [u64; 3], value: u64) -> Record {
        Record {
            signo: w[0] as u8,
            code: (w[0] >> 32) as u32 as i32,
            pid: w[1] as u32 as i32,
            uid: (w[1] >> 32) as u32,
            value,
            status: w[2] as u32 as i32,
        }
    }
}
