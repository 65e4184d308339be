//! An echo server on one mio loop, with its signals in the same loop through a sigchan fd
//! receiver: HUP re-reads the prefix file and prefixes later echoes with it; TERM or INT
//! stops accepting and drains, exiting once every client has closed; a second TERM or INT
//! while draining exits at once.
//!
//!     cargo run -p sigchan-interop-tests --example mio_echo -- PREFIX_FILE
//!
//! It prints `listening on ADDR pid PID` first, then a line per reload and per stage of the
//! shutdown (tests/poll_loops.rs reads them).

use mio::net::{TcpListener, TcpStream};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use sigchan::fd::SignalFd;
use sigchan::{SIGHUP, SIGINT, SIGTERM};
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;

const LISTENER: Token = Token(0);
const SIGNALS: Token = Token(1);

/// One client: what it sent and we have not yet echoed back.
struct Client {
    stream: TcpStream,
    out: Vec<u8>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let prefix_file = std::env::args()
        .nth(1)
        .ok_or("usage: mio_echo PREFIX_FILE")?;
    let mut prefix = std::fs::read(&prefix_file)?;
    // Before anything else can take the signals (there is no other thread here anyway).
    let mut signals = SignalFd::new(&[SIGHUP, SIGTERM, SIGINT])?;
    let mut poll = Poll::new()?;
    let mut listener = TcpListener::bind("127.0.0.1:0".parse()?)?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    poll.registry().register(
        &mut SourceFd(&signals.as_raw_fd()),
        SIGNALS,
        Interest::READABLE,
    )?;
    println!(
        "listening on {} pid {}",
        listener.local_addr()?,
        std::process::id()
    );
    let mut listener = Some(listener);
    let mut clients: HashMap<Token, Client> = HashMap::new();
    let mut next = 2;
    let mut events = Events::with_capacity(64);
    loop {
        if listener.is_none() && clients.is_empty() {
            println!("drained, exiting");
            return Ok(());
        }
        if let Err(e) = poll.poll(&mut events, None) {
            // A signal's handler interrupted the wait: its descriptor is readable now.
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e.into());
        }
        for event in &events {
            match event.token() {
                LISTENER => {
                    let Some(l) = listener.as_mut() else { continue };
                    // mio is edge-triggered: accept until it would block.
                    while let Ok((mut stream, _)) = l.accept() {
                        let token = Token(next);
                        next += 1;
                        poll.registry().register(
                            &mut stream,
                            token,
                            Interest::READABLE | Interest::WRITABLE,
                        )?;
                        clients.insert(
                            token,
                            Client {
                                stream,
                                out: Vec::new(),
                            },
                        );
                    }
                }
                // Edge-triggered too: take every pending signal.
                SIGNALS => {
                    for sig in signals.try_iter() {
                        if sig == SIGHUP {
                            prefix = std::fs::read(&prefix_file)?;
                            println!("reloaded: prefix {:?}", String::from_utf8_lossy(&prefix));
                        } else if let Some(mut l) = listener.take() {
                            poll.registry().deregister(&mut l)?;
                            println!("{sig}: draining {} connection(s)", clients.len());
                        } else {
                            println!("{sig} again: exiting now");
                            std::process::exit(1);
                        }
                    }
                }
                token => {
                    let done = match clients.get_mut(&token) {
                        Some(c) => serve(c, &prefix)?,
                        None => false,
                    };
                    if done {
                        if let Some(mut c) = clients.remove(&token) {
                            poll.registry().deregister(&mut c.stream)?;
                        }
                    }
                }
            }
        }
    }
}

/// Reads what the client sent, echoes it with the prefix; true once the client has closed.
fn serve(c: &mut Client, prefix: &[u8]) -> io::Result<bool> {
    let mut buf = [0u8; 4096];
    let mut closed = false;
    loop {
        match c.stream.read(&mut buf) {
            Ok(0) => {
                closed = true;
                break;
            }
            Ok(n) => {
                c.out.extend_from_slice(prefix);
                c.out.extend_from_slice(&buf[..n]);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return Ok(true),
        }
    }
    while !c.out.is_empty() {
        match c.stream.write(&c.out) {
            Ok(n) => {
                c.out.drain(..n);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return Ok(true),
        }
    }
    Ok(closed && c.out.is_empty())
}
