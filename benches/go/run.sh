#!/usr/bin/env bash
# Runs Go's os/signal round trip (latency.go), pinned to CPU 0 and unpinned, when `go` is
# installed (Debian: golang-go). Samples go beside the Rust ones for benches/report.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/../../target/sigchan-bench"
rounds="${1:-100000}"
if ! command -v go >/dev/null; then
    echo "go is not installed (apt-get install golang-go): skipping Go's os/signal" >&2
    exit 0
fi
mkdir -p "$out"
bin="$out/go-latency"
(cd "$here" && GO111MODULE=off GOFLAGS= go build -o "$bin" latency.go)
taskset -c 0 "$bin" "$out/latency-pinned-go-os-signal.txt" "$rounds"
"$bin" "$out/latency-unpinned-go-os-signal.txt" "$rounds"
