//! sigchan's streams under executors other than tokio (`tests/interop` has tokio): smol, whose
//! reactor is async-io; the futures crate's `block_on` and `ThreadPool`; and async-task,
//! smol's task primitive, with a schedule function that runs a task on the thread that wakes
//! it. The same properties under each: the signal thread's wake reaches a parked task, a
//! `recv` cancelled after its signal was delivered loses nothing, and a stream dropped on the
//! signal thread neither deadlocks it nor leaves its subscription behind. Each test runs in
//! a forked child; every wait is bounded (`RECV`), so a missing wake fails rather than hangs.

#[path = "../../common/mod.rs"]
mod common;
use common::*;
use futures::FutureExt;
use sigchan::stream::{InfoStream, SignalStream};
use sigchan::{Signal, SIGHUP, SIGUSR1, SIGUSR2};
use std::future::Future;
use std::time::Duration;

/// Sends `sig` to this process from another thread, once the caller has had time to park.
fn raise_soon(sig: Signal) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        raise_process(sig);
    })
}

/// `f` under smol's `block_on`, or `None` if it is not ready within `RECV`.
fn smol_within<T>(f: impl Future<Output = T>) -> Option<T> {
    smol::block_on(smol::future::or(async { Some(f.await) }, async {
        smol::Timer::after(RECV).await;
        None
    }))
}

/// `f` under the futures crate's `block_on`, or `None` if it is not ready within `RECV`.
/// (futures has no timer: a watchdog thread completes a oneshot.)
fn futures_within<T>(f: impl Future<Output = T>) -> Option<T> {
    let (tx, rx) = futures::channel::oneshot::channel::<()>();
    std::thread::spawn(move || {
        std::thread::sleep(RECV);
        let _ = tx.send(());
    });
    futures::executor::block_on(async {
        futures::select_biased! {
            v = std::pin::pin!(f.fuse()) => Some(v),
            _ = rx.fuse() => None,
        }
    })
}

/// A `recv` parked under `block_on` (one of the two below) returns the signal another
/// thread sends: only the signal thread's wake can end the park.
fn block_on_is_woken_by_the_signal_thread(block_on: fn(&mut SignalStream) -> Option<Signal>) {
    let mut signals = SignalStream::new(&[SIGHUP, SIGUSR1]).unwrap();
    let sender = raise_soon(SIGUSR1);
    assert_eq!(block_on(&mut signals), Some(SIGUSR1), "no wake");
    sender.join().unwrap();
}

#[test]
fn smol_block_on_is_woken_by_the_signal_thread() {
    isolated(|| block_on_is_woken_by_the_signal_thread(|s| smol_within(s.recv())));
}

/// A task on smol's global executor (its own threads) receives; the test waits on the task.
#[test]
fn a_task_on_smols_executor_receives() {
    isolated(|| {
        let mut infos = InfoStream::new(&[SIGUSR2]).unwrap();
        let task = smol::spawn(async move { infos.recv().await });
        let sender = raise_soon(SIGUSR2);
        let info = smol_within(task).expect("no wake");
        assert_eq!(info.signal(), SIGUSR2);
        assert_eq!(info.pid(), Some(std::process::id() as i32));
        sender.join().unwrap();
    });
}

#[test]
fn futures_block_on_is_woken_by_the_signal_thread() {
    isolated(|| block_on_is_woken_by_the_signal_thread(|s| futures_within(s.recv())));
}

/// A task on the futures crate's `ThreadPool` receives; the test waits on its handle.
#[test]
fn a_task_on_a_futures_thread_pool_receives() {
    isolated(|| {
        let pool = futures::executor::ThreadPool::builder()
            .pool_size(2)
            .create()
            .unwrap();
        let mut signals = SignalStream::new(&[SIGUSR2]).unwrap();
        let handle =
            futures::task::SpawnExt::spawn_with_handle(&pool, async move { signals.recv().await })
                .unwrap();
        let sender = raise_soon(SIGUSR2);
        assert_eq!(futures_within(handle), Some(SIGUSR2), "no wake");
        sender.join().unwrap();
    });
}

/// Cancellation safety: a `recv` polled once (its waker registered), the signal delivered to
/// the stream while it waits, then the `recv` dropped (as a losing `select!` branch is). The
/// next `recv` gets the signal: a cancelled `recv` takes nothing with it.
fn a_cancelled_recv_loses_nothing(block_on: fn(&mut SignalStream) -> Option<Signal>) {
    let mut signals = SignalStream::new(&[SIGUSR1]).unwrap();
    let delivered = sigchan::stats(SIGUSR1).delivered;
    let mut cancelled = Box::pin(signals.recv());
    let waker = futures::task::noop_waker();
    let first = cancelled
        .as_mut()
        .poll(&mut std::task::Context::from_waker(&waker));
    assert!(first.is_pending(), "nothing was sent yet");
    raise_process(SIGUSR1);
    wait_until("USR1 delivered into the stream", || {
        sigchan::stats(SIGUSR1).delivered > delivered
    });
    drop(cancelled);
    assert_eq!(
        block_on(&mut signals),
        Some(SIGUSR1),
        "lost with the cancelled recv"
    );
}

#[test]
fn a_cancelled_recv_loses_nothing_under_smol() {
    isolated(|| a_cancelled_recv_loses_nothing(|s| smol_within(s.recv())));
}

#[test]
fn a_cancelled_recv_loses_nothing_under_futures() {
    isolated(|| a_cancelled_recv_loses_nothing(|s| futures_within(s.recv())));
}

/// The same through `select!`, as a loop uses it: `recv` polled first (its waker registered)
/// beside a branch that is always ready, so `recv` is cancelled every round until the signal
/// reaches the stream; then it wins. However many rounds cancel it, the signal comes out.
#[test]
fn recv_cancelled_by_select_round_after_round_loses_nothing() {
    isolated(|| {
        let mut signals = SignalStream::new(&[SIGUSR1]).unwrap();
        raise_process(SIGUSR1);
        let start = std::time::Instant::now();
        let mut cancelled = 0u64;
        let got = loop {
            let round = futures::executor::block_on(async {
                futures::select_biased! {
                    sig = std::pin::pin!(signals.recv().fuse()) => Some(sig),
                    _ = std::future::ready(()).fuse() => None,
                }
            });
            match round {
                Some(sig) => break sig,
                None => cancelled += 1,
            }
            assert!(
                start.elapsed() < RECV,
                "USR1 lost after {cancelled} cancelled rounds"
            );
        };
        assert_eq!(got, SIGUSR1);
        write_stderr(&format!("USR1 after {cancelled} cancelled rounds\n"));
    });
}

/// A stream dropped on the signal thread: an async-task task whose schedule function runs it
/// on the thread that wakes it, so the signal thread's wake completes the task there, and
/// the stream it owns is dropped (and stopped) inside the delivery. The signal thread goes
/// on: the subscription is gone, the disposition given back, and sigchan still delivers.
#[test]
fn a_stream_dropped_on_the_signal_thread_by_async_task() {
    isolated(|| {
        let signals = SignalStream::new(&[SIGUSR1]).unwrap();
        let (done_tx, done_rx) = crossbeam_channel::bounded(1);
        let (runnable, task) = async_task::spawn(
            async move {
                let mut signals = signals;
                let sig = signals.recv().await;
                let thread = std::fs::read_to_string("/proc/thread-self/comm").unwrap();
                drop(signals);
                done_tx.send((sig, thread.trim().to_owned())).unwrap();
            },
            |runnable: async_task::Runnable| {
                runnable.run();
            },
        );
        task.detach();
        runnable.run();
        raise_process(SIGUSR1);
        let (sig, thread) = done_rx.recv_timeout(RECV).expect("no wake");
        assert_eq!(sig, SIGUSR1);
        assert_eq!(thread, "sigchan", "completed where it was woken");
        wait_until("USR1 given back", || {
            kernel_action(libc::SIGUSR1).handler == libc::SIG_DFL
        });
        let (tx, rx) = crossbeam_channel::unbounded::<Signal>();
        sigchan::notify(&tx, &[SIGUSR2]).unwrap();
        raise_process(SIGUSR2);
        assert_eq!(expect_signal(&rx, "USR2 after the drop"), SIGUSR2);
    });
}
