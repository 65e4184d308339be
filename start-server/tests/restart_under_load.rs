//! The zero-downtime promise, end to end: clients keep requesting while start_server gets
//! five SIGHUPs; no request may fail, and the answers must come from every generation.

mod harness;

use harness::{get, scratch, worker, StartServer, HANG};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CLIENTS: usize = 4;
const RESTARTS: u64 = 5;
/// The load goes on until at least this many requests were answered and every restart is
/// done, whichever comes later.
const MIN_REQUESTS: u64 = 3_000;

struct ClientReport {
    ok: u64,
    failures: Vec<String>,
    per_generation: BTreeMap<u64, u64>,
}

fn client(port: u16, done: Arc<AtomicBool>, answered: Arc<AtomicU64>) -> ClientReport {
    let mut report = ClientReport {
        ok: 0,
        failures: Vec::new(),
        per_generation: BTreeMap::new(),
    };
    while !done.load(SeqCst) {
        match get(port, "/") {
            Ok(r) => {
                report.ok += 1;
                *report.per_generation.entry(r.generation).or_default() += 1;
                answered.fetch_add(1, SeqCst);
            }
            Err(e) => report.failures.push(e.to_string()),
        }
    }
    report
}

#[test]
fn five_hups_under_load_fail_no_request() {
    let dir = scratch("load");
    let worker = worker();
    let mut ss = StartServer::start(
        &dir,
        &[
            "--port=127.0.0.1:0",
            "--interval=0.5",
            "--status-file=status",
            "--pid-file=pid",
            "--",
            &worker,
        ],
    );
    let port = ss.port();
    let first = ss.wait_only(1, HANG);

    let done = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicU64::new(0));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (done, answered) = (done.clone(), answered.clone());
            std::thread::spawn(move || client(port, done, answered))
        })
        .collect();

    let mut pids = vec![first];
    for generation in 2..=RESTARTS + 1 {
        // Let some requests reach the generation about to be replaced.
        let before = answered.load(SeqCst);
        let deadline = Instant::now() + HANG;
        while answered.load(SeqCst) < before + 50 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        ss.signal(libc::SIGHUP);
        // Done when the new generation is up and the old one has drained and exited.
        pids.push(ss.wait_only(generation, HANG));
    }
    let deadline = Instant::now() + HANG;
    while answered.load(SeqCst) < MIN_REQUESTS && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    done.store(true, SeqCst);
    let reports: Vec<ClientReport> = clients.into_iter().map(|c| c.join().unwrap()).collect();

    let ok: u64 = reports.iter().map(|r| r.ok).sum();
    let failures: Vec<&String> = reports.iter().flat_map(|r| &r.failures).collect();
    let mut per_generation = BTreeMap::new();
    for r in &reports {
        for (g, n) in &r.per_generation {
            *per_generation.entry(*g).or_insert(0u64) += n;
        }
    }
    eprintln!(
        "{CLIENTS} clients, {RESTARTS} SIGHUPs: {ok} requests answered, {} failed; per generation {per_generation:?}",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} requests failed: {failures:?}",
        failures.len()
    );
    assert!(ok >= MIN_REQUESTS, "only {ok} requests in the time allowed");
    let expected: Vec<u64> = (1..=RESTARTS + 1).collect();
    assert_eq!(
        per_generation.keys().copied().collect::<Vec<_>>(),
        expected,
        "every generation must have answered"
    );
    let distinct: std::collections::BTreeSet<i32> = pids.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        pids.len(),
        "each generation is a new process: {pids:?}"
    );

    ss.signal(libc::SIGTERM);
    let status = ss.wait(HANG);
    assert!(status.success(), "start_server exited with {status}");
    // Every replaced generation drained and exited 0 on the SIGTERM it was sent.
    for pid in &pids[..pids.len() - 1] {
        ss.expect_line(&format!("old worker {pid} died, exit status: 0"), HANG);
    }
    ss.expect_line(
        &format!("worker {} died, exit status: 0", pids[RESTARTS as usize]),
        HANG,
    );
    assert!(!dir.join("status").exists() && !dir.join("pid").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}
