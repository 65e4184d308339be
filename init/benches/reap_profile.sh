#!/usr/bin/env bash
# Where the CPU of reaping goes, for sigchan-init and the inits it replaces: each init as PID 1
# of a new PID namespace while 20,000 orphans are re-parented to it and reaped, measured with
# `perf stat` (task-clock and user time of every thread of the init), the inits taken
# in turn, 4 rounds, sigchan-init also as built with `--cfg sigchan_unchecked_take` (no
# `rt_sigaction` query before each signal its thread takes: `sigchan-unchk`, a measurement
# build, never shipped); then `perf record` of sigchan-init alone, its top symbols. As root, with
# `perf` (Debian: linux-perf). Writes init/benches/reap-profile.txt.
#   bash init/benches/reap_profile.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(id -u)" = 0 ] || { echo "reap_profile.sh: run as root (PID namespaces)"; exit 1; }
command -v perf >/dev/null || { echo "reap_profile.sh: needs perf (apt-get install linux-perf)"; exit 1; }
cargo build --quiet --profile dist -p sigchan-init --target x86_64-unknown-linux-musl
# The same without the disposition query before each frameless take (what it costs).
RUSTFLAGS="--cfg sigchan_unchecked_take" cargo build --quiet --profile dist -p sigchan-init \
    --target x86_64-unknown-linux-musl --target-dir target/unchecked-take
cp target/unchecked-take/x86_64-unknown-linux-musl/dist/sigchan-init target/unchecked-take/sigchan-unchk
cargo build --quiet --release -p sigchan-init --example probe
sc=target/x86_64-unknown-linux-musl/dist/sigchan-init
unchecked=target/unchecked-take/sigchan-unchk
probe=target/release/examples/probe
out=init/benches/reap-profile.txt
orphans=20000

# The init's pid inside our namespace view: the child of `unshare`'s fork.
init_pid() {
    local name=$1 pid=""
    for _ in $(seq 100); do
        pid=$(pgrep -x "$name" | tail -1 || true)
        [ -n "$pid" ] && break
        sleep 0.02
    done
    echo "$pid"
}

# One init reaping: prints "task-clock-ms user-ms" (the rest of task-clock is the kernel's).
reap() {
    local name=$1; shift
    unshare --pid --fork --kill-child "$@" -- "$probe" --orphans "$orphans" --exit-on SIGUSR1 \
        >/dev/null 2>&1 &
    local pid
    pid=$(init_pid "$name")
    # The orphans sleep 50 ms each and are all reaped within a few seconds.
    perf stat -x, -e task-clock,user_time -p "$pid" -- sleep 6 2>&1 >/dev/null \
        | awk -F, '/task-clock/ {t=$1} /user_time/ {u=$1/1e6} END {printf "%.1f %.1f\n", t, u}'
    pkill -USR1 -x probe || true
    wait
}

# Before `tee` truncates the output (a tracked file): the commit measured.
commit=$(git describe --always --dirty --abbrev=7)
inits=("sigchan-init:$sc -s" "sigchan-unchk:$unchecked -s"
       "tini-static:/usr/bin/tini-static -s" "tini:/usr/bin/tini -s"
       "dumb-init:/usr/bin/dumb-init" "catatonit:/usr/bin/catatonit")
{
    echo "# CPU to reap $orphans orphans as PID 1 (ms): task-clock, of which user; 4 rounds, inits in turn"
    echo "# $commit, $(uname -r), $(nproc) CPUs"
    for round in 1 2 3 4; do
        for entry in "${inits[@]}"; do
            name=${entry%%:*}
            read -r -a cmd <<<"${entry#*:}"
            [ -x "${cmd[0]}" ] || continue
            echo "round $round $name $(reap "$name" "${cmd[@]}")"
        done
    done
    echo
    echo "# perf record of sigchan-init reaping $orphans orphans: top symbols (share of samples)"
    unshare --pid --fork --kill-child "$sc" -s -- "$probe" --orphans "$orphans" --exit-on SIGUSR1 \
        >/dev/null 2>&1 &
    pid=$(init_pid sigchan-init)
    perf record -q -o /tmp/reap-profile.data -p "$pid" -- sleep 6 >/dev/null 2>&1
    pkill -USR1 -x probe || true
    wait
    perf report -q -i /tmp/reap-profile.data --no-children --sort sym 2>/dev/null \
        | grep -v '^$' | head -8
} | tee "$out"
