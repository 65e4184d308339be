//! A server program for start_server: takes its listening sockets from
//! `SERVER_STARTER_PORT`, answers HTTP/1.1, and on SIGTERM (or SIGINT) stops accepting,
//! finishes every request it accepted, and exits 0. A second SIGINT or SIGTERM during the
//! drain ends it at once.
//!
//! ```text
//! cargo build --example http_worker
//! start_server --port=127.0.0.1:8080 --pid-file=app.pid -- target/debug/examples/http_worker
//! curl http://127.0.0.1:8080/          # generation 1 pid ...
//! kill -HUP $(cat app.pid); sleep 2; curl http://127.0.0.1:8080/    # generation 2 pid ...
//! ```
//!
//! `GET /slow?ms=N` answers after N milliseconds (at most 10 s); `GET /env/NAME` adds the
//! line `NAME=value` (or `NAME=(unset)`) from the worker's environment. Every answer carries the
//! generation, in the body and in an `X-Generation` header. Setting
//! `HTTP_WORKER_FAIL_AT_START` makes it exit 3 at start: a broken release, to see that
//! start_server keeps the running generation serving.
//!
//! What matters for zero-downtime restarts:
//! - The sockets are shared: start_server and every generation hold the same listening
//!   socket. Stopping means not calling accept any more. Never `shutdown(2)` or close it
//!   to wake a blocked accept (as a standalone server may): shutdown would reset the
//!   connections waiting in the backlog, which the next generation would have served.
//! - So the acceptor polls the sockets and a wake-up pipe, and accepts without blocking
//!   (O_NONBLOCK is set on the shared socket, which is why every generation must accept
//!   this way: a blocking accept that loses the race to another process would hang).

use sigchan::{SIGINT, SIGTERM};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::fd::{AsRawFd, FromRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// One listening socket passed by start_server: its name and descriptor.
struct Inherited {
    name: String,
    fd: RawFd,
    unix: bool,
}

/// An integer socket option of `fd` (SOL_SOCKET level), or None if `fd` is no socket.
fn socket_option(fd: RawFd, option: libc::c_int) -> Option<libc::c_int> {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `value`.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            option,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    (rc == 0).then_some(value)
}

/// Parses `SERVER_STARTER_PORT` (`127.0.0.1:8080=3;/tmp/app.sock=4`) and checks that each
/// descriptor is a listening socket.
fn inherited_sockets() -> Result<Vec<Inherited>, String> {
    let value = std::env::var("SERVER_STARTER_PORT")
        .map_err(|_| "SERVER_STARTER_PORT is not set: run me under start_server".to_owned())?;
    let mut sockets = Vec::new();
    for entry in value.split(';').filter(|e| !e.is_empty()) {
        let (name, fd) = entry
            .rsplit_once('=')
            .ok_or_else(|| format!("SERVER_STARTER_PORT entry '{entry}' has no '=FD'"))?;
        let fd: RawFd = fd
            .parse()
            .map_err(|_| format!("SERVER_STARTER_PORT entry '{entry}': bad descriptor"))?;
        if socket_option(fd, libc::SO_ACCEPTCONN) != Some(1) {
            return Err(format!(
                "descriptor {fd} ({name}) is not a listening socket"
            ));
        }
        // SAFETY: F_GETFL/F_SETFL on a descriptor we were given; see the module docs for why
        // the shared socket is made non-blocking.
        unsafe {
            let flags = libc::fcntl(fd, libc::F_GETFL);
            libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK);
        }
        // Asked of the socket, not guessed from the name (a --path may be relative).
        let unix = socket_option(fd, libc::SO_DOMAIN) == Some(libc::AF_UNIX);
        sockets.push(Inherited {
            name: name.to_owned(),
            fd,
            unix,
        });
    }
    if sockets.is_empty() {
        return Err("SERVER_STARTER_PORT names no socket".into());
    }
    Ok(sockets)
}

/// A connection, TCP or unix; both are read and written the same way.
trait Conn: Read + Write + Send {}
impl Conn for TcpStream {}
impl Conn for UnixStream {}

struct Worker {
    generation: String,
    served: AtomicU64,
}

#[path = "../../examples/support/http_request.rs"]
mod http_request;
use http_request::read_path;

fn serve(mut conn: Box<dyn Conn>, worker: &Worker) -> std::io::Result<()> {
    let path = read_path(&mut *conn)?;
    if let Some(ms) = path
        .strip_prefix("/slow?ms=")
        .and_then(|v| v.parse::<u64>().ok())
    {
        std::thread::sleep(Duration::from_millis(ms.min(10_000)));
    }
    let mut body = format!(
        "generation {} pid {}\n",
        worker.generation,
        std::process::id()
    );
    // What this worker's environment holds, for tests that check what start_server passes.
    if let Some(name) = path.strip_prefix("/env/") {
        let value = std::env::var(name).unwrap_or_else(|_| "(unset)".into());
        body.push_str(&format!("{name}={value}\n"));
    }
    write!(
        conn,
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nX-Generation: {}\r\nConnection: close\r\n\r\n{body}",
        body.len(),
        worker.generation
    )?;
    conn.flush()?;
    worker.served.fetch_add(1, SeqCst);
    Ok(())
}

/// Accepts on every socket until `wake` becomes readable; returns the connection threads.
fn accept_until_woken(
    sockets: &[Inherited],
    wake: &UnixStream,
    worker: &Arc<Worker>,
) -> Vec<JoinHandle<()>> {
    let mut fds: Vec<libc::pollfd> = sockets
        .iter()
        .map(|s| s.fd)
        .chain([wake.as_raw_fd()])
        .map(|fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let mut threads = Vec::new();
    loop {
        // SAFETY: poll reads and writes exactly fds.len() pollfd entries.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, -1) };
        if n < 0 {
            continue; // EINTR
        }
        if fds.last().is_some_and(|w| w.revents != 0) {
            return threads;
        }
        for (pfd, socket) in fds.iter().zip(sockets) {
            if pfd.revents == 0 {
                continue;
            }
            loop {
                // SAFETY: accept4 on a listening socket; no address is asked for.
                let fd = unsafe {
                    libc::accept4(
                        socket.fd,
                        std::ptr::null_mut(),
                        std::ptr::null_mut(),
                        libc::SOCK_CLOEXEC,
                    )
                };
                if fd < 0 {
                    break; // EAGAIN: another generation took it, or none left
                }
                // SAFETY: fd is a new connected socket that nothing else owns.
                let conn: Box<dyn Conn> = if socket.unix {
                    Box::new(unsafe { UnixStream::from_raw_fd(fd) })
                } else {
                    Box::new(unsafe { TcpStream::from_raw_fd(fd) })
                };
                let worker = worker.clone();
                threads.push(std::thread::spawn(move || {
                    if let Err(e) = serve(conn, &worker) {
                        eprintln!("http_worker: request failed: {e}");
                    }
                }));
            }
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let generation = std::env::var("SERVER_STARTER_GENERATION").unwrap_or_else(|_| "0".into());
    let pid = std::process::id();
    if std::env::var_os("HTTP_WORKER_FAIL_AT_START").is_some_and(|v| !v.is_empty()) {
        eprintln!("http_worker: generation {generation} pid {pid}: HTTP_WORKER_FAIL_AT_START set, exiting 3");
        std::process::exit(3);
    }
    // Subscribe before serving: a SIGTERM that comes once we can take requests is ours.
    let shutdown = sigchan::shutdown_on(&[SIGTERM, SIGINT])?;
    let sockets = inherited_sockets()?;
    let worker = Arc::new(Worker {
        generation: generation.clone(),
        served: AtomicU64::new(0),
    });
    let names: Vec<String> = sockets
        .iter()
        .map(|s| format!("{}={}", s.name, s.fd))
        .collect();
    let (wake_rx, mut wake_tx) = UnixStream::pair()?;
    let acceptor = {
        let worker = worker.clone();
        std::thread::spawn(move || accept_until_woken(&sockets, &wake_rx, &worker))
    };
    eprintln!(
        "http_worker: generation {generation} pid {pid} serving {}",
        names.join(";")
    );

    let sig = shutdown.wait().expect("the token is never stopped here");
    wake_tx.write_all(b"x")?;
    let threads = acceptor.join().expect("acceptor panicked");
    eprintln!(
        "http_worker: generation {generation} pid {pid} stopped accepting after {sig}; draining {}",
        threads.len() as u64 - worker.served.load(SeqCst)
    );
    for t in threads {
        let _ = t.join();
    }
    eprintln!(
        "http_worker: generation {generation} pid {pid} drained: served {}",
        worker.served.load(SeqCst)
    );
    Ok(())
}
