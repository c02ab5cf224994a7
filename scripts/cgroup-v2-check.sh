#!/usr/bin/env bash
# The offline node image on a cgroup v2 host: boots a Debian VM with the unified hierarchy
# (scripts/vm.sh), loads the node and fixture images into it, and inside runs the smoke check,
# then two nodes side by side (two smoke checks at once: boot, a pod, its page, a clean stop),
# then the suite on a subset of the claims (boot, Pods, exec, logs, port-forward, node-level
# crictl steps, controllers), then checks that no container, node cgroup or Docker cgroup
# remains. The checkout is copied onto the VM's own disk first: module loading over the shared
# folder is too slow under emulation.
#   usage: scripts/cgroup-v2-check.sh [--steps smoke,side-by-side,suite] [--cpus N] [KUBERNETES_VERSION]
# (--steps: which checks to run, default all three; the leftovers check always runs)
# Our machines are cgroup v1; GitHub's runners and most laptops are v2.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

# The claims the suite run checks (a vitest -t pattern): one or two of each kind, from two suite
# files (each file's imports cost minutes under emulation). Pods and their shared network; a
# container removed with crictl and replaced by the kubelet (node-level, cgroups of a restarted
# container); port-forward; exec; logs as the runtime wrote them (node-level).
CLAIMS='pod-shares-network|container-replaced:|port-forward-pod|exec-in-pod|logs-relayed'

inside() {
  local version=$1 steps=$2 status=0
  [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] || kc_die "this is not a cgroup v2 host"
  kc_say "inside the VM: cgroup v2, $(nproc) CPUs, Docker $(docker info --format '{{.ServerVersion}} (cgroup {{.CgroupVersion}}, driver {{.CgroupDriver}})')"
  local scopes_before; scopes_before=$(find /sys/fs/cgroup -maxdepth 2 -name 'docker-*.scope' | wc -l)
  local started=$SECONDS
  # Emulated CPU (about 5x slower); two nodes booting at once take longer still.
  export KUBE_CLAIMS_BOOT_TIMEOUT=1200 KUBE_CLAIMS_TIME_SCALE=5
  if [[ ,$steps, == *,smoke,* ]]; then
    node_modules/.bin/tsx scripts/smoke.ts "$version" || status=1
    kc_say "one node: $((SECONDS - started))s"
  fi
  # Two nodes side by side, as two runs on one machine would start them: two smoke checks. The
  # suite runs after them, alone: with a cluster booting beside it, the emulated CPU starved both
  # (stop 30's CI: the smoke's node not Ready after 1200 s, the suite's first apply timed out).
  started=$SECONDS
  if [[ ,$steps, == *,side-by-side,* ]]; then
    node_modules/.bin/tsx scripts/smoke.ts "$version" >"$KC_LOG_DIR/v2-smoke-a.log" 2>&1 & local a=$!
    node_modules/.bin/tsx scripts/smoke.ts "$version" >"$KC_LOG_DIR/v2-smoke-b.log" 2>&1 & local b=$!
    wait "$a" || { status=1; kc_say "side by side: node A failed"; tail -n 30 "$KC_LOG_DIR/v2-smoke-a.log" >&2; }
    wait "$b" || { status=1; kc_say "side by side: node B failed"; tail -n 30 "$KC_LOG_DIR/v2-smoke-b.log" >&2; }
    kc_say "two nodes side by side: $((SECONDS - started))s; $(grep -h '^boot' "$KC_LOG_DIR"/v2-smoke-[ab].log | tr '\n' ' ')"
    started=$SECONDS
  fi
  # The suite, fewer tests at once and a longer boot allowance (emulated CPU).
  if [[ ,$steps, == *,suite,* ]]; then
    env KUBE_CLAIMS_IMAGES=offline KUBE_CLAIMS_K8S_VERSION="$version" KUBE_CLAIMS_WORKERS=2 KUBE_CLAIMS_CONCURRENCY=2 \
      node_modules/.bin/vitest run --project 'k8s-*' -t "$CLAIMS" >"$KC_LOG_DIR/v2-suite.log" 2>&1 ||
      { status=1; kc_say "the suite failed (log: $KC_LOG_DIR/v2-suite.log)"; sed 's/\x1b\[[0-9;]*m//g' "$KC_LOG_DIR/v2-suite.log" | tail -n 60 >&2; }
    kc_say "suite: $((SECONDS - started))s; $(grep -h 'kube-claims\] \(cluster ready\|Kubernetes .*passed\)' "$KC_LOG_DIR/v2-suite.log" | tr '\n' ' ')"
    sed 's/\x1b\[[0-9;]*m//g' "$KC_LOG_DIR/v2-suite.log" | grep -E '^ +[✓×↓] ' | grep -v skipped >&2 || true
  fi
  # Nothing left: containers, the node's cgroups, the containers' own cgroups.
  local left; left=$(docker ps -aq --filter "label=$KC_RUN_LABEL" | wc -l)
  [ "$left" = 0 ] || { kc_say "containers left: $left"; status=1; }
  [ ! -e /sys/fs/cgroup/kube-claims ] || { kc_say "node cgroups left: $(find /sys/fs/cgroup/kube-claims | head)"; status=1; }
  local scopes_after; scopes_after=$(find /sys/fs/cgroup -maxdepth 2 -name 'docker-*.scope' | wc -l)
  [ "$scopes_after" -le "$scopes_before" ] || { kc_say "Docker cgroups left: $scopes_after (before: $scopes_before)"; status=1; }
  [ "$status" = 0 ] && kc_say "cgroup v2: passed ($steps); nothing left behind"
  return "$status"
}

main() {
  if [ "${1:-}" = --inside ]; then inside "$2" "$3"; return; fi
  local steps=smoke,side-by-side,suite cpus=2
  while [ $# -gt 0 ]; do
    case $1 in
      --steps) [[ ${2:-} =~ ^(smoke|side-by-side|suite)(,(smoke|side-by-side|suite))*$ ]] || kc_die "--steps takes a comma-separated list of smoke, side-by-side, suite"; steps=$2; shift 2 ;;
      --cpus) [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || kc_die "--cpus needs a number"; cpus=$2; shift 2 ;;
      -*) kc_die "unknown option $1 (usage: scripts/cgroup-v2-check.sh [--steps smoke,side-by-side,suite] [--cpus N] [VERSION])" ;;
      *) break ;;
    esac
  done
  local version; version=$(kc_version_field "${1:-$(kc_default_version)}" kubernetes)
  bash "$KC_ROOT/scripts/build-images.sh" "$version" >&2
  cd "$KC_ROOT"
  [ -d node_modules ] || npm ci --no-audit --no-fund
  # The checkout as one file in the shared cache; unpacked on the VM's disk.
  local tarball=$KC_CACHE/vm/checkout.tar
  mkdir -p "$(dirname "$tarball")"
  tar -C "$KC_ROOT" --exclude=./.git --exclude=./reports -cf "$tarball" .
  # shellcheck disable=SC2064 # the path now: $tarball is local to main, gone by EXIT
  trap "rm -f '$tarball'" EXIT
  # In the background, so that a signal to this script alone (a CI timeout) reaches vm.sh,
  # which stops the VM; bash would otherwise wait for it to finish first.
  bash scripts/vm.sh run --timeout 3600 --cpus "$cpus" \
    --image "kube-claims/node:v$version" --image kube-claims/hello:ch02 --image kube-claims/whoami:ch02 \
    -- bash -c "mkdir -p /root/kube-claims && tar -C /root/kube-claims -xf '$tarball' && cd /root/kube-claims && bash scripts/cgroup-v2-check.sh --inside $version $steps" &
  VM_PID=$!
  trap 'stop_vm TERM 143' TERM
  trap 'stop_vm INT 130' INT
  wait "$VM_PID"
}

# stop_vm SIGNAL STATUS: pass the signal on to vm.sh, wait for it to stop the VM, and exit.
stop_vm() {
  kc_say "$1: stopping the VM"
  kill -"$1" "$VM_PID" 2>/dev/null || true
  wait "$VM_PID" 2>/dev/null || true
  exit "$2"
}

main "$@"
