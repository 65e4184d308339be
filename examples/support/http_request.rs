//! The one piece of HTTP/1.1 the example servers need, shared by `examples/graceful_shutdown.rs`
//! and `start-server/examples/http_worker.rs` (each includes this file with `#[path]`).

use std::io::{BufRead, BufReader, Read};

/// Reads the request head and returns the path of the request line (`/` if it has none).
pub fn read_path(conn: impl Read) -> std::io::Result<String> {
    let mut reader = BufReader::new(conn);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
    // Skip the headers up to the blank line.
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header == "\r\n" || header == "\n" {
            return Ok(path);
        }
    }
}
