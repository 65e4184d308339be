//! sigchan under tokio: async streams on a tokio runtime, tokio's `Command` with
//! `restore_signals` (feature `tokio`), and `init()` before and inside a tokio runtime. Each
//! test runs in a forked child. (A member of its own so only these tests compile tokio.)

#[path = "../../common/mod.rs"]
mod common;
use common::*;
use sigchan::process::CommandExt;
use sigchan::stream::SignalStream;
use sigchan::{SIGHUP, SIGTERM, SIGUSR1};
use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

/// A current-thread runtime with its timer and process drivers.
fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A multi-thread runtime of two workers.
fn two_workers() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap()
}

#[test]
fn works_under_tokio() {
    isolated(|| {
        let rt = current_thread();
        rt.block_on(async {
            let mut signals = SignalStream::new(&[SIGHUP, SIGUSR1]).unwrap();
            tokio::spawn(async {
                tokio::time::sleep(Duration::from_millis(20)).await;
                raise_process(SIGHUP);
            });
            let got = tokio::time::timeout(RECV, signals.recv()).await.unwrap();
            assert_eq!(got, SIGHUP);
        });
    });
}

/// `tokio::process::Command` passes the mask on like std's; `restore_signals` (feature
/// `tokio`) clears it.
#[test]
fn tokio_command_with_restore_signals_starts_unmasked() {
    isolated(|| {
        sigchan::init().unwrap();
        let rt = current_thread();
        rt.block_on(async {
            let mut plain = tokio::process::Command::new("sleep")
                .arg("30")
                .spawn()
                .unwrap();
            let pid = plain.id().unwrap() as i32;
            assert_ne!(exec_status(pid, "SigBlk") & bit(SIGTERM), 0);
            plain.kill().await.unwrap();

            let mut child = tokio::process::Command::new("sleep")
                .arg("30")
                .restore_signals()
                .spawn()
                .unwrap();
            let pid = child.id().unwrap() as i32;
            assert_eq!(exec_status(pid, "SigBlk"), 0);
            // SAFETY: our own child.
            unsafe { libc::kill(pid, libc::SIGTERM) };
            let status = tokio::time::timeout(RECV, child.wait())
                .await
                .unwrap()
                .unwrap();
            assert_eq!(status.signal(), Some(libc::SIGTERM));
        });
    });
}

/// The case: `init()` inside a multi-threaded tokio runtime used to return Ok with
/// the workers unmasked. It reports how many threads run; before the runtime it holds for
/// every worker.
#[test]
fn init_inside_a_tokio_runtime_is_refused_and_before_it_masks_the_workers() {
    isolated(|| {
        let rt = two_workers();
        let err = rt.block_on(async { sigchan::init() }).unwrap_err();
        assert!(
            matches!(err, sigchan::Error::TooLate { threads } if threads >= 2),
            "{err:?}"
        );
        drop(rt);
    });
    isolated(|| {
        sigchan::init().unwrap();
        let rt = two_workers();
        let masks: Vec<u64> = rt.block_on(async {
            let mut v = Vec::new();
            for _ in 0..4 {
                v.push(
                    tokio::task::spawn(async { proc_status_mask("SigBlk", Some(gettid())) })
                        .await
                        .unwrap(),
                );
            }
            v
        });
        assert!(masks.iter().all(|m| m & bit(SIGTERM) != 0), "{masks:x?}");
    });
}

/// `tokio::select!` over the shutdown token's future and a timer: the loop ticks until the
/// signal, which resolves the token's branch.
#[test]
fn shutdown_triggered_in_tokio_select() {
    isolated(|| {
        let rt = current_thread();
        rt.block_on(async {
            let shutdown = sigchan::shutdown_on(&[SIGTERM]).unwrap();
            tokio::spawn(async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                raise_process(SIGTERM);
            });
            let mut ticks = 0u32;
            let sig = loop {
                tokio::select! {
                    sig = shutdown.triggered() => break sig,
                    _ = tokio::time::sleep(Duration::from_millis(5)) => ticks += 1,
                }
                assert!(ticks < 12_000, "no trigger within a minute");
            };
            assert_eq!(sig, Some(SIGTERM));
        });
    });
}
