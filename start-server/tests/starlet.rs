//! The real worker start_server exists for: Starlet, the Perl PSGI server that takes its
//! sockets from Server::Starter (Debian packages `starlet` and `libplack-perl`, installed by
//! .ci/run). Under start_server, as root, with the hardening in place: it serves, three
//! SIGHUPs under a client's load fail no request and each generation answers, and SIGTERM
//! ends everything with exit 0.

mod harness;

use harness::{get, scratch, StartServer, HANG};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;

/// A PSGI app that names its generation the way http_worker does.
const APP: &str = r#"
my $app = sub {
    my $g = $ENV{SERVER_STARTER_GENERATION};
    my $body = "starlet generation $g pid $$\n";
    [200, ['Content-Type' => 'text/plain', 'Content-Length' => length($body),
           'X-Generation' => $g], [$body]];
};
"#;

#[test]
#[ignore = "needs Debian's starlet and libplack-perl (plackup): .ci/run installs them"]
fn starlet_restarts_under_load_without_a_failed_request() {
    let plackup = ["/usr/bin/plackup", "/usr/local/bin/plackup"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("plackup not found: install Debian's starlet and libplack-perl (.ci/run does)");
    let dir = scratch("starlet");
    std::fs::write(dir.join("app.psgi"), APP).unwrap();
    let mut ss = StartServer::start(
        &dir,
        &[
            "--port=127.0.0.1:0",
            "--interval=1",
            "--status-file=status",
            "--pid-file=pid",
            "--",
            plackup,
            "-s",
            "Starlet",
            "--max-workers=2",
            "app.psgi",
        ],
    );
    let port = ss.port();
    ss.wait_only(1, HANG);
    assert_eq!(get(port, "/").unwrap().generation, 1);
    let done = Arc::new(AtomicBool::new(false));
    let load = {
        let done = done.clone();
        std::thread::spawn(move || {
            let (mut ok, mut failed, mut seen) = (0u64, Vec::new(), BTreeSet::new());
            while !done.load(SeqCst) {
                match get(port, "/") {
                    Ok(r) => {
                        ok += 1;
                        seen.insert(r.generation);
                    }
                    Err(e) => failed.push(e.to_string()),
                }
            }
            (ok, failed, seen)
        })
    };
    for generation in 2..=4 {
        ss.signal(libc::SIGHUP);
        ss.wait_only(generation, HANG);
    }
    done.store(true, SeqCst);
    let (ok, failed, seen) = load.join().unwrap();
    assert!(
        failed.is_empty(),
        "{} failed of {}: {:?}",
        failed.len(),
        ok + failed.len() as u64,
        &failed[..failed.len().min(3)]
    );
    assert!(
        seen.contains(&4),
        "the last generation never answered: {seen:?}"
    );
    eprintln!("starlet: {ok} requests, 0 failed, generations {seen:?}");
    ss.finish();
}
