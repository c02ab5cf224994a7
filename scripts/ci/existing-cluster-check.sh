#!/usr/bin/env bash
# The claims on a cluster the run did not start (KUBE_CLAIMS_KUBECONFIG), as a team runs them on
# their own: a cluster is started apart (scripts/start-cluster.ts, with this shell's image
# settings), then the suite gets only its kubeconfig. Checks that the run touched nothing but its
# own namespaces (the cluster's namespaces and kube-system's objects are the same after), that
# none of them remain, that claims which disrupt a cluster are skipped unless allowed, and that a
# user who may not create namespaces gets one line and exit code 2. The cluster is removed at the end.
#   usage: scripts/ci/existing-cluster-check.sh [NODES] [--short]
#     1 node: the whole chapter (--short: a few claims, with node-level steps and a disruptive one);
#     2 nodes: the claims across nodes and the node-loss claims (which must skip).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
nodes=${1:-1}
# --short (CI): claims that reach a node (runtime-runs-containers, logs-relayed), one with a Pod
# on the node's network (slow-pull-container-creating), one that needs none, and the disruptive
# ones (skipped, then allowed).
only=()
if [ "${2:-}" = --short ]; then only=(-t 'pod-has-ip|runtime-runs-containers|logs-relayed|slow-pull-container-creating|container-replaced'); fi

say() { kc_say "existing-cluster check: $*"; }
# On two nodes the suite takes the book's images from a registry it is given by name
# (KUBE_CLAIMS_IMAGE_REGISTRY), as a team whose nodes cannot reach Docker Hub does: here the
# local mirror under its own address, which the nodes' registries.yaml knows as plain HTTP.
image_registry=()
if [ "$nodes" = 2 ] && [ -n "${KUBE_CLAIMS_REGISTRY_MIRROR:-}" ]; then
  registry_host=${KUBE_CLAIMS_REGISTRY_MIRROR#*://}; registry_host=${registry_host%/}
  export KUBE_CLAIMS_REGISTRY_MIRROR_FOR="${KUBE_CLAIMS_REGISTRY_MIRROR_FOR:-docker.io},$registry_host"
  image_registry=(KUBE_CLAIMS_IMAGE_REGISTRY="$registry_host")
fi
mapfile -t started < <(KUBE_CLAIMS_NODES=$nodes npx tsx scripts/start-cluster.ts)
[ "${#started[@]}" = 3 ] || kc_die "scripts/start-cluster.ts did not start a cluster"
run=${started[0]} kubeconfig=${started[1]} kubectl=${started[2]}
trap 'bash scripts/remove-kept.sh "$run" >&2' EXIT
k() { "$kubectl" --kubeconfig "$kubeconfig" "$@"; }
# The stand-in's add-ons are up as on a k3s server (CoreDNS crashed on two nodes once, unseen by
# any claim): CoreDNS and local-path-provisioner available, every node in CoreDNS's NodeHosts.
# They are applied in the background, as k3s's deploy controller does (helpers/cluster/addons.ts).
npx tsx helpers/cluster/addons.ts "$kubectl" "$kubeconfig" ||
  kc_die "the add-ons a k3s server deploys did not become available: $(k -n kube-system get pods --no-headers 2>&1 | tr '\n' ';')"
for _ in $(seq 1 60); do
  hosts=$(k -n kube-system get configmap coredns -o jsonpath='{.data.NodeHosts}')
  missing=$(k get nodes -o name | cut -d/ -f2 | while read -r n; do grep -qw "$n" <<<"$hosts" || echo "$n"; done)
  [ -z "$missing" ] && break
  sleep 1
done
[ -z "$missing" ] || kc_die "CoreDNS's NodeHosts lacks node(s) $missing: $hosts"
# What the run must leave as it was: every namespace, and what runs in kube-system.
snapshot() { k get namespaces -o name; k -n kube-system get deployments,daemonsets,services,configmaps -o name; }
before=$(snapshot)

# The suite sees only the kubeconfig: none of the settings that shape a throwaway cluster.
suite() {
  env -u KUBE_CLAIMS_K8S_VERSION -u KUBE_CLAIMS_IMAGES -u KUBE_CLAIMS_NODE_IMAGE -u KUBE_CLAIMS_REGISTRY_MIRROR \
    -u KUBE_CLAIMS_REGISTRY_MIRROR_FOR -u KUBE_CLAIMS_REGISTRIES_YAML -u KUBE_CLAIMS_NODES \
    KUBE_CLAIMS_KUBECONFIG="$kubeconfig" KUBE_CLAIMS_KUBECTL="$kubectl" "$@"
}
status=0
report() { node -e 'const r = require(process.argv[1]); const v = r.versions[0];
  for (const c of r.claims) { const x = c.results[v]; if (process.argv.slice(2).includes(c.id)) console.log(`${c.id}\t${x.state}\t${x.reason ?? ""}`); }' "$PWD/reports/claims.json" "$@"; }
if [ "$nodes" = 1 ]; then
  say "${only[*]:-the whole chapter} on a cluster of one node, given its kubeconfig only"
  suite npm test -- --project 'k8s-*' "${only[@]}" || status=$?
  # Disruptive claims are skipped by default, and say why.
  # (Printed with >&2: `tee /dev/stderr` would reopen a log file that stderr goes to, and truncate it.)
  seen=$(report container-replaced container-replaced-never); echo "$seen" >&2
  grep -c $'\tskipped\t.*KUBE_CLAIMS_ALLOW_DISRUPTIVE=true' <<<"$seen" | grep -qx 2 ||
    { say "FAILED: the disruptive claims were not skipped with their reason"; status=1; }
  say "the disruptive claims, allowed"
  suite env KUBE_CLAIMS_ALLOW_DISRUPTIVE=true npm test -- --project 'k8s-*' -t 'container-replaced' || status=$?
else
  say "the claims across nodes on a cluster of $nodes nodes, given its kubeconfig only${image_registry:+ and ${image_registry[0]}}"
  suite env "${image_registry[@]}" npm test -- --project 'k8s-*' -t 'pod-ip-reachable-across-nodes|deployment-scales-across-nodes|node-loss-' 2>&1 | tee "$KC_LOG_DIR/existing-two-nodes.log" >&2 || status=$?
  # The Pods asked for the images under the registry's name.
  if [ "${#image_registry[@]}" -gt 0 ] && ! grep -qF "images: the nodes pull $registry_host/kiamol/ch02-hello-kiamol" "$KC_LOG_DIR/existing-two-nodes.log"; then
    say "FAILED: the run did not take the book's images from KUBE_CLAIMS_IMAGE_REGISTRY=$registry_host"; status=1
  fi
  # Losing a node: never a node the run did not start.
  seen=$(report node-loss-bare-pod-gone node-loss-deployment-recreates); echo "$seen" >&2
  grep -c $'\tskipped\t.*never removing a node it did not start' <<<"$seen" | grep -qx 2 ||
    { say "FAILED: the node-loss claims were not skipped with their reason"; status=1; }
fi

left=$(k get namespaces -l "$KC_RUN_LABEL" -o name)
if [ -n "$left" ]; then say "FAILED: namespaces of the run remain: $left"; status=1; fi
after=$(snapshot)
if [ "$before" != "$after" ]; then
  say "FAILED: the run changed the cluster outside its namespaces:"; diff <(echo "$before") <(echo "$after") >&2 || true; status=1
fi

# A cluster whose policy refuses privileged Pods and Pods on the node's network (a
# ValidatingAdmissionPolicy, as a policy engine would): the claims that reach a node, or put a
# registry on its network, are skipped with the refusal, not failed.
if [ "$nodes" = 1 ]; then
  k apply -f - >/dev/null <<'YAML'
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: { name: kube-claims-check-no-privileged }
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules: [{ apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods] }]
  validations:
    - expression: "!object.spec.containers.exists(c, has(c.securityContext) && has(c.securityContext.privileged) && c.securityContext.privileged)"
      message: privileged containers are not allowed here
    - expression: "!(has(object.spec.hostNetwork) && object.spec.hostNetwork)"
      message: the host's network is not allowed here
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: { name: kube-claims-check-no-privileged }
spec:
  policyName: kube-claims-check-no-privileged
  validationActions: [Deny]
YAML
  # The binding takes effect once the API server has loaded it: wait until a privileged Pod is refused.
  for _ in $(seq 1 60); do
    k run kube-claims-probe -n default --image=busybox --dry-run=server --overrides='{"spec":{"containers":[{"name":"p","image":"busybox","securityContext":{"privileged":true}}]}}' >/dev/null 2>&1 || break
    sleep 1
  done
  say "a policy that refuses privileged Pods and the host's network: the node-level claims and the slow pull skip with the refusal"
  suite npm test -- --project 'k8s-*' -t 'runtime-runs-containers|logs-relayed|slow-pull-container-creating' || status=$?
  seen=$(report runtime-runs-containers logs-relayed slow-pull-container-creating); echo "$seen" >&2
  grep -c $'\tskipped\t.*which this cluster refused: .*privileged containers are not allowed here' <<<"$seen" | grep -qx 2 ||
    { say "FAILED: the node-level claims were not skipped with the policy's refusal"; status=1; }
  grep -c $'\tskipped\t.*which this cluster refused: .*the host.s network is not allowed here' <<<"$seen" | grep -qx 1 ||
    { say "FAILED: the slow pull was not skipped with the policy's refusal"; status=1; }
  k delete validatingadmissionpolicybinding,validatingadmissionpolicy kube-claims-check-no-privileged >/dev/null
fi

# A user who may not create namespaces: one line, exit code 2. (A ServiceAccount with no rights.)
k create serviceaccount kube-claims-reader -n default >/dev/null
token=$(k create token kube-claims-reader -n default)
limited=$(mktemp "${TMPDIR:-/tmp}/kube-claims-limited-XXXXXX")
cp "$kubeconfig" "$limited"
"$kubectl" --kubeconfig "$limited" config set-credentials reader --token="$token" >/dev/null
"$kubectl" --kubeconfig "$limited" config set-context --current --user=reader >/dev/null
set +e
out=$(env -u KUBE_CLAIMS_K8S_VERSION -u KUBE_CLAIMS_IMAGES -u KUBE_CLAIMS_NODE_IMAGE -u KUBE_CLAIMS_REGISTRY_MIRROR -u KUBE_CLAIMS_NODES \
  KUBE_CLAIMS_KUBECONFIG="$limited" KUBE_CLAIMS_KUBECTL="$kubectl" CI=true npx vitest run --project 'k8s-*' 2>&1)
rc=$?
set -e
rm -f "$limited"
k delete serviceaccount kube-claims-reader -n default >/dev/null
if [ "$rc" = 2 ] && grep -q 'may not create namespaces' <<<"$out" && ! grep -qE '^\s+at .+:[0-9]+:[0-9]+\)?$' <<<"$out"; then
  say "a user who may not create namespaces: $(grep 'may not create namespaces' <<<"$out")"
else
  say "FAILED: a user who may not create namespaces got exit $rc:"; echo "$out" | tail -20 >&2; status=1
fi
[ "$status" = 0 ] && say "passed ($nodes node(s))"
exit "$status"
