#!/usr/bin/env bash
# Runs every benchmark in one go and writes docs/PERFORMANCE.md and docs/latency-pinned.svg.
# About 6 minutes. Go's os/signal is included when `go` is installed (Debian: golang-go).
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/sigchan-bench
mkdir -p "$out"
rm -f "$out"/latency-*.txt
cargo bench -p sigchan-benches --bench latency
cargo bench -p sigchan-benches --bench throughput 2>&1 | tee "$out/throughput.log"
bash benches/go/run.sh "${GO_ROUNDS:-20000}"
cargo test --release --test footprint -- --nocapture 2>&1 | tee "$out/footprint.log"
python3 benches/report.py
