#!/usr/bin/env bash
# Make a working Docker engine available, one that can run privileged containers (k3s needs them).
# Each need is detected by trying; on a machine where privileged containers already work this
# changes nothing. Idempotent.
#   - no engine installed: install Debian's docker.io (apt-get)
#   - engine not running: start dockerd in the background (log: $KC_LOG_DIR/dockerd.log)
#   - privileged containers fail with "unable to apply caps" (the VM's capability bounding set
#     lacks a capability): register scripts/host/runc-dropcaps as the default OCI runtime.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

WRAPPER=/usr/local/lib/kube-claims/runc-dropcaps
PROBE_IMAGE=kube-claims/probe:busybox
# The dockerd this script started, so that it stops only that one, never one by name.
PIDFILE=$KC_CACHE/dockerd.pid

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

wait_for_engine() {
  local deadline=$((SECONDS + 60))
  until docker info >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || kc_die "dockerd did not answer within 60s; see $KC_LOG_DIR/dockerd.log"
    sleep 0.5
  done
}

start_dockerd() {
  # No systemd on these machines: run dockerd detached, in its own session.
  local args=()
  if [ -x "$WRAPPER" ]; then args+=(--add-runtime "kube-claims=$WRAPPER" --default-runtime kube-claims); fi
  kc_say "changing the host: starting dockerd ${args[*]:-} (log: $KC_LOG_DIR/dockerd.log)"
  # dockerd writes its own pid (--pidfile): `$!` here would be the backgrounded shell's, and
  # with sudo it would be sudo's, neither of which stops dockerd.
  as_root rm -f "$PIDFILE"
  local sudo=(); [ "$(id -u)" = 0 ] || sudo=(sudo)
  kc_daemon "$KC_LOG_DIR/dockerd.log" "${sudo[@]}" dockerd --pidfile "$PIDFILE" "${args[@]}"
  wait_for_engine
  [ -s "$PIDFILE" ] || kc_die "dockerd answers but wrote no pid file ($PIDFILE); see $KC_LOG_DIR/dockerd.log"
}

started_here() { [ -f "$PIDFILE" ] && as_root kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

stop_our_dockerd() {
  local pid; pid=$(cat "$PIDFILE")
  kc_say "changing the host: stopping the dockerd this script started (pid $pid)"
  as_root kill "$pid"
  local deadline=$((SECONDS + 30))
  while as_root kill -0 "$pid" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || kc_die "dockerd (pid $pid) did not stop within 30s"
    sleep 0.5
  done
  # The socket must be free before the next start: an engine that still answers is not ours.
  ! docker info >/dev/null 2>&1 || kc_die "a Docker engine still answers after dockerd (pid $pid) stopped"
  as_root rm -f "$PIDFILE"
}

ensure_probe_image() {
  docker image inspect "$PROBE_IMAGE" >/dev/null 2>&1 && return
  local dir; dir=$(mktemp -d)
  mkdir -p "$dir/bin"; cp "$(kc_static_busybox)" "$dir/bin/busybox"; ln -s busybox "$dir/bin/sh"; ln -s busybox "$dir/bin/true"
  tar -C "$dir" -c . | docker import --change 'CMD ["/bin/sh"]' - "$PROBE_IMAGE" >/dev/null
  rm -rf "$dir"
}

privileged_works() {
  local out
  if out=$(docker run --rm --privileged "$PROBE_IMAGE" /bin/true 2>&1); then return 0; fi
  echo "$out" >"$KC_LOG_DIR/privileged-probe.log"
  return 1
}

ready() {
  kc_say "Docker engine ready: $(docker version --format '{{.Server.Version}}'), cgroup v$(docker info --format '{{.CgroupVersion}}'), privileged containers work$*"
  exit 0
}

# 1. An engine that answers: Docker Desktop, Colima, a remote DOCKER_HOST, or a local dockerd.
if ! docker info >/dev/null 2>&1; then
  command -v docker >/dev/null 2>&1 && command -v dockerd >/dev/null 2>&1 || {
    command -v apt-get >/dev/null || kc_die "no Docker engine answers (docker info) and there is no apt-get to install one; install Docker and start it"
    kc_say "changing the host: installing Debian's docker.io (no Docker engine answers)"
    kc_apt_install docker.io
  }
  if pgrep -x dockerd >/dev/null; then
    kc_say "a dockerd is running but does not answer yet; waiting for it"
    wait_for_engine
  else
    start_dockerd
  fi
fi

# 2. Privileged containers (k3s needs them).
ensure_probe_image
privileged_works && ready
grep -q 'unable to apply caps' "$KC_LOG_DIR/privileged-probe.log" ||
  kc_die "privileged containers fail, for a reason this script cannot fix: $(cat "$KC_LOG_DIR/privileged-probe.log")"
kc_say "privileged containers fail: the host's capability bounding set ($(grep CapBnd /proc/self/status | cut -f2)) lacks capabilities Docker grants them"
if ! started_here; then
  kc_die "the running Docker engine was not started by this script, so it is left alone; restart it with: dockerd --add-runtime kube-claims=$WRAPPER --default-runtime kube-claims (after: sudo install -D -m 0755 scripts/host/runc-dropcaps $WRAPPER)"
fi
kc_say "changing the host: installing $WRAPPER and making it dockerd's default runtime: every container of this engine then starts through it (it drops only the capabilities the host lacks, then runs runc)"
# The wrapper is a Python script; a fresh Debian may lack python3.
command -v python3 >/dev/null || { kc_say "changing the host: installing Debian's python3 (the wrapper runs on it)"; kc_apt_install python3; }
as_root install -D -m 0755 "$KC_ROOT/scripts/host/runc-dropcaps" "$WRAPPER"
stop_our_dockerd
start_dockerd
privileged_works || kc_die "privileged containers still fail with the wrapper: $(cat "$KC_LOG_DIR/privileged-probe.log")"
ready " (through $WRAPPER)"
