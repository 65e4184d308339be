//! What a process's threads cost, read by another process from `/proc/<pid>/task/*`: CPU time
//! on the CPU (`schedstat`'s first field, user + system in nanoseconds, what `perf stat -e
//! task-clock` counts) and context switches (`status`), per thread with its name.

use std::collections::BTreeMap;

/// One thread's counters.
#[derive(Clone, Copy, Default)]
pub struct ThreadCost {
    pub cpu_ns: u64,
    pub voluntary: u64,
    pub involuntary: u64,
}

/// Every thread of `pid` by tid: its name and counters.
pub fn snapshot(pid: i32) -> BTreeMap<i32, (String, ThreadCost)> {
    let mut out = BTreeMap::new();
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return out;
    };
    for entry in dir.flatten() {
        let Ok(tid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let base = format!("/proc/{pid}/task/{tid}");
        let name = std::fs::read_to_string(format!("{base}/comm")).unwrap_or_default();
        let sched = std::fs::read_to_string(format!("{base}/schedstat")).unwrap_or_default();
        let status = std::fs::read_to_string(format!("{base}/status")).unwrap_or_default();
        let field = |key: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0)
        };
        let cost = ThreadCost {
            cpu_ns: sched
                .split_whitespace()
                .next()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            voluntary: field("voluntary_ctxt_switches:"),
            involuntary: field("nonvoluntary_ctxt_switches:"),
        };
        out.insert(tid, (name.trim().to_string(), cost));
    }
    out
}
