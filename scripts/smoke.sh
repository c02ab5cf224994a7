#!/usr/bin/env bash
# Smoke check of a node image: start it the way @testcontainers/k3s does, wait for the node,
# run a pod from the local hello image, fetch its page by pod IP, then remove everything.
#   usage: scripts/smoke.sh [KUBERNETES_VERSION] [IMAGE]
# Prints "boot: N s" (container start to node Ready). Exits non-zero with the reason on failure.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
kc_need_docker

VERSION=$(kc_version_field "${1:-$(kc_default_version)}" kubernetes)
IMAGE=${2:-kube-claims/node:v$VERSION}
HELLO_TAR=$KC_CACHE/images/hello-ch02.tar
docker image inspect "$IMAGE" >/dev/null 2>&1 || kc_die "image $IMAGE not present; build it: bash scripts/build-node-image.sh $VERSION"
[ -f "$HELLO_TAR" ] || kc_die "$HELLO_TAR not present; build it: bash scripts/build-fixtures.sh"

args=(server --disable=traefik)
[ "$(docker info --format '{{.CgroupVersion}}')" = 1 ] && args+=(--kubelet-arg=fail-cgroupv1=false)

# As in the harness: how long the node may take to boot (slow or emulated machines need more).
BOOT_TIMEOUT=${KUBE_CLAIMS_BOOT_TIMEOUT:-180}
name=kube-claims-smoke-$$
# Stop gracefully first: the node then removes its pods and its cgroups on the host.
cleanup() { docker stop -t 30 "$name" >/dev/null 2>&1 || true; docker rm -f -v "$name" >/dev/null 2>&1 || true; }
trap cleanup EXIT
fail() {
  kc_say "smoke check FAILED: $*"
  kc_say "last node log lines:"; docker logs --tail 40 "$name" 2>&1 | sed 's/^/    /' >&2
  exit 1
}
in_node() { docker exec "$name" "$@"; }
# poll WHAT SECONDS COMMAND...: until COMMAND succeeds.
poll() {
  local what=$1 limit=$2; shift 2
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || fail "timed out after ${limit}s waiting for $what"
    sleep 0.5
  done
}

start_ms=$(($(date +%s%N) / 1000000))
# The run label starts with this shell's pid, so a concurrent run's sweep sees a live owner.
docker create --name "$name" --label kube-claims.run=$$-smoke --privileged --cgroupns=private \
  --tmpfs /run --tmpfs /var/run -p 127.0.0.1::6443 \
  "$IMAGE" "${args[@]}" >/dev/null
docker cp "$HELLO_TAR" "$name:/var/lib/rancher/k3s/agent/images/hello-ch02.tar"
docker start "$name" >/dev/null
kc_say "started $IMAGE ${args[*]}"
poll "the log line 'Node controller sync successful'" "$BOOT_TIMEOUT" sh -c "docker logs $name 2>&1 | grep -q 'Node controller sync successful'"
poll "node Ready" "$BOOT_TIMEOUT" in_node kubectl wait --for=condition=Ready node --all --timeout=1s
boot_ms=$(($(date +%s%N) / 1000000 - start_ms))
kc_say "node Ready: $(in_node kubectl get nodes --no-headers)"
poll "ServiceAccount default" 60 in_node kubectl get serviceaccount default
# The node's own tools answer with no flags, as in rancher/k3s.
for tool in "ctr version" "crictl info" "kubectl get nodes"; do
  in_node $tool >/dev/null 2>&1 || fail "\`$tool\` inside the node failed with no flags: $(in_node $tool 2>&1 | tail -3)"
done
kc_say "ctr, crictl and kubectl work inside the node with no flags"
[ "$(in_node ctr images ls -q | grep -c pause)" -ge 1 ] || fail "ctr with no flags does not list the node's (k8s.io) images"

in_node kubectl run hello --image=kube-claims/hello:ch02 >/dev/null || fail "kubectl run failed"
in_node kubectl wait --for=condition=Ready pod/hello --timeout=120s >/dev/null || fail "pod hello not Ready: $(in_node kubectl describe pod hello | tail -20)"
ip=$(in_node kubectl get pod hello -o jsonpath='{.status.podIP}')
[ -n "$ip" ] || fail "pod hello has no IP"
page=$(in_node bash -c "exec 3<>/dev/tcp/$ip/80; printf 'GET / HTTP/1.0\r\n\r\n' >&3; cat <&3") || fail "no answer from http://$ip/"
grep -q '<html' <<<"$page" || fail "http://$ip/ did not serve the page: $page"
kc_say "pod hello Running and Ready at $ip; its page is served"
printf 'boot: %d.%d s\n' $((boot_ms / 1000)) $((boot_ms % 1000 / 100))
