//! Graceful shutdown of an HTTP/1.1 server: on SIGTERM or SIGINT it stops accepting,
//! finishes every request already accepted, and exits 0; a second SIGINT (or SIGTERM)
//! during the drain kills it at once (`sigchan::shutdown_on` gives the signals back).
//!
//! ```text
//! cargo run --example graceful_shutdown -- 127.0.0.1:8080
//! curl 'http://127.0.0.1:8080/slow?ms=2000' &  kill -TERM <pid>   # the request completes
//! ```
//!
//! `GET /slow?ms=N` answers after N milliseconds (at most 10 s); any other path at once. One
//! thread per connection keeps the example short; the shutdown logic is the same with a pool.
//! It prints `listening on ADDR pid PID`, `stopped accepting after SIG`, and at exit
//! `accepted A, served S`, which `tests/examples_graceful_shutdown.rs` checks.

use sigchan::{SIGINT, SIGTERM};
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::os::unix::io::AsRawFd;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

#[derive(Default)]
struct Counters {
    accepted: AtomicU64,
    served: AtomicU64,
}

#[path = "support/http_request.rs"]
mod http_request;
use http_request::read_path;

fn delay(path: &str) -> Duration {
    let ms = path
        .strip_prefix("/slow?ms=")
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    Duration::from_millis(ms.min(10_000))
}

fn serve(mut stream: TcpStream, n: u64, counters: &Counters) -> std::io::Result<()> {
    let path = read_path(&stream)?;
    std::thread::sleep(delay(&path));
    let body = format!("request {n} for {path} done\n");
    write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()?;
    counters.served.fetch_add(1, SeqCst);
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    // Subscribe before listening: a TERM that arrives once clients can connect is ours.
    let shutdown = sigchan::shutdown_on(&[SIGINT, SIGTERM])?;
    let listener = TcpListener::bind(&addr)?;
    println!(
        "listening on {} pid {}",
        listener.local_addr()?,
        std::process::id()
    );
    let counters = Arc::new(Counters::default());
    let fd = listener.as_raw_fd();

    let acceptor = {
        let counters = counters.clone();
        std::thread::spawn(move || {
            let mut workers = Vec::new();
            // `accept` fails once main shuts the listening socket down: stop accepting.
            for (n, conn) in (1..).zip(listener.incoming()) {
                let Ok(stream) = conn else { break };
                counters.accepted.fetch_add(1, SeqCst);
                let counters = counters.clone();
                workers.push(std::thread::spawn(move || {
                    if let Err(e) = serve(stream, n, &counters) {
                        eprintln!("request {n}: {e}");
                    }
                }));
            }
            workers
        })
    };

    let sig = shutdown.wait().expect("the token is never stopped here");
    // shutdown(2) on a listening socket wakes the blocked accept and makes the kernel refuse
    // new connections (and reset those still waiting in the backlog, never accepted).
    // SAFETY: fd is the listener's open descriptor, still owned by the acceptor thread.
    unsafe { libc::shutdown(fd, libc::SHUT_RDWR) };
    let workers = acceptor.join().expect("acceptor panicked");
    println!(
        "stopped accepting after {sig}; draining {} requests (signal again to quit now)",
        workers.len() as u64 - counters.served.load(SeqCst)
    );
    std::io::stdout().flush()?;
    for w in workers {
        let _ = w.join();
    }
    println!(
        "accepted {}, served {}",
        counters.accepted.load(SeqCst),
        counters.served.load(SeqCst)
    );
    Ok(())
}
