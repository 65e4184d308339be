//! systemd's two interfaces, through the `sd-notify` crate: socket activation (the listening
//! sockets systemd passes in `LISTEN_FDS`/`LISTEN_PID`) and readiness notification
//! (`NOTIFY_SOCKET`: `READY=1` once a generation serves, `RELOADING=1` with `MONOTONIC_USEC`
//! on SIGHUP, `READY=1` again when the new generation is up, `STOPPING=1` on TERM, and a
//! `STATUS=` line naming the live generation), so `Type=notify-reload` works and `systemctl
//! reload` returns when the new generation serves. Both are inert without systemd.

use crate::log::say;
use sd_notify::NotifyState;
use socket2::Socket;
use std::io;
use std::os::fd::FromRawFd;

/// The sockets systemd passed, if it started us by socket activation (checked against
/// `LISTEN_PID`); takes `LISTEN_PID`, `LISTEN_FDS` and `LISTEN_FDNAMES` out of the
/// environment, so workers never see them. Call it first, while this is the only thread.
pub fn inherited_sockets() -> io::Result<Vec<Socket>> {
    let fds = sd_notify::listen_fds_with_names(true)
        .map_err(|e| io::Error::new(e.kind(), format!("socket activation: {e}")))?;
    let mut sockets = Vec::new();
    for (fd, name) in fds {
        say!("start_server: socket activation: descriptor {fd} ({name}) from systemd");
        // SAFETY: systemd passed this descriptor to us for our own use; nothing else in
        // this process owns it.
        sockets.push(unsafe { Socket::from_raw_fd(fd) });
    }
    Ok(sockets)
}

/// Whether systemd passed sockets to this very process (`LISTEN_PID` is ours and
/// `LISTEN_FDS` is set): then no `--port` or `--path` is needed.
pub fn activated() -> bool {
    let ours = std::env::var("LISTEN_PID")
        .ok()
        .and_then(|p| p.parse::<u32>().ok())
        == Some(std::process::id());
    ours && std::env::var("LISTEN_FDS").is_ok_and(|n| n.parse::<u32>().is_ok_and(|n| n > 0))
}

/// The readiness notifications, to `NOTIFY_SOCKET` when systemd set it; nothing otherwise.
pub struct Notifier {
    enabled: bool,
}

impl Notifier {
    /// Reads `NOTIFY_SOCKET` (left in our environment; workers do not inherit it).
    pub fn from_env() -> Notifier {
        Notifier {
            enabled: std::env::var_os("NOTIFY_SOCKET").is_some(),
        }
    }

    fn send(&self, states: &[NotifyState]) {
        if !self.enabled {
            return;
        }
        if let Err(e) = sd_notify::notify(false, states) {
            say!("start_server: cannot notify systemd: {e}");
        }
    }

    /// Generation `generation` (pid `pid`) serves: start-up or a reload is complete.
    pub fn serving(&self, generation: u64, pid: i32) {
        let status = format!("generation {generation} (pid {pid}) serving");
        self.send(&[NotifyState::Ready, NotifyState::Status(&status)]);
    }

    /// A SIGHUP began a restart; `READY=1` follows when the new generation serves.
    pub fn reloading(&self) {
        let mut states = vec![
            NotifyState::Reloading,
            NotifyState::Status("reloading: starting a new generation"),
        ];
        // systemd 253 and later require the clock reading with RELOADING=1.
        if let Ok(now) = NotifyState::monotonic_usec_now() {
            states.push(now);
        }
        self.send(&states);
    }

    /// SIGTERM or SIGINT: the workers are being stopped.
    pub fn stopping(&self) {
        self.send(&[NotifyState::Stopping, NotifyState::Status("stopping")]);
    }
}
