//! Signal, SignalSet: numbers, names, parsing, classification. Pure: no process state.

use sigchan::*;

#[test]
fn constants_match_libc() {
    let pairs = [
        (SIGHUP, libc::SIGHUP),
        (SIGINT, libc::SIGINT),
        (SIGQUIT, libc::SIGQUIT),
        (SIGILL, libc::SIGILL),
        (SIGTRAP, libc::SIGTRAP),
        (SIGABRT, libc::SIGABRT),
        (SIGBUS, libc::SIGBUS),
        (SIGFPE, libc::SIGFPE),
        (SIGKILL, libc::SIGKILL),
        (SIGUSR1, libc::SIGUSR1),
        (SIGSEGV, libc::SIGSEGV),
        (SIGUSR2, libc::SIGUSR2),
        (SIGPIPE, libc::SIGPIPE),
        (SIGALRM, libc::SIGALRM),
        (SIGTERM, libc::SIGTERM),
        (SIGSTKFLT, libc::SIGSTKFLT),
        (SIGCHLD, libc::SIGCHLD),
        (SIGCONT, libc::SIGCONT),
        (SIGSTOP, libc::SIGSTOP),
        (SIGTSTP, libc::SIGTSTP),
        (SIGTTIN, libc::SIGTTIN),
        (SIGTTOU, libc::SIGTTOU),
        (SIGURG, libc::SIGURG),
        (SIGXCPU, libc::SIGXCPU),
        (SIGXFSZ, libc::SIGXFSZ),
        (SIGVTALRM, libc::SIGVTALRM),
        (SIGPROF, libc::SIGPROF),
        (SIGWINCH, libc::SIGWINCH),
        (SIGIO, libc::SIGIO),
        (SIGPWR, libc::SIGPWR),
        (SIGSYS, libc::SIGSYS),
    ];
    for (sig, raw) in pairs {
        assert_eq!(sig.as_raw(), raw, "{sig}");
        assert_eq!(Signal::new(raw).unwrap(), sig);
    }
}

#[test]
fn display_gives_conventional_names() {
    assert_eq!(SIGINT.to_string(), "SIGINT");
    assert_eq!(format!("{SIGTERM:?}"), "SIGTERM");
    assert_eq!(Signal::rtmin(0).unwrap().to_string(), "SIGRTMIN");
    assert_eq!(Signal::rtmin(3).unwrap().to_string(), "SIGRTMIN+3");
    assert_eq!(
        Signal::new(libc::SIGRTMAX() - 1).unwrap().to_string(),
        "SIGRTMAX-1"
    );
    assert_eq!(
        Signal::new(libc::SIGRTMAX()).unwrap().to_string(),
        "SIGRTMAX"
    );
    assert_eq!(Signal::new(32).unwrap().to_string(), "SIG32");
}

#[test]
fn parse_accepts_every_documented_form() {
    for s in ["SIGINT", "INT", "sigint", "Int", "2"] {
        assert_eq!(s.parse::<Signal>().unwrap(), SIGINT, "{s}");
    }
    assert_eq!(
        "SIGRTMIN+3".parse::<Signal>().unwrap(),
        Signal::rtmin(3).unwrap()
    );
    assert_eq!(
        "rtmin+3".parse::<Signal>().unwrap(),
        Signal::rtmin(3).unwrap()
    );
    assert_eq!(
        "SIGRTMAX-1".parse::<Signal>().unwrap().as_raw(),
        libc::SIGRTMAX() - 1
    );
    assert_eq!(
        "SIGRTMIN".parse::<Signal>().unwrap().as_raw(),
        libc::SIGRTMIN()
    );
    assert_eq!("SIGIOT".parse::<Signal>().unwrap(), SIGABRT);
    assert_eq!("SIGCLD".parse::<Signal>().unwrap(), SIGCHLD);
    assert_eq!("POLL".parse::<Signal>().unwrap(), SIGIO);
    assert_eq!("SIG32".parse::<Signal>().unwrap().as_raw(), 32);
}

#[test]
fn every_signal_round_trips_through_display() {
    for n in 1..=64 {
        let sig = Signal::new(n).unwrap();
        assert_eq!(sig.to_string().parse::<Signal>().unwrap(), sig, "{sig}");
        assert_eq!(n.to_string().parse::<Signal>().unwrap(), sig);
    }
}

#[test]
fn classification() {
    assert!(SIGINT.is_catchable() && !SIGKILL.is_catchable() && !SIGSTOP.is_catchable());
    assert!(!Signal::new(32).unwrap().is_catchable() && !Signal::new(33).unwrap().is_catchable());
    assert!(Signal::rtmin(0).unwrap().is_catchable() && Signal::rtmin(0).unwrap().is_realtime());
    let sync: Vec<_> = (1..=64)
        .map(|n| Signal::new(n).unwrap())
        .filter(|s| s.is_synchronous())
        .collect();
    assert_eq!(sync, vec![SIGILL, SIGTRAP, SIGBUS, SIGFPE, SIGSEGV, SIGSYS]);
    assert!(Signal::rtmin((libc::SIGRTMAX() - libc::SIGRTMIN()) as u32).is_ok());
    assert!(Signal::rtmin((libc::SIGRTMAX() - libc::SIGRTMIN() + 1) as u32).is_err());
    assert!(Signal::rtmin(u32::MAX).is_err());
}

#[test]
fn signal_sets() {
    let all = SignalSet::catchable();
    assert_eq!(all.len(), 64 - 2 - (libc::SIGRTMIN() - 32) as usize);
    let mut s: SignalSet = [SIGTERM, SIGHUP, SIGINT].into_iter().collect();
    assert_eq!(
        s.iter().collect::<Vec<_>>(),
        vec![SIGHUP, SIGINT, SIGTERM],
        "ascending"
    );
    assert!(!s.insert(SIGHUP) && s.remove(SIGHUP) && !s.remove(SIGHUP));
    assert_eq!(format!("{s:?}"), "{SIGINT, SIGTERM}");
    assert_eq!(SignalSet::from_raw_mask(s.as_raw_mask()), s);
    let max = Signal::new(64).unwrap();
    assert!(SignalSet::from_raw_mask(1 << 63).contains(max));
}

#[test]
fn signal_is_copy_eq_hash_ord() {
    use std::collections::{BTreeSet, HashSet};
    let v = [SIGTERM, SIGINT, SIGTERM];
    assert_eq!(v.iter().copied().collect::<HashSet<_>>().len(), 2);
    assert_eq!(
        v.iter()
            .copied()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .next(),
        Some(SIGINT)
    );
    assert!(SIGHUP < SIGINT);
}
