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
    /// The file a unix socket was bound to, removed when start_server exits if it is still
    /// the same file (device and inode): never another instance's socket.
    pub unix_path: Option<PathBuf>,
    unix_identity: Option<(u64, u64)>,
    /// What to bind again if a worker shuts the socket down.
    spec: Bind,
    backlog: i32,
}

#[derive(Clone)]
enum Bind {
    /// The address actually bound (the port the kernel chose, for a port 0).
    Tcp(SocketAddr),
    Unix(PathBuf),
}

impl Listener {
    pub fn fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }

    /// A listening socket start_server was given (systemd's socket activation), named by
    /// its address as a `--port` or `--path` would be: `HOST:PORT` (`[V6]:PORT`), the bare
    /// port for the IPv4 wildcard, the path of a unix socket. systemd keeps the unix socket
    /// file, so start_server never removes it.
    fn inherited(socket: Socket, backlog: i32) -> io::Result<Listener> {
        let local = socket.local_addr()?;
        let (key, spec) = if let Some(addr) = local.as_socket() {
            let key = match addr {
                SocketAddr::V4(v4) if v4.ip().is_unspecified() => v4.port().to_string(),
                SocketAddr::V4(v4) => format!("{}:{}", v4.ip(), v4.port()),
                SocketAddr::V6(v6) => format!("[{}]:{}", v6.ip(), v6.port()),
            };
            (key, Bind::Tcp(addr))
        } else if let Some(path) = local.as_pathname() {
            (path.display().to_string(), Bind::Unix(path.to_owned()))
        } else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a socket passed by systemd is neither TCP nor a unix socket with a path",
            ));
        };
        Ok(Listener {
            key,
            socket,
            unix_path: None,
            unix_identity: None,
            spec,
            backlog,
        })
    }
}

/// Binds every `--port`, then every `--path`. Fails on the first that cannot be bound.
/// Sockets systemd passed (`inherited`, socket activation) are taken instead of binding:
/// each `--port` or `--path` whose address one of them has is that socket, under the name
/// the option gives; the others are appended, named by their address. A restart of
/// start_server then keeps the port open (systemd holds it meanwhile).
pub fn bind_all(
    ports: &[PortSpec],
    paths: &[PathBuf],
    backlog: i32,
    inherited: Vec<Socket>,
) -> io::Result<Vec<Listener>> {
    let mut inherited: Vec<Listener> = inherited
        .into_iter()
        .map(|s| Listener::inherited(s, backlog))
        .collect::<io::Result<_>>()?;
    let mut listeners = Vec::new();
    for spec in ports {
        let addr = spec.resolve()?;
        match inherited
            .iter()
            .position(|l| matches!(&l.spec, Bind::Tcp(a) if *a == addr || (spec.port == 0 && a.ip() == addr.ip())))
        {
            Some(i) => {
                let mut l = inherited.remove(i);
                if spec.port != 0 {
                    l.key = spec.key();
                }
                listeners.push(l);
            }
            None => listeners.push(bind_tcp(spec, backlog)?),
        }
    }
    for path in paths {
        match inherited
            .iter()
            .position(|l| matches!(&l.spec, Bind::Unix(p) if p == path))
        {
            Some(i) => listeners.push(inherited.remove(i)),
            None => listeners.push(bind_unix(path, backlog)?),
        }
    }
    listeners.extend(inherited);
    // The descriptors a worker gets are FIRST_FD..FIRST_FD+n; keep ours above that range
    // so that placing them there in the child never overwrites one not yet placed.
    let above = FIRST_FD + listeners.len() as RawFd;
    for l in &mut listeners {
        if l.fd() < above {
            l.socket = dup_above(&l.socket, above)?;
        }
    }
    Ok(listeners)
}

/// A close-on-exec copy of `socket` at a descriptor >= `above`.
fn dup_above(socket: &Socket, above: RawFd) -> io::Result<Socket> {
    // SAFETY: F_DUPFD_CLOEXEC on a descriptor we own returns a new descriptor or -1.
    let fd = unsafe { libc::fcntl(socket.as_raw_fd(), libc::F_DUPFD_CLOEXEC, above) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh descriptor owned by nothing else.
    Ok(unsafe { Socket::from_raw_fd(fd) })
}

impl Listener {
    /// Still listening? A worker that calls `shutdown(2)` on the shared socket (as a
    /// standalone server may, to wake its own accept) leaves it closed for every later
    /// generation.
    pub fn is_listening(&self) -> bool {
        let mut on: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: SO_ACCEPTCONN writes one int into `on`.
        let r = unsafe {
            libc::getsockopt(
                self.fd(),
                libc::SOL_SOCKET,
                libc::SO_ACCEPTCONN,
                (&mut on as *mut libc::c_int).cast(),
                &mut len,
            )
        };
        r == 0 && on != 0
    }

    /// Binds the same address again (a shut-down TCP socket has lost its port: `listen`
    /// on it again would pick another), at the same descriptor number, so the descriptor
    /// the next worker gets and SERVER_STARTER_PORT stay as they were.
    pub fn revive(&mut self) -> io::Result<()> {
        let key = self.key.clone();
        let context =
            |e: io::Error| io::Error::new(e.kind(), format!("cannot listen on {key} again: {e}"));
        let fresh = match &self.spec {
            Bind::Tcp(addr) => bind_tcp_addr(*addr, &self.key, self.backlog).map_err(context)?,
            Bind::Unix(path) => {
                self.remove_own_socket_file();
                bind_unix(path, self.backlog).map_err(context)?
            }
        };
        // SAFETY: dup3 onto our own descriptor number, replacing the dead socket.
        if unsafe { libc::dup3(fresh.fd(), self.fd(), libc::O_CLOEXEC) } < 0 {
            return Err(io::Error::last_os_error());
        }
        self.unix_identity = fresh.unix_identity;
        Ok(())
    }

    fn remove_own_socket_file(&self) {
        let Some(path) = &self.unix_path else { return };
        let ours = std::fs::symlink_metadata(path)
            .is_ok_and(|m| Some(crate::safe_file::identity(&m)) == self.unix_identity);
        if ours {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn bind_tcp(spec: &PortSpec, backlog: i32) -> io::Result<Listener> {
    let mut listener = bind_tcp_addr(spec.resolve()?, &spec.key(), backlog)?;
    // Port 0 asked the kernel for a free port: name the one it gave.
    if let (Bind::Tcp(bound), 0) = (&listener.spec, spec.port) {
        listener.key = spec.with_port(bound.port()).key();
    }
    Ok(listener)
}

fn bind_tcp_addr(addr: SocketAddr, key: &str, backlog: i32) -> io::Result<Listener> {
    let context = |e: io::Error| io::Error::new(e.kind(), format!("cannot bind {key}: {e}"));
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.bind(&addr.into()).map_err(context)?;
    socket.listen(backlog).map_err(context)?;
    let bound = socket.local_addr()?.as_socket().unwrap_or(addr);
    Ok(Listener {
        key: key.to_owned(),
        socket,
        unix_path: None,
        unix_identity: None,
        spec: Bind::Tcp(bound),
        backlog,
    })
}

fn bind_unix(path: &Path, backlog: i32) -> io::Result<Listener> {
    let shown = path.display();
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => {
            // Only a stale socket (nobody accepts on it) is removed: a live one belongs to
            // another server, perhaps another start_server, and stays.
            match std::os::unix::net::UnixStream::connect(path) {
                Err(e) if e.raw_os_error() == Some(libc::ECONNREFUSED) => {
                    say!("start_server: removing stale socket file {shown}");
                    std::fs::remove_file(path)?;
                }
                Ok(_) => {
                    return Err(io::Error::new(
                        io::ErrorKind::AddrInUse,
                        format!("{shown} is a socket another process listens on; not removing it"),
                    ))
                }
                Err(e) => return Err(io::Error::new(e.kind(), format!("{shown}: {e}"))),
            }
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
    let identity = std::fs::symlink_metadata(path).map(|m| crate::safe_file::identity(&m))?;
    Ok(Listener {
        key: path.to_string_lossy().into_owned(),
        socket,
        unix_path: Some(path.to_owned()),
        unix_identity: Some(identity),
        spec: Bind::Unix(path.to_owned()),
        backlog,
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

/// Removes the unix socket files (at exit), each only if it is still the one we bound.
pub fn remove_socket_files(listeners: &[Listener]) {
    for l in listeners {
        l.remove_own_socket_file();
    }
}

/// The listeners, whose unix socket files go when this does (however `serve` returns; not
/// in a --daemonize parent, which leaves by `_exit`).
pub struct Sockets(pub Vec<Listener>);

impl Drop for Sockets {
    fn drop(&mut self) {
        remove_socket_files(&self.0);
    }
}

impl Sockets {
    /// Before a worker starts: every socket must still listen (see `Listener::revive`).
    pub fn ensure_listening(&mut self) -> io::Result<()> {
        for l in &mut self.0 {
            if !l.is_listening() {
                say!(
                    "start_server: {} no longer listens (a worker shut it down?); listening again",
                    l.key
                );
                l.revive()?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A listening TCP socket on a free loopback port, as systemd would pass one.
    fn passed_socket() -> (Socket, u16) {
        let l = bind_tcp_addr(SocketAddr::from(([127, 0, 0, 1], 0)), "x", 16).unwrap();
        let port = l.socket.local_addr().unwrap().as_socket().unwrap().port();
        (l.socket, port)
    }

    #[test]
    fn sockets_systemd_passed_are_taken_for_their_options_and_named_by_address() {
        let (a, port_a) = passed_socket();
        let (b, port_b) = passed_socket();
        let a_ino = crate::safe_file::identity(
            &std::fs::metadata(format!("/proc/self/fd/{}", a.as_raw_fd())).unwrap(),
        );
        let spec = PortSpec::parse(&format!("127.0.0.1:{port_a}")).unwrap();
        let listeners = bind_all(&[spec], &[], 16, vec![a, b]).unwrap();
        let keys: Vec<&str> = listeners.iter().map(|l| l.key.as_str()).collect();
        let b_key = format!("127.0.0.1:{port_b}");
        assert_eq!(
            keys,
            [format!("127.0.0.1:{port_a}").as_str(), b_key.as_str()]
        );
        // The option's socket is the one passed (the same open socket), not a new bind.
        let first = std::fs::metadata(format!("/proc/self/fd/{}", listeners[0].fd())).unwrap();
        assert_eq!(crate::safe_file::identity(&first), a_ino);
        assert!(
            listeners.iter().all(|l| l.fd() >= FIRST_FD + 2),
            "kept above 3..5"
        );
    }

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
        let dir = crate::scratch::ScratchDir::new("ss-listen");
        let sock = dir.path().join("a.sock");
        let listeners = match bind_all(&ports, std::slice::from_ref(&sock), 16, Vec::new()) {
            Ok(l) => l,
            // No IPv6 loopback in this sandbox: check the IPv4 and unix ones alone.
            Err(_) => bind_all(&ports[..1], std::slice::from_ref(&sock), 16, Vec::new()).unwrap(),
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
        let err = bind_all(&[taken], &[], 16, Vec::new())
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("cannot bind") && err.contains("in use"),
            "{err}"
        );
        remove_socket_files(&listeners);
        assert!(!sock.exists());
        std::fs::write(&sock, "not a socket").unwrap();
        let err = bind_all(&[], std::slice::from_ref(&sock), 16, Vec::new())
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("not a socket"), "{err}");
        assert!(sock.exists(), "a regular file was removed");
    }
}
