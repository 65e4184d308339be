#!/usr/bin/env bash
# Runs every benchmark in one go and writes docs/PERFORMANCE.md, its SVG plots and this machine
# kind's benches/results/KIND.json (the other kinds' columns come from theirs).
# About 10 minutes. Go's os/signal is included when `go` is installed (Debian: golang-go).
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/sigchan-bench
mkdir -p "$out"
rm -f "$out"/latency-*.txt "$out"/cost-*.txt "$out"/go-in-process-*.txt "$out"/scaling.txt
# The code measured: report.py records it in this machine kind's results file.
git describe --always --dirty --abbrev=7 > "$out/commit.txt"
cargo bench -p sigchan-benches --bench latency
cargo bench -p sigchan-benches --bench throughput 2>&1 | tee "$out/throughput.log"
cargo bench -p sigchan-benches --bench scaling
# The old Go harness (sender goroutine inside the receiving process), to show why it measured
# what it did: as it was, then without its time.Sleep, then also without its time.After.
if command -v go >/dev/null; then
    (cd benches/go && GO111MODULE=off GOFLAGS= go build -o "../../$out/go-in-process" in_process.go)
    for mode in sleep busy-gap busy-gap-no-timer; do
        taskset -c 0 "$out/go-in-process" "$out/go-in-process-$mode.txt" 20000 "$mode"
    done
fi
cargo test --release --test footprint -- --nocapture 2>&1 | tee "$out/footprint.log"
python3 benches/report.py
