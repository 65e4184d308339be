#!/usr/bin/env bash
# Where the CPU of reaping goes, for sigchan-init and the inits it replaces: each init as PID 1
# of a new PID namespace while 20,000 orphans are re-parented to it and reaped, measured with
# `perf stat` (task-clock and user time of every thread of the init), the inits taken
# in turn, 10 rounds, sigchan-init also as built with `--cfg sigchan_init_checked` (without
# `sigchan::promise_no_other_handlers`, so one `rt_sigaction` query before each signal its
# thread takes, as in any program: `sigchan-checked`, a measurement build, never shipped);
# then `perf record` of sigchan-init alone, its top symbols. As root, with
# `perf` (Debian: linux-perf). Writes init/benches/reap-profile.txt.
#   bash init/benches/reap_profile.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(id -u)" = 0 ] || { echo "reap_profile.sh: run as root (PID namespaces)"; exit 1; }
command -v perf >/dev/null || { echo "reap_profile.sh: needs perf (apt-get install linux-perf)"; exit 1; }
cargo build --quiet --profile dist -p sigchan-init --target x86_64-unknown-linux-musl
# The same without the promise: the disposition query before each frameless take (what the
# promise saves).
RUSTFLAGS="--cfg sigchan_init_checked" cargo build --quiet --profile dist -p sigchan-init \
    --target x86_64-unknown-linux-musl --target-dir target/init-checked
cp target/init-checked/x86_64-unknown-linux-musl/dist/sigchan-init target/init-checked/sigchan-checked
cargo build --quiet --release -p sigchan-init --example probe
sc=target/x86_64-unknown-linux-musl/dist/sigchan-init
checked=target/init-checked/sigchan-checked
probe=target/release/examples/probe
out=init/benches/reap-profile.txt
orphans=20000
rounds=10

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

# One init reaping: prints "task-clock-ms user-ms syscalls wait4-calls" (the rest of
# task-clock is the kernel's; each `wait4` that finds no zombie walks every live child).
reap() {
    local name=$1; shift
    unshare --pid --fork --kill-child "$@" -- "$probe" --orphans "$orphans" --exit-on SIGUSR1 \
        >/dev/null 2>&1 &
    local pid
    pid=$(init_pid "$name")
    # The orphans sleep 50 ms each and are all reaped within a few seconds.
    perf stat -x, -e task-clock,user_time,raw_syscalls:sys_enter,syscalls:sys_enter_wait4 \
        -p "$pid" -- sleep 6 2>&1 >/dev/null \
        | awk -F, '/task-clock/ {t=$1} /user_time/ {u=$1/1e6} /raw_syscalls/ {n=$1}
                   /sys_enter_wait4/ {w=$1} END {printf "%.1f %.1f %d %d\n", t, u, n, w}'
    pkill -USR1 -x probe || true
    wait
}

# Column $2 of init $1's rows: "median" or, with $3 = range, "median min-max".
median() {
    grep " $1 " "$rows" | awk -v c="$2" '{print $c}' | sort -g | awk -v r="${3:-}" \
        '{v[NR]=$1} END {m = NR % 2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2; printf "%.1f", m;
                         if (r) printf " %.1f-%.1f", v[1], v[NR]}'
}

# Before `tee` truncates the output (a tracked file): the commit measured.
commit=$(git describe --always --dirty --abbrev=7)
rows=$(mktemp)
trap 'rm -f "$rows"' EXIT
inits=("sigchan-init:$sc -s" "sigchan-checked:$checked -s"
       "tini-static:/usr/bin/tini-static -s" "tini:/usr/bin/tini -s"
       "dumb-init:/usr/bin/dumb-init" "catatonit:/usr/bin/catatonit")
{
    echo "# CPU to reap $orphans orphans as PID 1: task-clock ms, of which user ms; system calls, of which wait4; $rounds rounds, inits in turn"
    echo "# $commit, $(uname -r), $(nproc) CPUs"
    for round in $(seq "$rounds"); do
        for entry in "${inits[@]}"; do
            name=${entry%%:*}
            read -r -a cmd <<<"${entry#*:}"
            [ -x "${cmd[0]}" ] || continue
            echo "round $round $name $(reap "$name" "${cmd[@]}")" | tee -a "$rows"
        done
    done
    echo
    echo "# per init: task-clock ms median, min-max; system calls median; wait4 calls median"
    for entry in "${inits[@]}"; do
        name=${entry%%:*}
        grep -q " $name " "$rows" || continue
        echo "$name $(median "$name" 4 range) $(median "$name" 6) $(median "$name" 7)"
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
