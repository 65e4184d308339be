#!/usr/bin/env bash
# sigchan-init in the real Podman, and as the init of a Kubernetes Pod played by Podman.
#
# 1. `podman run --init --init-path=sigchan-init` (Podman mounts it as /run/podman-init and
#    runs it under that name, so it takes its own command line), beside Podman's default
#    init, catatonit, and no init: `podman stop` of `sh -c 'sleep 1000'` must end by TERM
#    (exit 143), a `podman kill -s USR1` and `-s RTMIN` (34) must reach the child, and a
#    burst of orphans must leave no zombie.
# 2. `podman kube play` of a Pod whose container runs sigchan-init as PID 1 (mounted from a
#    hostPath volume), then `podman kube down`: the stop is graceful (exit 143, well inside
#    the grace period), no zombie; and a Pod with `shareProcessNamespace: true`, where the
#    pause container is PID 1 and sigchan-init runs as a subreaper (`-s`).
#
# Everything runs in a private Podman state (its own storage, run root and containers.conf,
# removed at the end); images are made offline with `podman import` from Debian's static
# busybox, and the Pods' pause image is built locally by Podman with catatonit.
#
# Usage: init/tests/podman.sh STATIC_SIGCHAN_INIT   (root; podman, catatonit, busybox-static)
set -euo pipefail
init_bin=$(readlink -f "$1")
work=$(mktemp -d /tmp/sigchan-podman.XXXXXX)
cat >"$work/containers.conf" <<'EOF'
[containers]
# The VM's hard limits are below Podman's defaults.
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
export CONTAINERS_CONF="$work/containers.conf"
pm() {
    podman --root "$work/storage" --runroot "$work/run" --storage-driver vfs \
        --tmpdir "$work/tmp" "$@"
}
cleanup() {
    pm pod rm -af -t 0 >/dev/null 2>&1 || true
    pm rm -af -t 0 >/dev/null 2>&1 || true
    umount -R "$work/storage" 2>/dev/null || true
    umount -R "$work/run" 2>/dev/null || true
    rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT
mkdir -p "$work/tmp"

# The image: a static busybox.
mkdir -p "$work/img/bin" "$work/img/proc" "$work/img/tmp" "$work/img/sigchan"
cp "$(command -v busybox)" "$work/img/bin/busybox"
for c in sh sleep cat grep ps wc seq kill; do ln -sf busybox "$work/img/bin/$c"; done
tar -C "$work/img" -c . >"$work/img.tar"
pm import "$work/img.tar" localhost/sigchan-busybox:test >/dev/null

# wait_running NAME: until the container's shell runs its loop.
wait_running() {
    for _ in $(seq 200); do
        [ "$(pm inspect -f '{{.State.Running}}' "$1" 2>/dev/null)" = true ] && return 0
        sleep 0.05
    done
    echo "$1 did not start"; pm logs "$1" || true; exit 1
}

# stop_time NAME [run options]: seconds `podman stop -t 10` takes for `sh -c 'sleep 1000'`,
# and the container's exit code.
stop_time() {
    local name=$1; shift
    pm run -d --network none "$@" --name "$name" localhost/sigchan-busybox:test \
        sh -c 'sleep 1000' >/dev/null
    wait_running "$name"
    sleep 0.3
    local t0 t1 code
    t0=$(date +%s.%N); pm stop -t 10 "$name" >/dev/null; t1=$(date +%s.%N)
    code=$(pm inspect -f '{{.State.ExitCode}}' "$name")
    pm rm "$name" >/dev/null
    printf '%s %s\n' "$(echo "$t1 - $t0" | bc)" "$code"
}

# signal_code SIGNAL EXIT [run options]: the container's exit code when `podman kill -s
# SIGNAL` reaches a shell that traps it and exits EXIT.
signal_code() {
    local sig=$1 code=$2; shift 2
    pm run -d --network none "$@" --name sig localhost/sigchan-busybox:test \
        sh -c "trap 'exit $code' $sig; while :; do sleep 0.05; done" >/dev/null
    wait_running sig
    sleep 0.3
    pm kill -s "$sig" sig >/dev/null
    pm wait sig
    pm rm sig >/dev/null
}

read -r t_none code_none < <(stop_time noinit)
read -r t_cat code_cat < <(stop_time catatonit --init)
read -r t_ours code_ours < <(stop_time ours --init --init-path="$init_bin")
echo "podman stop of sh -c 'sleep 1000' (stop timeout 10 s):"
printf '  %-36s %6.2f s  exit %s\n' "no init (the shell is PID 1)" "$t_none" "$code_none"
printf '  %-36s %6.2f s  exit %s\n' "--init, Podman's catatonit" "$t_cat" "$code_cat"
printf '  %-36s %6.2f s  exit %s\n' "--init --init-path=sigchan-init" "$t_ours" "$code_ours"
[ "$code_ours" = 143 ] || { echo "sigchan-init: the container did not end by TERM"; exit 1; }

usr1=$(signal_code USR1 10 --init --init-path="$init_bin")
rtmin=$(signal_code 34 34 --init --init-path="$init_bin")
usr1_cat=$(signal_code USR1 10 --init)
rtmin_cat=$(signal_code 34 34 --init)
echo "podman kill -s USR1 / 34: sigchan-init exit $usr1 / $rtmin, catatonit exit $usr1_cat / $rtmin_cat"
[ "$usr1" = 10 ] && [ "$rtmin" = 34 ] || { echo "sigchan-init did not forward USR1 and 34"; exit 1; }

out=$(pm run --rm --network none --init --init-path="$init_bin" localhost/sigchan-busybox:test sh -c '
    i=0; while [ $i -lt 200 ]; do (sleep 0.01 &); i=$((i+1)); done
    sleep 1
    cat /proc/[0-9]*/stat 2>/dev/null | grep -c ") Z " || true')
echo "podman: zombies after 200 orphans inside the container: $out"
[ "$out" = 0 ] || { echo "zombies left"; exit 1; }

# Kubernetes Pods. The init comes from a hostPath volume; the pod's grace period is 30 s.
mkdir -p "$work/hostinit"
cp "$init_bin" "$work/hostinit/sigchan-init"
pod_yaml() { # NAME SHARE_PID INIT_ARGS
    cat <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $1
spec:
  shareProcessNamespace: $2
  terminationGracePeriodSeconds: 30
  containers:
  - name: app
    image: localhost/sigchan-busybox:test
    command: ["/sigchan/sigchan-init", $3 "--", "/bin/sh", "-c",
              "i=0; while [ \$i -lt 50 ]; do (sleep 0.01 &); i=\$((i+1)); done; sleep 1000"]
    volumeMounts:
    - name: init
      mountPath: /sigchan
  volumes:
  - name: init
    hostPath:
      path: $work/hostinit
      type: Directory
EOF
}
# kube_round NAME SHARE_PID INIT_ARGS: plays the pod, checks the init's pid and that the
# orphans were reaped, times `podman kube down`, and prints "SECONDS EXIT PID ZOMBIES".
kube_round() {
    local name=$1 share=$2 args=$3
    pod_yaml "$name" "$share" "$args" >"$work/$name.yaml"
    pm kube play --network none "$work/$name.yaml" >/dev/null
    local ctr="$name-app"
    wait_running "$ctr"
    sleep 1.5
    local init_pid zombies
    init_pid=$(pm exec "$ctr" /bin/sh -c 'for p in /proc/[0-9]*; do if grep -q "^Name:.*sigchan-init" $p/status 2>/dev/null; then basename $p; break; fi; done')
    zombies=$(pm exec "$ctr" /bin/sh -c 'cat /proc/[0-9]*/stat 2>/dev/null | grep -c ") Z " || true')
    local t0 t1 code
    # With a shared PID namespace the pause container's catatonit is PID 1, and Podman may
    # stop it alongside the app: its exit SIGKILLs everything left in the namespace. Stop
    # the app container itself there, which is what its own grace period governs.
    if [ "$share" = true ]; then
        t0=$(date +%s.%N); pm stop -t 30 "$ctr" >/dev/null; t1=$(date +%s.%N)
    else
        t0=$(date +%s.%N); pm pod stop -t 30 "$name" >/dev/null; t1=$(date +%s.%N)
    fi
    code=$(pm inspect -f '{{.State.ExitCode}}' "$ctr")
    pm kube down "$work/$name.yaml" >/dev/null
    printf '%s %s %s %s\n' "$(echo "$t1 - $t0" | bc)" "$code" "$init_pid" "$zombies"
}
read -r k_t k_code k_pid k_z < <(kube_round sigchan-pod false "")
read -r s_t s_code s_pid s_z < <(kube_round sigchan-shared true '"-s",')
echo "podman kube play / pod stop, or the app container's stop in the shared pod (grace 30 s) / kube down:"
printf '  %-44s %6.2f s  exit %s  init pid %s  zombies %s\n' "Pod, sigchan-init as PID 1" "$k_t" "$k_code" "$k_pid" "$k_z"
printf '  %-44s %6.2f s  exit %s  init pid %s  zombies %s\n' "Pod, shareProcessNamespace (init -s)" "$s_t" "$s_code" "$s_pid" "$s_z"
[ "$k_code" = 143 ] && [ "$k_pid" = 1 ] && [ "$k_z" = 0 ] || { echo "pod: not a graceful PID 1"; exit 1; }
[ "$s_code" = 143 ] && [ "$s_pid" != 1 ] && [ "$s_z" = 0 ] || { echo "shared pod: not a graceful subreaper"; exit 1; }
awk -v a="$k_t" -v b="$s_t" 'BEGIN { exit !(a < 15 && b < 15) }' || { echo "pod stop took most of the grace period"; exit 1; }
echo "podman: sigchan-init passed"
