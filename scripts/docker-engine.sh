#!/usr/bin/env bash
# Make a working Docker engine available, one that can run privileged containers (k3s needs them).
# Each need is detected by trying; on a machine where privileged containers already work this
# changes nothing. Idempotent.
#   - no engine installed: install Debian's docker.io (apt-get)
#   - engine not running: start dockerd in the background (log: $KC_LOG_DIR/dockerd.log)
#   - privileged containers fail with "unable to apply caps" (the VM's capability bounding set
#     lacks a capability): register scripts/runc-dropcaps as the default OCI runtime.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

WRAPPER=/usr/local/lib/kube-claims/runc-dropcaps
PROBE_IMAGE=kube-claims/probe:busybox

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
  kc_say "starting dockerd ${args[*]:-}"
  as_root setsid nohup dockerd "${args[@]}" >>"$KC_LOG_DIR/dockerd.log" 2>&1 </dev/null &
  wait_for_engine
}

stop_dockerd() {
  as_root pkill -x dockerd || true
  local deadline=$((SECONDS + 30))
  while pgrep -x dockerd >/dev/null; do
    [ $SECONDS -lt $deadline ] || kc_die "dockerd did not stop within 30s"
    sleep 0.5
  done
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

# 1. An engine binary.
if ! command -v dockerd >/dev/null 2>&1; then
  command -v apt-get >/dev/null || kc_die "no Docker engine (dockerd) and no apt-get to install one; install Docker and start it"
  kc_say "installing Debian's docker.io"
  kc_apt_install docker.io
fi

# 2. A running engine.
if ! docker info >/dev/null 2>&1; then
  if pgrep -x dockerd >/dev/null; then wait_for_engine; else start_dockerd; fi
fi

# 3. Privileged containers.
ensure_probe_image
if privileged_works; then
  kc_say "Docker engine ready: $(docker version --format '{{.Server.Version}}'), cgroup v$(docker info --format '{{.CgroupVersion}}'), privileged containers work"
  exit 0
fi
grep -q 'unable to apply caps' "$KC_LOG_DIR/privileged-probe.log" ||
  kc_die "privileged containers fail, for a reason this script cannot fix: $(cat "$KC_LOG_DIR/privileged-probe.log")"
kc_say "privileged containers fail (capability bounding set: $(grep CapBnd /proc/self/status | cut -f2)); registering the runtime wrapper $WRAPPER"
as_root install -D -m 0755 "$KC_ROOT/scripts/runc-dropcaps" "$WRAPPER"
if pgrep -x dockerd >/dev/null; then
  kc_say "restarting dockerd with the wrapper as its default runtime"
  stop_dockerd
fi
pgrep -x dockerd >/dev/null || start_dockerd
privileged_works || kc_die "privileged containers still fail with the wrapper: $(cat "$KC_LOG_DIR/privileged-probe.log")"
kc_say "Docker engine ready: $(docker version --format '{{.Server.Version}}'), cgroup v$(docker info --format '{{.CgroupVersion}}'), privileged containers work (through $WRAPPER)"
