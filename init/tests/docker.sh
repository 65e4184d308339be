#!/usr/bin/env bash
# sigchan-init in the real Docker: `dockerd --init-path=sigchan-init` makes it the init that
# `docker run --init` injects (as /sbin/docker-init, so it takes tini's command line), and
# `docker stop` of `sh -c 'sleep 1000'` must stop the container by TERM (exit 143), not by
# the SIGKILL Docker sends when its stop timeout runs out (exit 137). Measured in the same
# run: no init, and Docker's own init (Debian's tini-static). Also: no zombie is left after a
# burst of orphans inside the container, `docker info` reads sigchan-init's version, and
# `docker kill -s RTMIN` (34) reaches the child.
#
# Usage: init/tests/docker.sh STATIC_SIGCHAN_INIT   (root; dockerd, busybox-static installed)
set -euo pipefail
init_bin=$(readlink -f "$1")
work=$(mktemp -d /tmp/sigchan-docker.XXXXXX)
sock="$work/docker.sock"
export DOCKER_HOST="unix://$sock"
daemon_pid=

stop_daemon() {
    if [ -n "$daemon_pid" ]; then
        kill "$daemon_pid" 2>/dev/null || true
        # Until it is gone: a daemon still shutting down would answer the next one's socket
        # checks (seen once in CI: the restarted daemon's --init-path "not taken").
        for _ in $(seq 300); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$daemon_pid" 2>/dev/null || true
        wait "$daemon_pid" 2>/dev/null || true
        daemon_pid=
    fi
}
cleanup() {
    docker rm -f $(docker ps -aq 2>/dev/null) >/dev/null 2>&1 || true
    stop_daemon
    umount "$work"/exec/* 2>/dev/null || true
    rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT

# start_daemon [--init-path=...]: a private dockerd (own data root, socket, no networking).
start_daemon() {
    dockerd --data-root "$work/data" --exec-root "$work/exec" --pidfile "$work/docker.pid" \
        --host "unix://$sock" --iptables=false --ip6tables=false --bridge=none "$@" \
        >>"$work/dockerd.log" 2>&1 &
    daemon_pid=$!
    for _ in $(seq 300); do docker info >/dev/null 2>&1 && return 0; sleep 0.1; done
    cat "$work/dockerd.log"; echo "dockerd did not start"; exit 1
}

# The image: a static busybox, made offline with `docker import`.
make_image() {
    mkdir -p "$work/img/bin" "$work/img/proc" "$work/img/tmp"
    cp "$(command -v busybox)" "$work/img/bin/busybox"
    for c in sh sleep cat grep ps wc seq; do ln -sf busybox "$work/img/bin/$c"; done
    tar -C "$work/img" -c . | docker import - sigchan-busybox:test >/dev/null
}

# stop_time NAME [--init]: seconds `docker stop -t 10` takes for `sh -c 'sleep 1000'`, and
# the container's exit code.
stop_time() {
    local name=$1; shift
    docker run -d --network none "$@" --name "$name" sigchan-busybox:test sh -c 'sleep 1000' >/dev/null
    for _ in $(seq 100); do
        docker exec "$name" sh -c 'ps | grep -q "sleep 1000"' 2>/dev/null && break; sleep 0.05
    done
    local t0 t1 code
    t0=$(date +%s.%N); docker stop -t 10 "$name" >/dev/null; t1=$(date +%s.%N)
    code=$(docker inspect -f '{{.State.ExitCode}}' "$name")
    docker rm "$name" >/dev/null
    # Printed last: the caller reads this line and may stop the daemon at once.
    printf '%s %s\n' "$(echo "$t1 - $t0" | bc)" "$code"
}

start_daemon
make_image
read -r t_none code_none < <(stop_time noinit)
read -r t_tini code_tini < <(stop_time dockerinit --init)
stop_daemon
start_daemon --init-path="$init_bin"
took=no
for _ in $(seq 100); do
    docker info 2>/dev/null | grep -q "Init Binary: $init_bin" && { took=yes; break; }
    sleep 0.1
done
[ "$took" = yes ] || { docker info 2>&1 | grep -i init; cat "$work/dockerd.log" | tail -20; echo "dockerd did not take --init-path"; exit 1; }
read -r t_ours code_ours < <(stop_time ours --init)

# Docker reads the init's version (`docker-init --version`, parsed as `... - git.COMMIT`).
init_version=$(docker info --format '{{.InitCommit.ID}}' 2>/dev/null || true)
echo "docker info: init version $init_version"
if grep -q "failed to parse" "$work/dockerd.log" || [ -z "$init_version" ] || [ "$init_version" = N/A ]; then
    grep -i "init" "$work/dockerd.log" | tail -5; echo "dockerd could not read sigchan-init's version"; exit 1
fi

# `docker kill -s RTMIN` (signal 34, which musl keeps for itself) reaches the child: the
# shell traps it and exits 34, and so does the container.
rtmin_code() {
    docker run -d --network none --init --name rtmin sigchan-busybox:test \
        sh -c 'trap "exit 34" 34; while :; do sleep 0.05; done' >/dev/null
    sleep 0.5
    docker kill -s RTMIN rtmin >/dev/null
    docker wait rtmin
    docker rm rtmin >/dev/null
}
code_rtmin=$(rtmin_code)
echo "docker kill -s RTMIN with sigchan-init: exit $code_rtmin"
[ "$code_rtmin" = 34 ] || { echo "sigchan-init did not forward signal 34"; exit 1; }

echo "docker stop of sh -c 'sleep 1000' (Docker's default stop timeout, 10 s):"
printf '  %-34s %6.2f s  exit %s\n' "no init (the shell is PID 1)" "$t_none" "$code_none"
printf '  %-34s %6.2f s  exit %s\n' "--init, Docker's tini" "$t_tini" "$code_tini"
printf '  %-34s %6.2f s  exit %s\n' "--init, sigchan-init" "$t_ours" "$code_ours"
[ "$code_ours" = 143 ] || { echo "sigchan-init: the container did not end by TERM"; exit 1; }
[ "$code_none" = 137 ] || echo "note: without an init the shell ended with $code_none"

# Orphans inside the container: 200 double-forked sleeps, none left a zombie.
out=$(docker run --rm --network none --init sigchan-busybox:test sh -c '
    i=0; while [ $i -lt 200 ]; do (sleep 0.01 &); i=$((i+1)); done
    sleep 1
    cat /proc/[0-9]*/stat 2>/dev/null | grep -c ") Z " || true')
echo "zombies after 200 orphans inside the container: $out"
[ "$out" = 0 ] || { echo "zombies left"; exit 1; }
echo "docker: sigchan-init passed"
