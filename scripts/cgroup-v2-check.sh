#!/usr/bin/env bash
# The offline node image on a cgroup v2 host: boots a Debian VM with the unified hierarchy
# (scripts/vm.sh), loads the node and fixture images into it, and inside runs the smoke check,
# then two runs of the suite side by side (two clusters at once, each a subset of the claims:
# boot, Pods, exec, logs, port-forward, node-level crictl steps, controllers), then checks
# that no container, node cgroup or Docker cgroup of those runs remains.
#   usage: scripts/cgroup-v2-check.sh [KUBERNETES_VERSION]
# Our machines are cgroup v1; GitHub's runners and most laptops are v2.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

# Claims each of the two runs checks (vitest -t patterns).
RUN_A='pod-wraps-containers|pod-has-ip|pod-shares-network|pod-localhost|runtime-runs-containers|container-replaced:|port-forward-pod|exec-in-pod|logs-relayed|logs-by-selector'
RUN_B='apply-pod-manifest|pods-self-heal|delete-controller-cascades|cp-from-pod|crash-loop-backoff|lab-whoami'

inside() {
  local version=$1 status=0
  [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] || kc_die "this is not a cgroup v2 host"
  kc_say "inside the VM: cgroup v2, $(nproc) CPUs, Docker $(docker info --format '{{.ServerVersion}} (cgroup {{.CgroupVersion}}, driver {{.CgroupDriver}})')"
  local scopes_before; scopes_before=$(find /sys/fs/cgroup -maxdepth 2 -name 'docker-*.scope' | wc -l)
  bash scripts/smoke.sh "$version" || status=1
  # Two clusters side by side, as two users' runs would be; fewer tests at once and a longer
  # boot allowance (emulated CPU, two clusters booting together).
  local common=(env KUBE_CLAIMS_IMAGES=offline KUBE_CLAIMS_K8S_VERSION="$version" KUBE_CLAIMS_WORKERS=2 KUBE_CLAIMS_CONCURRENCY=2 KUBE_CLAIMS_BOOT_TIMEOUT=900)
  local started=$SECONDS
  "${common[@]}" node_modules/.bin/vitest run --project 'k8s-*' -t "$RUN_A" --reporter=dot >"$KC_LOG_DIR/v2-run-a.log" 2>&1 & local a=$!
  "${common[@]}" node_modules/.bin/vitest run --project 'k8s-*' -t "$RUN_B" --reporter=dot >"$KC_LOG_DIR/v2-run-b.log" 2>&1 & local b=$!
  wait "$a" || { status=1; kc_say "run A failed (log: $KC_LOG_DIR/v2-run-a.log)"; tail -n 40 "$KC_LOG_DIR/v2-run-a.log" >&2; }
  wait "$b" || { status=1; kc_say "run B failed (log: $KC_LOG_DIR/v2-run-b.log)"; tail -n 40 "$KC_LOG_DIR/v2-run-b.log" >&2; }
  kc_say "two runs side by side took $((SECONDS - started))s"
  grep -h 'kube-claims\] Kubernetes .*passed' "$KC_LOG_DIR/v2-run-a.log" "$KC_LOG_DIR/v2-run-b.log" | sed 's/^/  run: /' >&2 || true
  # Nothing left: containers, the node's cgroups, the containers' own cgroups.
  local left; left=$(docker ps -aq --filter label=kube-claims.run | wc -l)
  [ "$left" = 0 ] || { kc_say "containers left: $left"; status=1; }
  [ ! -e /sys/fs/cgroup/kube-claims ] || { kc_say "node cgroups left: $(find /sys/fs/cgroup/kube-claims | head)"; status=1; }
  local scopes_after; scopes_after=$(find /sys/fs/cgroup -maxdepth 2 -name 'docker-*.scope' | wc -l)
  [ "$scopes_after" -le "$scopes_before" ] || { kc_say "Docker cgroups left: $scopes_after (before: $scopes_before)"; status=1; }
  [ "$status" = 0 ] && kc_say "cgroup v2: smoke check and both runs passed; nothing left behind"
  return "$status"
}

main() {
  if [ "${1:-}" = --inside ]; then inside "$2"; return; fi
  local version; version=$(kc_version_field "${1:-$(kc_default_version)}" kubernetes)
  bash "$KC_ROOT/scripts/build-images.sh" "$version" >&2
  cd "$KC_ROOT"
  [ -d node_modules ] || npm ci --no-audit --no-fund
  bash scripts/vm.sh run --timeout 3600 \
    --image "kube-claims/node:v$version" --image kube-claims/hello:ch02 --image kube-claims/whoami:ch02 \
    -- bash scripts/cgroup-v2-check.sh --inside "$version"
}

main "$@"
