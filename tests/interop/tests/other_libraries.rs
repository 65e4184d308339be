//! sigchan in the same process as tokio::signal and signal-hook, registered before and after
//! it, in both orders: whatever sigchan does on `stop`, `reset`, a dropped receiver or a
//! dropped `Shutdown`, the other library keeps receiving the signal and the process lives;
//! in default mode and after `init()` (where sigchan's thread takes the signal without a
//! handler frame unless the other library's handler must run). Each case runs in a forked
//! child.

#[path = "../../common/mod.rs"]
mod common;
use common::*;
use crossbeam_channel::unbounded;
use sigchan::{Signal, SIGUSR1};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// How sigchan lets go of SIGUSR1.
#[derive(Clone, Copy, Debug)]
enum LetGo {
    Stop,
    Reset,
    DropReceiver,
    DropShutdown,
}

const ALL: [LetGo; 4] = [
    LetGo::Stop,
    LetGo::Reset,
    LetGo::DropReceiver,
    LetGo::DropShutdown,
];

/// sigchan's side: subscribed until `let_go` is called.
struct Sigchan {
    kind: LetGo,
    tx: crossbeam_channel::Sender<Signal>,
    rx: Option<crossbeam_channel::Receiver<Signal>>,
    shutdown: Option<sigchan::Shutdown>,
}

impl Sigchan {
    fn subscribe(kind: LetGo) -> Sigchan {
        let (tx, rx) = unbounded::<Signal>();
        let shutdown = match kind {
            LetGo::DropShutdown => Some(sigchan::shutdown_on(&[SIGUSR1]).unwrap()),
            _ => {
                sigchan::notify(&tx, &[SIGUSR1]).unwrap();
                None
            }
        };
        Sigchan {
            kind,
            tx,
            rx: Some(rx),
            shutdown,
        }
    }

    /// Checks sigchan got the signal too, while subscribed.
    fn expect(&self) {
        match (&self.shutdown, &self.rx) {
            (Some(s), _) => assert_eq!(s.wait(), Some(SIGUSR1)),
            (None, Some(rx)) => assert_eq!(expect_signal(rx, "sigchan's copy"), SIGUSR1),
            _ => unreachable!(),
        }
    }

    /// Lets go; `deliver_one` is called if letting go needs one more signal (a dropped
    /// receiver is noticed at the next delivery attempt).
    fn let_go(mut self, mut deliver_one: impl FnMut()) {
        match self.kind {
            LetGo::Stop => sigchan::stop(&self.tx),
            LetGo::Reset => sigchan::reset(&[SIGUSR1]).unwrap(),
            LetGo::DropShutdown => drop(self.shutdown.take()),
            LetGo::DropReceiver => {
                drop(self.rx.take());
                // A sigchan call returns after a full signal-thread cycle, so the counter
                // read after it includes the last delivery's (it trails the send).
                let (t, _r) = unbounded::<Signal>();
                sigchan::notify(&t, &[sigchan::SIGUSR2]).unwrap();
                sigchan::stop(&t);
                let delivered = sigchan::stats(SIGUSR1).delivered;
                deliver_one();
                // The cycle that found the receiver gone and unsubscribed it.
                sigchan::notify(&t, &[sigchan::SIGUSR2]).unwrap();
                sigchan::stop(&t);
                assert_eq!(sigchan::stats(SIGUSR1).delivered, delivered, "nothing sent");
                let before = sigchan::stats(SIGUSR1).arrivals;
                deliver_one();
                sigchan::notify(&t, &[sigchan::SIGUSR2]).unwrap();
                sigchan::stop(&t);
                assert_eq!(
                    sigchan::stats(SIGUSR1).arrivals,
                    before,
                    "still subscribed after the receiver was found gone"
                );
            }
        }
    }
}

/// tokio::signal on a current-thread runtime in this process.
struct Tokio {
    rt: tokio::runtime::Runtime,
    usr1: tokio::signal::unix::Signal,
}

impl Tokio {
    fn register() -> Tokio {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let usr1 = {
            let _g = rt.enter();
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::user_defined1()).unwrap()
        };
        Tokio { rt, usr1 }
    }

    #[track_caller]
    fn expect(&mut self, what: &str) {
        let usr1 = &mut self.usr1;
        let got = self
            .rt
            .block_on(async { tokio::time::timeout(RECV, usr1.recv()).await });
        assert_eq!(got, Ok(Some(())), "tokio did not receive: {what}");
    }
}

/// `init()` first, or not: after it sigchan's thread takes SIGUSR1 without a handler frame,
/// and gives it back to the kernel when the other library's handler is installed over
/// sigchan's.
fn enter_mode(init: bool) {
    if init {
        sigchan::init().unwrap();
    }
}

fn tokio_case(tokio_first: bool, kind: LetGo, init: bool) {
    let out = run_in_child(move || {
        enter_mode(init);
        let (mut tokio, ours) = if tokio_first {
            let t = Tokio::register();
            (t, Sigchan::subscribe(kind))
        } else {
            let s = Sigchan::subscribe(kind);
            (Tokio::register(), s)
        };
        raise_process(SIGUSR1);
        ours.expect();
        tokio.expect("while both listen");
        ours.let_go(|| {
            raise_process(SIGUSR1);
        });
        if matches!(kind, LetGo::DropReceiver) {
            // The two signals let_go sent (tokio may merge them into one wake-up).
            tokio.expect("the signals let_go sent");
        }
        for round in 0..3 {
            raise_process(SIGUSR1);
            tokio.expect(&format!("round {round} after sigchan let go"));
        }
    });
    assert!(
        !out.timed_out && out.exit_code() == Some(0),
        "tokio {} sigchan, {kind:?}, init {init}: {out:?}",
        if tokio_first { "before" } else { "after" }
    );
}

#[test]
fn tokio_registered_after_sigchan_keeps_receiving() {
    for kind in ALL {
        tokio_case(false, kind, false);
    }
}

#[test]
fn tokio_registered_after_sigchan_keeps_receiving_in_init_mode() {
    for kind in ALL {
        tokio_case(false, kind, true);
    }
}

#[test]
fn tokio_registered_before_sigchan_keeps_receiving() {
    for kind in ALL {
        tokio_case(true, kind, false);
    }
}

#[test]
fn tokio_registered_before_sigchan_keeps_receiving_in_init_mode() {
    for kind in ALL {
        tokio_case(true, kind, true);
    }
}

fn signal_hook_case(hook_first: bool, kind: LetGo, init: bool) {
    let out = run_in_child(move || {
        enter_mode(init);
        let flag = Arc::new(AtomicBool::new(false));
        let register = || signal_hook::flag::register(libc::SIGUSR1, flag.clone()).unwrap();
        let ours = if hook_first {
            register();
            Sigchan::subscribe(kind)
        } else {
            let s = Sigchan::subscribe(kind);
            register();
            s
        };
        raise_process(SIGUSR1);
        ours.expect();
        assert!(flag.swap(false, Ordering::SeqCst), "signal-hook missed it");
        ours.let_go(|| raise_process(SIGUSR1));
        for _ in 0..3 {
            flag.store(false, Ordering::SeqCst);
            raise_process(SIGUSR1);
            wait_until("signal-hook's flag", || flag.load(Ordering::SeqCst));
        }
    });
    assert!(
        !out.timed_out && out.exit_code() == Some(0),
        "signal-hook {} sigchan, {kind:?}, init {init}: {out:?}",
        if hook_first { "before" } else { "after" }
    );
}

#[test]
fn signal_hook_registered_after_sigchan_keeps_receiving() {
    for kind in ALL {
        signal_hook_case(false, kind, false);
    }
}

#[test]
fn signal_hook_registered_after_sigchan_keeps_receiving_in_init_mode() {
    for kind in ALL {
        signal_hook_case(false, kind, true);
    }
}

#[test]
fn signal_hook_registered_before_sigchan_keeps_receiving() {
    for kind in ALL {
        signal_hook_case(true, kind, false);
    }
}

#[test]
fn signal_hook_registered_before_sigchan_keeps_receiving_in_init_mode() {
    for kind in ALL {
        signal_hook_case(true, kind, true);
    }
}

/// A raw `sigaction` handler installed after sigchan that does not chain: sigchan's stop
/// and reset must not remove it, and a new subscription must not steal it (sigchan cannot
/// tell it from tokio's, which chains to sigchan's: replacing that one would loop).
#[test]
fn a_raw_handler_installed_after_sigchan_is_neither_removed_nor_stolen() {
    static HITS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    extern "C" fn raw(_: libc::c_int) {
        HITS.fetch_add(1, Ordering::SeqCst);
    }
    isolated(|| {
        let raw_addr = raw as *const () as usize;
        let (tx, _rx) = unbounded::<Signal>();
        sigchan::notify(&tx, &[SIGUSR1]).unwrap();
        set_disposition(libc::SIGUSR1, raw_addr);
        sigchan::stop(&tx);
        sigchan::reset(&[SIGUSR1]).unwrap();
        assert_eq!(kernel_action(libc::SIGUSR1).handler, raw_addr);
        raise_process(SIGUSR1);
        wait_until("the raw handler ran", || HITS.load(Ordering::SeqCst) == 1);
        let (tx2, _rx2) = unbounded::<Signal>();
        sigchan::notify(&tx2, &[SIGUSR1]).unwrap();
        assert_eq!(kernel_action(libc::SIGUSR1).handler, raw_addr, "stolen");
        raise_process(SIGUSR1);
        wait_until("the raw handler ran again", || {
            HITS.load(Ordering::SeqCst) == 2
        });
        sigchan::stop(&tx2);
        assert_eq!(kernel_action(libc::SIGUSR1).handler, raw_addr);
    });
}

/// A handler installed over a disposition sigchan had given back does not know sigchan: a
/// new subscription installs sigchan's handler and chains to it, so both get the signal.
#[test]
fn a_handler_installed_after_sigchan_let_go_is_chained_to() {
    static HITS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    extern "C" fn raw(_: libc::c_int) {
        HITS.fetch_add(1, Ordering::SeqCst);
    }
    isolated(|| {
        let (tx, _rx) = unbounded::<Signal>();
        sigchan::notify(&tx, &[SIGUSR1]).unwrap();
        sigchan::stop(&tx);
        assert_eq!(kernel_action(libc::SIGUSR1).handler, libc::SIG_DFL);
        set_disposition(libc::SIGUSR1, raw as *const () as usize);
        let (tx2, rx2) = unbounded::<Signal>();
        sigchan::notify(&tx2, &[SIGUSR1]).unwrap();
        raise_process(SIGUSR1);
        assert_eq!(expect_signal(&rx2, "sigchan"), SIGUSR1);
        wait_until("the raw handler chained", || {
            HITS.load(Ordering::SeqCst) == 1
        });
        sigchan::stop(&tx2);
        assert_eq!(
            kernel_action(libc::SIGUSR1).handler,
            raw as *const () as usize,
            "given back to the handler sigchan took it from"
        );
    });
}
