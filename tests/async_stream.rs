//! Async streams (feature `async`): woken by the signal thread under a minimal executor
//! and under tokio, buffered, and stopped on drop. Each test runs in a forked child.
#![cfg(feature = "async")]

mod common;
use common::*;
use futures_core::Stream;
use sigchan::stream::{InfoStream, SignalStream};
use sigchan::{Cause, SIGHUP, SIGUSR1, SIGUSR2};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

/// Counts wake-ups and unparks the polling thread.
struct Unpark {
    thread: std::thread::Thread,
    wakes: AtomicUsize,
}

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
        self.thread.unpark();
    }
}

/// The smallest executor: polls on this thread, parks between polls, gives up after RECV.
/// Returns the output and how many times the waker was used.
fn block_on<F: Future>(f: F) -> (F::Output, usize) {
    block_on_then(f, || {})
}

/// `block_on`, calling `pending` once the first poll has returned `Pending`: a signal sent
/// from there must reach the task through its waker, however slow the first poll was.
fn block_on_then<F: Future>(f: F, pending: impl FnOnce()) -> (F::Output, usize) {
    let mut pending = Some(pending);
    let unpark = Arc::new(Unpark {
        thread: std::thread::current(),
        wakes: AtomicUsize::new(0),
    });
    let waker = Waker::from(unpark.clone());
    let mut f = std::pin::pin!(f);
    let start = Instant::now();
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut Context::from_waker(&waker)) {
            return (v, unpark.wakes.load(Ordering::SeqCst));
        }
        if let Some(hook) = pending.take() {
            hook();
        }
        assert!(start.elapsed() < RECV, "future not ready within {RECV:?}");
        std::thread::park_timeout(Duration::from_millis(100));
    }
}

#[test]
fn a_pending_task_is_woken_by_the_signal_thread() {
    isolated(|| {
        let mut signals = SignalStream::new(&[SIGUSR1]).unwrap();
        let (sig, wakes) = block_on_then(signals.recv(), || raise_process(SIGUSR1));
        assert_eq!(sig, SIGUSR1);
        assert!(
            wakes >= 1,
            "the task was pending, so a wake-up delivered it"
        );
    });
}

#[test]
fn poll_next_yields_items_and_pending_when_empty() {
    isolated(|| {
        let mut infos = InfoStream::new(&[SIGUSR2]).unwrap();
        let waker = Waker::from(Arc::new(Unpark {
            thread: std::thread::current(),
            wakes: AtomicUsize::new(0),
        }));
        let mut cx = Context::from_waker(&waker);
        assert!(Pin::new(&mut infos).poll_next(&mut cx).is_pending());
        raise_process(SIGUSR2);
        wait_until("an item is ready", || {
            matches!(
                Pin::new(&mut infos).poll_next(&mut cx),
                Poll::Ready(Some(i)) if i.signal() == SIGUSR2 && i.cause() == Cause::Kill
            )
        });
        assert!(Pin::new(&mut infos).poll_next(&mut cx).is_pending());
    });
}

#[test]
fn the_buffer_drops_beyond_its_capacity_and_counts_it() {
    isolated(|| {
        let mut infos = InfoStream::with_capacity(&[SIGUSR1], 2).unwrap();
        for _ in 0..4 {
            raise_process(SIGUSR1);
        }
        wait_until("4 arrivals handled", || {
            let s = sigchan::stats(SIGUSR1);
            s.delivered + s.dropped_full == 4
        });
        assert_eq!(sigchan::stats(SIGUSR1).dropped_full, 2);
        for _ in 0..2 {
            assert_eq!(block_on(infos.recv()).0.signal(), SIGUSR1);
        }
    });
}

#[test]
fn dropping_the_stream_stops_it() {
    isolated(|| {
        let signals = SignalStream::new(&[SIGUSR1]).unwrap();
        assert_ne!(kernel_action(libc::SIGUSR1).handler, libc::SIG_DFL);
        drop(signals);
        assert_eq!(kernel_action(libc::SIGUSR1).handler, libc::SIG_DFL);
        let infos = InfoStream::new(&[SIGUSR2]).unwrap();
        infos.stop();
        assert_eq!(kernel_action(libc::SIGUSR2).handler, libc::SIG_DFL);
    });
}

/// A task in the shape of the async book's executor: the waker holds the task, the task
/// holds the future, the future holds the stream. When the executor is gone, `wake` drops
/// the last reference to the task, which drops the stream, which calls `stop`, on the
/// signal thread itself. That used to deadlock the signal thread (the registry was locked
/// while wakers ran), and every later sigchan call hung.
struct OrphanTask {
    future: std::sync::Mutex<Option<Pin<Box<dyn Future<Output = ()> + Send>>>>,
}

impl Wake for OrphanTask {
    fn wake(self: Arc<Self>) {
        // The executor's queue is gone: the task is dropped here, with its stream.
        drop(self);
    }
}

/// Calls sigchan from another thread and fails (instead of hanging) if it does not return.
#[track_caller]
fn sigchan_still_answers() {
    let (done_tx, done_rx) = crossbeam_channel::bounded(1);
    std::thread::spawn(move || {
        let (tx, rx) = crossbeam_channel::unbounded();
        sigchan::notify(&tx, &[SIGHUP]).unwrap();
        raise_process(SIGHUP);
        let got = rx.recv_timeout(RECV);
        sigchan::stop(&tx);
        let _ = done_tx.send(got);
    });
    let got = done_rx
        .recv_timeout(RECV)
        .expect("sigchan no longer answers: the signal thread is stuck or dead");
    assert_eq!(got.unwrap(), SIGHUP);
}

#[test]
fn a_waker_that_drops_the_stream_does_not_deadlock_the_signal_thread() {
    isolated(|| {
        let mut stream = SignalStream::new(&[SIGUSR1]).unwrap();
        let task = Arc::new(OrphanTask {
            future: std::sync::Mutex::new(None),
        });
        *task.future.lock().unwrap() = Some(Box::pin(async move {
            stream.recv().await;
        }));
        {
            let waker = Waker::from(task.clone());
            let mut slot = task.future.lock().unwrap();
            let poll = slot
                .as_mut()
                .unwrap()
                .as_mut()
                .poll(&mut Context::from_waker(&waker));
            assert!(poll.is_pending());
        }
        // Only the waker inside the stream keeps the task alive now.
        drop(task);
        raise_process(SIGUSR1);
        wait_until("the dropped stream let go of USR1", || {
            kernel_action(libc::SIGUSR1).handler == libc::SIG_DFL
        });
        sigchan_still_answers();
    });
}

struct Panicking;

impl Wake for Panicking {
    fn wake(self: Arc<Self>) {
        panic!("waker panics on purpose");
    }
}

#[test]
fn a_panicking_waker_is_contained_and_reported_once() {
    let out = run_in_child(|| {
        let mut streams: Vec<_> = (0..2)
            .map(|_| SignalStream::new(&[SIGUSR1]).unwrap())
            .collect();
        let waker = Waker::from(Arc::new(Panicking));
        for s in &mut streams {
            let poll = Pin::new(s).poll_next(&mut Context::from_waker(&waker));
            assert!(poll.is_pending());
        }
        raise_process(SIGUSR1);
        // Both wakers panicked on the signal thread; it lives on and still delivers.
        sigchan_still_answers();
        assert!(thread_names().iter().any(|n| n == "sigchan"));
        for s in &mut streams {
            let noop = Waker::noop();
            let poll = Pin::new(s).poll_next(&mut Context::from_waker(noop));
            assert_eq!(poll, Poll::Ready(Some(SIGUSR1)));
        }
    });
    out.assert_success();
    let reports = out.stderr.matches("sigchan: a waker").count();
    assert_eq!(reports, 1, "reported once: {}", out.stderr);
}

/// `Shutdown::triggered()`: a task parked on it is woken by the signal thread (no polling:
/// the executor parks for 100 ms between polls, and the waker is used), resolves to the
/// signal, and a second future made after the trigger is ready at once.
#[test]
fn shutdown_triggered_wakes_a_parked_task() {
    isolated(|| {
        let shutdown = sigchan::shutdown_on(&[SIGUSR2]).unwrap();
        let (got, wakes) = block_on_then(shutdown.triggered(), || raise_process(SIGUSR2));
        assert_eq!(got, Some(SIGUSR2));
        assert!(wakes >= 1, "resolved without a wake-up: polled, not woken");
        assert_eq!(block_on(shutdown.triggered()), (Some(SIGUSR2), 0));
    });
}

/// A future outlives the token it came from (it holds the subscription), and `stop` from
/// another thread resolves it to `None`.
#[test]
fn shutdown_triggered_resolves_to_none_on_stop() {
    isolated(|| {
        let shutdown = sigchan::shutdown_on(&[SIGUSR2]).unwrap();
        let fut = shutdown.triggered();
        let stopper = shutdown.clone();
        drop(shutdown);
        let t = std::thread::spawn(move || {
            pause_briefly();
            stopper.stop();
        });
        assert_eq!(block_on(fut).0, None);
        t.join().unwrap();
    });
}
