//! The listening sockets: parsing `--port`, binding TCP and unix sockets, and the
//! `SERVER_STARTER_PORT` value that tells the workers which descriptor is which.
//!
//! start_server keeps every socket open for its whole life; each worker gets them as
//! descriptors 3, 4, ... (in the order of the options, `--port`s first), so a connection
//! waiting in the backlog is never lost when one generation replaces another.

use crate::log::say;
use socket2::{Domain, SockAddr, Socket, Type};
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::os::fd::{AsRawFd, FromRawFd, RawFd};
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

/// The first descriptor a worker receives.
pub const FIRST_FD: RawFd = 3;

/// One `--port` value: `PORT`, `HOST:PORT` or `[IPV6]:PORT`.
#[derive(Clone, Debug, PartialEq)]
pub struct PortSpec {
    host: Option<String>,
    port: u16,
}

impl PortSpec {
    /// Parses a `--port` value.
    pub fn parse(s: &str) -> Result<PortSpec, String> {
        let bad = || format!("'{s}' is not PORT, HOST:PORT or [IPV6]:PORT");
        let s = s.trim();
        if s.contains('=') {
            return Err(format!(
                "'{s}': a fixed descriptor number (PORT=FD) is not supported; \
                 descriptors are given from 3 up"
            ));
        }
        let (host, port) = match s.rsplit_once(':') {
            None => (None, s),
            Some((host, port)) => {
                let host = match host.strip_prefix('[') {
                    Some(v6) => v6.strip_suffix(']').ok_or_else(bad)?,
                    None if host.contains(':') => return Err(bad()),
                    None => host,
                };
                if host.is_empty() {
                    return Err(bad());
                }
                (Some(host.to_owned()), port)
            }
        };
        let port = port.parse::<u16>().map_err(|_| bad())?;
        Ok(PortSpec { host, port })
    }

    /// The name in SERVER_STARTER_PORT: as written, IPv6 hosts in brackets.
    pub fn key(&self) -> String {
        match &self.host {
            None => self.port.to_string(),
            Some(h) if h.contains(':') => format!("[{h}]:{}", self.port),
            Some(h) => format!("{h}:{}", self.port),
        }
    }

    fn with_port(&self, port: u16) -> PortSpec {
        PortSpec {
            host: self.host.clone(),
            port,
        }
    }

    fn resolve(&self) -> io::Result<SocketAddr> {
        let Some(host) = &self.host else {
            // Server::Starter binds a bare port on IPv4 only, for compatibility.
            return Ok(SocketAddr::from(([0, 0, 0, 0], self.port)));
        };
        let mut addrs = (host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|e| io::Error::new(e.kind(), format!("cannot resolve host '{host}': {e}")))?;
        addrs.next().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("host '{host}' has no address"),
            )
        })
    }
}

/// A bound, listening socket and its name for the workers.
pub struct Listener {
    pub key: String,
    pub socket: Socket,
    /// The file a unix socket was bound to, removed when start_server exits.
    pub unix_path: Option<PathBuf>,
}

impl Listener {
    pub fn fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }
}

/// Binds every `--port`, then every `--path`. Fails on the first that cannot be bound.
pub fn bind_all(ports: &[PortSpec], paths: &[PathBuf], backlog: i32) -> io::Result<Vec<Listener>> {
    let mut listeners = Vec::new();
    for spec in ports {
        listeners.push(bind_tcp(spec, backlog)?);
    }
    for path in paths {
        listeners.push(bind_unix(path, backlog)?);
    }
    // The descriptors a worker gets are FIRST_FD..FIRST_FD+n; keep ours above that range
    // so that placing them there in the child never overwrites one not yet placed.
    let above = FIRST_FD + listeners.len() as RawFd;
    for l in &mut listeners {
        if l.fd() < above {
            // SAFETY: F_DUPFD_CLOEXEC on a descriptor we own returns a new descriptor or -1.
            let fd = unsafe { libc::fcntl(l.fd(), libc::F_DUPFD_CLOEXEC, above) };
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: fd is a fresh descriptor owned by nothing else.
            l.socket = unsafe { Socket::from_raw_fd(fd) };
        }
    }
    Ok(listeners)
}

fn bind_tcp(spec: &PortSpec, backlog: i32) -> io::Result<Listener> {
    let addr = spec.resolve()?;
    let context =
        |e: io::Error| io::Error::new(e.kind(), format!("cannot bind {}: {e}", spec.key()));
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.bind(&addr.into()).map_err(context)?;
    socket.listen(backlog).map_err(context)?;
    let bound = socket.local_addr()?.as_socket().map(|a| a.port());
    // Port 0 asked the kernel for a free port: name the one it gave.
    let key = match bound {
        Some(port) if spec.port == 0 => spec.with_port(port).key(),
        _ => spec.key(),
    };
    Ok(Listener {
        key,
        socket,
        unix_path: None,
    })
}

fn bind_unix(path: &Path, backlog: i32) -> io::Result<Listener> {
    let shown = path.display();
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => {
            say!("start_server: removing existing socket file {shown}");
            std::fs::remove_file(path)?;
        }
        Ok(_) => {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{shown} exists and is not a socket; not removing it"),
            ))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io::Error::new(e.kind(), format!("{shown}: {e}"))),
    }
    let context = |e: io::Error| io::Error::new(e.kind(), format!("cannot listen on {shown}: {e}"));
    let socket = Socket::new(Domain::UNIX, Type::STREAM, None)?;
    let addr = SockAddr::unix(path).map_err(context)?;
    // As Server::Starter does: a socket anyone may connect to (a proxy under another user),
    // whatever start_server's umask. Still one thread here, so the umask change is ours alone.
    // SAFETY: umask only swaps the process's file mode mask.
    let saved = unsafe { libc::umask(0) };
    let bound = socket.bind(&addr);
    // SAFETY: as above, restoring the previous mask.
    unsafe { libc::umask(saved) };
    bound.map_err(context)?;
    socket.listen(backlog).map_err(context)?;
    Ok(Listener {
        key: path.to_string_lossy().into_owned(),
        socket,
        unix_path: Some(path.to_owned()),
    })
}

/// `key=fd;key=fd` with the descriptor each worker will see.
pub fn server_starter_port(listeners: &[Listener]) -> String {
    let entries: Vec<String> = (FIRST_FD..)
        .zip(listeners)
        .map(|(fd, l)| format!("{}={fd}", l.key))
        .collect();
    entries.join(";")
}

/// Removes the unix socket files (at exit).
pub fn remove_socket_files(listeners: &[Listener]) {
    for path in listeners.iter().filter_map(|l| l.unix_path.as_ref()) {
        if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket()) {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_forms() {
        assert_eq!(PortSpec::parse("8080").unwrap().key(), "8080");
        assert_eq!(
            PortSpec::parse("127.0.0.1:80").unwrap().key(),
            "127.0.0.1:80"
        );
        assert_eq!(PortSpec::parse("[::1]:80").unwrap().key(), "[::1]:80");
        assert_eq!(PortSpec::parse("localhost:0").unwrap().key(), "localhost:0");
        for bad in [
            "", "x", "::1:80", "[::1:80", ":80", "1:99999", "8080=5", "h:p",
        ] {
            assert!(PortSpec::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(PortSpec::parse("8080=5").unwrap_err().contains("PORT=FD"));
    }

    #[test]
    fn descriptors_are_named_from_three_up_and_kept_above_that_range() {
        let ports = [
            PortSpec::parse("127.0.0.1:0").unwrap(),
            PortSpec::parse("[::1]:0").unwrap(),
        ];
        let dir = std::env::temp_dir().join(format!("ss-listen-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let sock = dir.join("a.sock");
        let listeners = match bind_all(&ports, std::slice::from_ref(&sock), 16) {
            Ok(l) => l,
            // No IPv6 loopback in this sandbox: check the IPv4 and unix ones alone.
            Err(_) => bind_all(&ports[..1], std::slice::from_ref(&sock), 16).unwrap(),
        };
        let env = server_starter_port(&listeners);
        let n = listeners.len() as RawFd;
        for (i, part) in env.split(';').enumerate() {
            let (key, fd) = part.rsplit_once('=').unwrap();
            assert_eq!(fd, (3 + i).to_string());
            assert!(!key.ends_with(":0"), "port 0 not replaced in {key}");
        }
        assert!(env.ends_with(&format!("{}={}", sock.display(), 2 + n)));
        assert!(listeners.iter().all(|l| l.fd() >= FIRST_FD + n));
        // A second bind of the same TCP port fails, naming it.
        let taken = PortSpec::parse(&listeners[0].key).unwrap();
        let err = bind_all(&[taken], &[], 16).err().unwrap().to_string();
        assert!(
            err.contains("cannot bind") && err.contains("in use"),
            "{err}"
        );
        remove_socket_files(&listeners);
        assert!(!sock.exists());
        std::fs::write(&sock, "not a socket").unwrap();
        let err = bind_all(&[], std::slice::from_ref(&sock), 16)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("not a socket"), "{err}");
        assert!(sock.exists(), "a regular file was removed");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
