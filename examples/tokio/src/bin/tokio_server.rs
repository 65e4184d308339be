//! A tokio HTTP/1.1 server on sigchan: it reloads its configuration on SIGHUP, drains on
//! SIGTERM or SIGINT (stops accepting, finishes every request it accepted, exits 0), and
//! exits at once on a second SIGINT (or SIGTERM) during the drain.
//!
//! ```text
//! cargo run -p sigchan-tokio-examples --bin tokio_server -- 127.0.0.1:8080 greeting.txt
//! curl http://127.0.0.1:8080/              # hello (generation 1)
//! echo bonjour > greeting.txt; kill -HUP <pid>; curl http://127.0.0.1:8080/
//! curl 'http://127.0.0.1:8080/slow?ms=3000' &  kill -TERM <pid>   # the request completes
//! ```
//!
//! What it shows:
//! - `sigchan::init()` comes first, before the runtime is built: tokio's worker threads
//!   inherit the mask, so only sigchan's thread takes signals and no worker sees `EINTR`.
//!   Inside `#[tokio::main]` it would be too late (`Error::TooLate`).
//! - The shutdown token's `triggered()` and an `InfoStream` of SIGHUP are two branches of one
//!   `tokio::select!` with `accept`: no polling, no flag.
//! - The token gives SIGINT/SIGTERM back once it fires, so a second one kills.
//!
//! It prints `listening on ADDR pid PID`, `reloaded generation N (asked by ...)`,
//! `request PATH`, `draining after SIG, N in flight`, `stopped accepting`, and at exit
//! `accepted A, served S`; `tests/tokio_server.rs` checks them.

use sigchan::stream::InfoStream;
use sigchan::{SIGHUP, SIGINT, SIGTERM};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// What a reload changes: the greeting (read from the file given as the second argument)
/// and a generation number.
struct Config {
    generation: u64,
    greeting: String,
}

type Shared = Arc<RwLock<Arc<Config>>>;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    sigchan::init()?; // before the runtime: its workers inherit the mask
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(serve())
}

fn read_greeting(path: Option<&str>) -> std::io::Result<String> {
    match path {
        Some(p) => Ok(std::fs::read_to_string(p)?.trim().to_owned()),
        None => Ok("hello".to_owned()),
    }
}

async fn serve() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args().nth(1).unwrap_or("127.0.0.1:8080".into());
    let config_path = std::env::args().nth(2);
    let config: Shared = Arc::new(RwLock::new(Arc::new(Config {
        generation: 1,
        greeting: read_greeting(config_path.as_deref())?,
    })));

    // Subscribed before the socket is announced: a client that sees the address may signal.
    let shutdown = sigchan::shutdown_on(&[SIGTERM, SIGINT])?;
    let mut reloads = InfoStream::new(&[SIGHUP])?;
    let listener = TcpListener::bind(&addr).await?;
    println!(
        "listening on {} pid {}",
        listener.local_addr()?,
        std::process::id()
    );

    let mut requests = tokio::task::JoinSet::new();
    let (mut accepted, mut served) = (0u64, 0u64);
    loop {
        tokio::select! {
            conn = listener.accept() => {
                let (stream, _) = conn?;
                accepted += 1;
                let config = config.read().unwrap().clone();
                requests.spawn(handle(stream, config));
            }
            // `recv` is cancel-safe: a branch that loses the race loses no signal.
            info = reloads.recv() => {
                let who = match (info.pid(), info.sender_name()) {
                    (Some(pid), Some(name)) => format!("pid {pid} ({name})"),
                    (Some(pid), None) => format!("pid {pid}"),
                    _ => format!("{:?}", info.cause()),
                };
                match read_greeting(config_path.as_deref()) {
                    Ok(greeting) => {
                        let mut current = config.write().unwrap();
                        let generation = current.generation + 1;
                        *current = Arc::new(Config { generation, greeting });
                        println!("reloaded generation {generation} (asked by {who})");
                    }
                    Err(e) => println!("reload asked by {who} failed, keeping the old: {e}"),
                }
            }
            Some(done) = requests.join_next(), if !requests.is_empty() => {
                served += u64::from(matches!(done, Ok(Ok(()))));
            }
            sig = shutdown.triggered() => {
                // Requests that finished but were not joined yet are not in flight.
                while let Some(done) = requests.try_join_next() {
                    served += u64::from(matches!(done, Ok(Ok(()))));
                }
                println!("draining after {}, {} in flight", sig.map_or("stop".into(), |s| s.to_string()), requests.len());
                break;
            }
        }
    }
    // New connections are refused from here; accepted ones finish.
    drop(listener);
    println!("stopped accepting");
    while let Some(done) = requests.join_next().await {
        served += u64::from(matches!(done, Ok(Ok(()))));
    }
    println!("accepted {accepted}, served {served}");
    Ok(())
}

/// One request: `GET /slow?ms=N` answers after N milliseconds (at most 60 s), anything else
/// at once, with the greeting and generation of the configuration it was accepted under.
async fn handle(stream: TcpStream, config: Arc<Config>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).await?;
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).await? == 0 || header.trim().is_empty() {
            break;
        }
    }
    println!("request {path}");
    if let Some(ms) = path
        .strip_prefix("/slow?ms=")
        .and_then(|m| m.parse::<u64>().ok())
    {
        tokio::time::sleep(Duration::from_millis(ms.min(60_000))).await;
    }
    let body = format!(
        "{} (generation {})\ndone\n",
        config.greeting, config.generation
    );
    let mut stream = reader.into_inner();
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}
