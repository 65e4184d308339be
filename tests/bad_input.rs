//! Bad input: a clear error and nothing changed. Each test runs in a forked child.

mod common;
use common::*;
use crossbeam_channel::bounded;
use sigchan::{Error, Signal, SIGHUP, SIGKILL, SIGSTOP, SIGUSR1};

fn reserved() -> Signal {
    Signal::new(32).unwrap()
}

fn assert_untouched() {
    assert_eq!(kernel_action(SIGUSR1.as_raw()).handler, libc::SIG_DFL);
    assert_eq!(kernel_action(SIGHUP.as_raw()).handler, libc::SIG_DFL);
    assert!(
        !thread_names().iter().any(|n| n == "sigchan"),
        "a rejected call started the thread"
    );
}

#[test]
fn notify_with_one_bad_signal_changes_nothing() {
    isolated(|| {
        let (tx, _rx) = bounded::<Signal>(1);
        assert!(
            matches!(sigchan::notify(&tx, &[SIGUSR1, SIGKILL]), Err(Error::Uncatchable(s)) if s == SIGKILL)
        );
        assert!(
            matches!(sigchan::notify(&tx, &[SIGSTOP, SIGUSR1]), Err(Error::Uncatchable(s)) if s == SIGSTOP)
        );
        assert!(
            matches!(sigchan::notify(&tx, &[SIGHUP, reserved()]), Err(Error::Reserved(s)) if s.as_raw() == 32)
        );
        assert!(matches!(
            sigchan::notify(&tx, &[Signal::new(33).unwrap()]),
            Err(Error::Reserved(_))
        ));
        assert_untouched();
    });
}

#[test]
fn ignore_and_reset_with_one_bad_signal_change_nothing() {
    isolated(|| {
        assert!(matches!(
            sigchan::ignore(&[SIGHUP, SIGKILL]),
            Err(Error::Uncatchable(_))
        ));
        assert!(!sigchan::ignored(SIGHUP));
        assert!(matches!(
            sigchan::reset(&[SIGUSR1, reserved()]),
            Err(Error::Reserved(_))
        ));
        assert_untouched();
    });
}

#[test]
fn out_of_range_numbers_and_bad_names_are_rejected() {
    for n in [0, -1, 65, i32::MIN, i32::MAX] {
        assert!(
            matches!(Signal::new(n), Err(Error::Invalid(m)) if m == n),
            "{n}"
        );
    }
    for s in [
        "",
        "SIG",
        "SIGFOO",
        "KILLL",
        "SIGINT ",
        " INT",
        "+2",
        "-2",
        "0x2",
        "SIGRTMIN+",
        "SIGRTMIN-1",
        "SIGRTMAX+1",
    ] {
        let e = s.parse::<Signal>().unwrap_err();
        assert!(
            matches!(e, Error::UnknownName(_) | Error::Invalid(_)),
            "{s:?} gave {e:?}"
        );
    }
    assert!(matches!(
        "SIGRTMIN+99".parse::<Signal>(),
        Err(Error::Invalid(_))
    ));
    assert!(matches!("65".parse::<Signal>(), Err(Error::Invalid(65))));
    assert!(matches!(
        "99999999999".parse::<Signal>(),
        Err(Error::Invalid(_))
    ));
}

#[test]
fn errors_say_what_was_wrong() {
    let text = |e: Error| e.to_string();
    assert_eq!(
        text(Error::Uncatchable(SIGKILL)),
        "SIGKILL cannot be caught, blocked or ignored"
    );
    assert!(text(Error::Reserved(reserved())).contains("reserved by the C library"));
    assert!(text(Error::Invalid(99)).contains("99 is not a signal number"));
    assert!(
        text("SIGFOO".parse::<Signal>().unwrap_err()).contains("\"SIGFOO\" is not a signal name")
    );
    let os = Error::Os(std::io::Error::from_raw_os_error(libc::EINVAL));
    assert!(std::error::Error::source(&os).is_some());
}
