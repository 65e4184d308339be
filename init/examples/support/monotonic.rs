//! CLOCK_MONOTONIC in nanoseconds, the clock the probe stamps its handler with and the
//! benchmark starts its rounds with (shared by `examples/probe.rs`, `benches/versus.rs` and
//! the workspace's latency benchmark, `benches/latency/`).

/// CLOCK_MONOTONIC now, in nanoseconds. Async-signal-safe.
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec; async-signal-safe.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}
