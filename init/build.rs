//! The commit sigchan-init was built from, for its `--version` line (Docker reads it as
//! `- git.COMMIT`). Outside a git checkout (a crates.io build): `v` and the version with
//! `_` for `.`, since Docker's parser takes no dot in a commit.

use std::process::Command;

fn main() {
    let commit = Command::new("git")
        .args(["rev-parse", "--short=7", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .filter(|c| !c.is_empty() && c.chars().all(|ch| ch.is_ascii_hexdigit()))
        .unwrap_or_else(|| format!("v{}", env!("CARGO_PKG_VERSION").replace('.', "_")));
    println!("cargo:rustc-env=SIGCHAN_INIT_COMMIT={commit}");
    println!("cargo:rerun-if-changed=../.git/HEAD");
    println!("cargo:rerun-if-changed=../.git/refs/heads");
}
