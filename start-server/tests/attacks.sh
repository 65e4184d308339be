#!/usr/bin/env bash
# Replays the security section's main attacks against any start_server binary, side by side:
#   bash start-server/tests/attacks.sh target/debug/start_server /usr/bin/start_server
# (/usr/bin/start_server is Perl's Server::Starter, Debian libserver-starter-perl.) Run as
# root; makes the user ss-attacker if missing. Every run is bounded (3 s). One line per
# attack and binary: what happened. The Rust tests in security.rs assert the same for ours.
set -uo pipefail
id ss-attacker >/dev/null 2>&1 ||
    useradd --system --no-create-home --shell /usr/sbin/nologin ss-attacker
dir=$(mktemp -d); chmod 1777 "$dir"; cd "$dir"
as() { runuser -u ss-attacker -- sh -c "$1"; }
fresh() { rm -rf "$dir"/*; echo "root's data" > secret; chmod 600 secret; }
run() { timeout -k 1 3 "$@" >out 2>&1; echo $?; }
for bin in "$@"; do
    echo "== $bin"
    fresh; as "ln -s secret app.pid"
    rc=$(run "$bin" --port=127.0.0.1:0 --pid-file=app.pid -- /bin/sleep 600)
    echo "symlink at --pid-file: exit $rc; root-only target now: $(head -c 30 secret)"
    fresh; as "echo 1 > app.pid; chmod 666 app.pid"
    rc=$(run "$bin" --port=127.0.0.1:0 --pid-file=app.pid -- /bin/sleep 600)
    echo "another user's 0666 pid file: exit $rc (124: adopted, still running after 3 s)"
    fresh; as "ln -s secret app.log"
    rc=$(run "$bin" --port=127.0.0.1:0 --log-file=app.log -- /bin/sleep 600)
    echo "symlink at --log-file: exit $rc; root-only target now $(wc -l < secret) line(s)"
    fresh; as "mkfifo app.log"
    rc=$(run "$bin" --port=127.0.0.1:0 --log-file=app.log -- /bin/sleep 600)
    echo "FIFO at --log-file: exit $rc (124: blocked after 3 s)"
    fresh; sleep 600 & victim=$!
    as "echo $victim > app.pid"
    rc=$(run "$bin" --stop --pid-file=app.pid)
    state=$(kill -0 "$victim" 2>/dev/null && echo alive || echo KILLED)
    echo "--stop on another user's pid file naming a root process: exit $rc; victim $state"
    kill "$victim" 2>/dev/null; wait "$victim" 2>/dev/null
    fresh
    "$bin" --port=127.0.0.1:0 --interval=0.2 --status-file=status \
        "--log-file=| head -n 3 >> out" -- /bin/sh -c 'while :; do echo tick; sleep 0.05; done' \
        >/dev/null 2>&1 & ss=$!
    sleep 4
    echo "log command exits after 3 lines: after 4 s status '$( (tr '\n' ' ' < status) 2>/dev/null)'," \
        "$(grep -c . out 2>/dev/null || echo 0) log lines"
    kill -INT "$ss" 2>/dev/null; sleep 0.5; kill -INT "$ss" 2>/dev/null; sleep 0.5
    kill -KILL "$ss" 2>/dev/null; wait "$ss" 2>/dev/null
    pkill -f "sleep 0.05" 2>/dev/null
done
pkill -u root -f "/bin/sleep 600" 2>/dev/null
cd /; rm -rf "$dir"
