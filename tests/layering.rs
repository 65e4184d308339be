//! The source layout's two rules, checked on the source text (docs/DESIGN.md, "Layers"):
//!
//! 1. Imports point one way: `sys` <- `sigctx` <- `types` <- `runtime` <- the API (`lib.rs`
//!    and the files beside it). No file names a module of a layer above its own.
//! 2. No circle between the files of one layer. One pair is exempt, by name: `Signal` and
//!    its error type `Error` name each other (`Error::Reserved(Signal)`, `Signal::new`
//!    returning `Error`); that is two types in one vocabulary, not a call path.
//!
//! And the signal-context contract at the source level: files in `src/sigctx/` use nothing
//! from outside sigchan but atomics, `mem::transmute`, `Deref`, `libc` and loom.
//!
//! A reference is a `crate::<module>` or `super::<item>` path in code (comments are
//! skipped); `crate::Signal` and other items of `lib.rs` count as the API layer.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The one edge left out of the circle check (see the file's doc).
const MUTUAL_TYPES: [(&str, &str); 1] = [("types/signal.rs", "types/error.rs")];

const LAYERS: [&str; 5] = ["sys", "sigctx", "types", "runtime", "api"];

fn layer_of_module(first: &str) -> usize {
    LAYERS[..4].iter().position(|l| *l == first).unwrap_or(4)
}

/// src-relative path, e.g. `runtime/registry.rs`.
fn layer_of_file(rel: &str) -> usize {
    match rel.split_once('/') {
        Some((dir, _)) => layer_of_module(dir),
        None => 4,
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The file's code with comments and string literals' contents removed, line by line, up
/// to its unit tests (`mod tests`), which run on ordinary threads.
fn code_lines(text: &str) -> Vec<String> {
    text.lines()
        .take_while(|l| !l.starts_with("mod tests {"))
        .map(|l| {
            let l = match l.find("//") {
                Some(i) => &l[..i],
                None => l,
            };
            let mut out = String::new();
            let mut in_str = false;
            for c in l.chars() {
                if c == '"' {
                    in_str = !in_str;
                } else if !in_str {
                    out.push(c);
                }
            }
            out
        })
        .collect()
}

/// Every path that starts with `prefix` (`crate::` or `super::`), expanded over one level
/// of braces: `crate::a::{b, c::d}` gives `a::b` and `a::c::d`.
fn paths_after(code: &str, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find(prefix) {
        let before = rest[..i].chars().last();
        rest = &rest[i + prefix.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':' || c == '{'))
            .unwrap_or(rest.len());
        let head = &rest[..end];
        if let Some(b) = head.find('{') {
            let base = &head[..b];
            let close = rest.find('}').unwrap_or(rest.len());
            for item in rest[b + 1..close].split(',') {
                let item = item.trim().split(" as ").next().unwrap().trim();
                if !item.is_empty() {
                    out.push(format!("{base}{item}"));
                }
            }
        } else {
            out.push(head.trim_end_matches(':').to_string());
        }
    }
    out
}

struct Source {
    rel: String,
    code: Vec<String>,
}

fn sources() -> Vec<Source> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| Source {
            rel: p.strip_prefix(&src).unwrap().to_string_lossy().into_owned(),
            code: code_lines(&std::fs::read_to_string(&p).unwrap()),
        })
        .collect()
}

/// The file a path inside folder `dir` refers to: `dir/<seg>.rs` if it exists, else the
/// folder's `mod.rs` (an item defined there).
fn target_file(all: &BTreeSet<String>, dir: &str, path: &str) -> String {
    let seg = path.split("::").next().unwrap();
    let candidate = format!("{dir}/{seg}.rs");
    if all.contains(&candidate) {
        candidate
    } else {
        format!("{dir}/mod.rs")
    }
}

#[test]
fn no_file_imports_a_layer_above_its_own() {
    let mut wrong = Vec::new();
    let mut seen = 0;
    for s in sources() {
        let own = layer_of_file(&s.rel);
        for (n, line) in s.code.iter().enumerate() {
            for p in paths_after(line, "crate::") {
                seen += 1;
                let to = layer_of_module(p.split("::").next().unwrap());
                if to > own {
                    wrong.push(format!(
                        "{}:{} ({}) uses crate::{p} ({})",
                        s.rel,
                        n + 1,
                        LAYERS[own],
                        LAYERS[to]
                    ));
                }
            }
        }
    }
    assert!(seen > 50, "the scan found only {seen} crate:: paths");
    assert!(
        wrong.is_empty(),
        "imports that run back up:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_circle_between_the_files_of_a_layer() {
    let srcs = sources();
    let all: BTreeSet<String> = srcs.iter().map(|s| s.rel.clone()).collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for s in &srcs {
        let dir = s.rel.rsplit_once('/').map(|(d, _)| d.to_string());
        let out = edges.entry(s.rel.clone()).or_default();
        for line in &s.code {
            let mut targets = Vec::new();
            for p in paths_after(line, "crate::") {
                let mut parts = p.splitn(2, "::");
                let (first, rest) = (parts.next().unwrap(), parts.next());
                match rest {
                    Some(rest) if layer_of_module(first) < 4 => {
                        targets.push(target_file(&all, first, rest))
                    }
                    _ => targets.push("lib.rs".to_string()),
                }
            }
            if let Some(dir) = &dir {
                for p in paths_after(line, "super::") {
                    targets.push(target_file(&all, dir, &p));
                }
            }
            for t in targets {
                let exempt = MUTUAL_TYPES.contains(&(s.rel.as_str(), t.as_str()));
                if t != s.rel && all.contains(&t) && !exempt {
                    out.insert(t);
                }
            }
        }
    }
    // Depth-first search for a back edge, within each layer.
    fn visit(
        n: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(n.to_string(), 1);
        stack.push(n.to_string());
        for m in edges.get(n).into_iter().flatten() {
            if layer_of_file(m) != layer_of_file(n) {
                continue;
            }
            match state.get(m.as_str()).copied().unwrap_or(0) {
                1 => {
                    let from = stack.iter().position(|x| x == m).unwrap();
                    let mut cycle = stack[from..].to_vec();
                    cycle.push(m.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(c) = visit(m, edges, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    let total: usize = edges.values().map(BTreeSet::len).sum();
    assert!(total > 20, "the scan found only {total} file-to-file edges");
    for n in edges.keys() {
        if state.get(n.as_str()).copied().unwrap_or(0) == 0 {
            if let Some(c) = visit(n, &edges, &mut state, &mut Vec::new()) {
                panic!("circle: {}", c.join(" -> "));
            }
        }
    }
}

#[test]
fn signal_context_uses_nothing_beyond_atomics_and_raw_calls() {
    let allowed_std = [
        "std::sync::atomic",
        "std::mem::transmute",
        "std::ops::Deref",
        "std::array::from_fn",
        // The ucontext a handler without a frame (`handler::take`) passes on.
        "std::ptr::null_mut",
        // A pause instruction: the window-widening build's delay (`sync::jitter`).
        "std::hint::spin_loop",
    ];
    let mut wrong = Vec::new();
    let mut files = 0;
    for s in sources()
        .into_iter()
        .filter(|s| s.rel.starts_with("sigctx/"))
    {
        files += 1;
        for (n, line) in s.code.iter().enumerate() {
            for prefix in ["std::", "core::", "alloc::"] {
                for p in paths_after(line, prefix) {
                    let full = format!("{prefix}{p}");
                    if !allowed_std.iter().any(|a| full.starts_with(a)) {
                        wrong.push(format!("{}:{} uses {full}", s.rel, n + 1));
                    }
                }
            }
            for p in paths_after(line, "crate::") {
                if !(p.starts_with("sys") || p.starts_with("sigctx")) {
                    wrong.push(format!("{}:{} uses crate::{p}", s.rel, n + 1));
                }
            }
            let t = line.trim_start();
            if let Some(u) = t.strip_prefix("use ") {
                let first = u.split("::").next().unwrap();
                if !["crate", "super", "std", "core", "libc", "loom", "self"].contains(&first) {
                    wrong.push(format!("{}:{} uses the crate {first}", s.rel, n + 1));
                }
            }
        }
    }
    assert!(files >= 8, "only {files} files under src/sigctx/");
    assert!(
        wrong.is_empty(),
        "outside the contract:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_scanner_sees_braces_aliases_and_comments() {
    let code = code_lines(
        "use crate::sigctx::{handler, original as o}; // crate::runtime\nlet s = \"crate::api\";",
    );
    assert_eq!(
        paths_after(&code[0], "crate::"),
        ["sigctx::handler", "sigctx::original"]
    );
    assert!(paths_after(&code[1], "crate::").is_empty());
}
