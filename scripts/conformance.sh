#!/usr/bin/env bash
# Upstream Kubernetes' own [Conformance] specs against the node stand-in: does a change to the
# node image (PKI, cgroups, networking, a component's version) still give conformant Kubernetes?
# Builds e2e.test at the node's version and the e2e test images (scripts/build/conformance.sh),
# starts a cluster the way a team starts one (scripts/start-cluster.ts, this shell's image
# settings), imports the test images into each node, runs the selected specs one e2e.test
# process per spec (each its own time limit and report), prints a summary, and removes the cluster.
#   usage: scripts/conformance.sh [--suite pods|network|all] [--reject-unclaimed] [--dry-run] [KUBERNETES_VERSION]
#     pods:    sig-node Pods, Containers, PodTemplates, Pods Extended; sig-apps Deployment, ReplicaSet (35 specs)
#     network: sig-network Services and DNS (23 specs)
#     --reject-unclaimed: in each node, reject forwarded traffic to the Service range that no
#       kube-proxy rule claimed (iptables -I FORWARD -d 10.43.0.0/16 -j REJECT), as a network
#       that routes nothing there does. For machines whose network answers every outbound TCP
#       connection (a transparent proxy): there, "Services should serve endpoints on same port
#       and different protocols" sees TCP answered on a Service that has only a UDP port.
#   env: FOCUS (a Ginkgo regex; replaces --suite), SPEC_TIMEOUT (s, 600), TOTAL_TIMEOUT (s, 3600),
#        KUBE_CLAIMS_NODES (default 1). Results: $KC_CACHE/conformance/vVERSION/run-TIME/ (summary.md).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

suite=pods dry='' reject=''
while [ $# -gt 0 ]; do
  case $1 in
    --suite) suite=${2:?--suite needs pods, network or all}; shift 2 ;;
    --reject-unclaimed) reject=1; shift ;;
    --dry-run) dry=1; shift ;;
    -*) kc_die "unknown option $1 (usage: scripts/conformance.sh [--suite pods|network|all] [--reject-unclaimed] [--dry-run] [VERSION])" ;;
    *) break ;;
  esac
done
VERSION=$(kc_version_field "${1:-$(kc_default_version)}" kubernetes)
pods='\[sig-node\] (Pods|Containers|PodTemplates|Pods Extended) .*\[Conformance\]|\[sig-apps\] (Deployment|ReplicaSet) .*\[Conformance\]'
network='\[sig-network\] (Services|DNS) .*\[Conformance\]'
case $suite in
  pods) focus=$pods ;; network) focus=$network ;; all) focus="$pods|$network" ;;
  *) kc_die "--suite must be pods, network or all, not $suite" ;;
esac
FOCUS=${FOCUS:-$focus}
SKIP=${SKIP:-'\[Disruptive\]|\[Flaky\]|\[Feature:[^]]*\]|\[Serial\]'}
SPEC_TIMEOUT=${SPEC_TIMEOUT:-600}
TOTAL_TIMEOUT=${TOTAL_TIMEOUT:-3600}

bash scripts/build/conformance.sh "$VERSION"
C=$(bash scripts/build/conformance.sh --where "$VERSION")
E2E=$C/bin/e2e.test
OUT=$C/run-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$OUT/json" "$OUT/logs"
common=(--provider=local --disable-log-dump --ginkgo.v --ginkgo.no-color
  --ginkgo.poll-progress-after=120s --ginkgo.poll-progress-interval=60s)

# 1. The specs that FOCUS and SKIP select, in run order (a dry run needs no cluster).
"$E2E" "${common[@]}" --ginkgo.dry-run --ginkgo.focus="$FOCUS" --ginkgo.skip="$SKIP" \
  --ginkgo.json-report="$OUT/dry-run.json" >"$OUT/dry-run.log" 2>&1 ||
  kc_die "e2e.test's dry run failed: $(tail -5 "$OUT/dry-run.log")"
npx tsx scripts/conformance-report.ts specs "$OUT/dry-run.json" >"$OUT/specs.txt"
kc_say "conformance: $(wc -l <"$OUT/specs.txt") specs selected (list: $OUT/specs.txt)"
[ -s "$OUT/specs.txt" ] || kc_die "FOCUS selects no spec: $FOCUS"
if [ -n "$dry" ]; then cat "$OUT/specs.txt"; exit 0; fi

# 2. A cluster, with the e2e test images in each node's containerd (as k3s's air-gap images are).
mapfile -t started < <(npx tsx scripts/start-cluster.ts "$VERSION")
[ "${#started[@]}" = 3 ] || kc_die "scripts/start-cluster.ts did not start a cluster"
run=${started[0]} kubeconfig=${started[1]} kubectl=${started[2]}
trap 'bash scripts/remove-kept.sh "$run" >&2' EXIT
for id in $(docker ps -q --filter "label=$KC_RUN_LABEL=$run"); do
  for tar in "$C"/images/*.tar; do
    out=$(docker exec -i "$id" ctr -n k8s.io images import --all-platforms - <"$tar" 2>&1) ||
      kc_die "importing $(basename "$tar") into node ${id:0:12} failed: $out"
  done
  if [ -n "$reject" ]; then
    docker exec "$id" iptables -I FORWARD -d 10.43.0.0/16 -j REJECT ||
      kc_die "could not add the REJECT rule in node ${id:0:12}"
  fi
done
[ -z "$reject" ] || kc_say "conformance: forwarded traffic to 10.43.0.0/16 that no kube-proxy rule claimed is rejected in each node (--reject-unclaimed)"
kc_say "conformance: e2e test images imported; kube-system: $("$kubectl" --kubeconfig "$kubeconfig" -n kube-system get pods --no-headers 2>&1 | awk '{print $1" "$3}' | tr '\n' ';')"
# The Services specs probe with `kubectl exec`: the cluster's own kubectl.
common+=(--kubeconfig="$kubeconfig" --kubectl-path="$kubectl")

# 3. One spec per e2e.test process: Ginkgo v2 has no per-spec time limit, so --ginkgo.timeout bounds
# a process of one spec; TOTAL_TIMEOUT bounds the run (specs past it are reported as not run).
escape() { sed -e 's/[][\\.+*?(){}|^$]/\\&/g'; }
suite_text=$(npx tsx scripts/conformance-report.ts suite "$OUT/dry-run.json")
start=$SECONDS n=0
: >"$OUT/runs.tsv"
while IFS= read -r spec; do
  n=$((n + 1)); id=$(printf '%02d' "$n")
  if [ $((SECONDS - start)) -ge "$TOTAL_TIMEOUT" ]; then
    printf '%s\tnot-run\t0\t%s\n' "$id" "$spec" >>"$OUT/runs.tsv"; continue
  fi
  # Ginkgo matches --focus against "<suite description> <spec text>".
  focus="^$(printf '%s %s' "$suite_text" "$spec" | escape)\$"
  s=$SECONDS rc=0
  timeout -k 30 $((SPEC_TIMEOUT + 90)) "$E2E" "${common[@]}" --ginkgo.focus="$focus" \
    --ginkgo.timeout="${SPEC_TIMEOUT}s" --ginkgo.json-report="$OUT/json/$id.json" \
    >"$OUT/logs/$id.log" 2>&1 </dev/null || rc=$?
  printf '%s\t%s\t%s\t%s\n' "$id" "$rc" "$((SECONDS - s))" "$spec" >>"$OUT/runs.tsv"
  kc_say "conformance [$id/$(wc -l <"$OUT/specs.txt")] $([ "$rc" = 0 ] && echo passed || echo "FAILED (exit $rc, log $OUT/logs/$id.log)") in $((SECONDS - s))s: $spec"
done <"$OUT/specs.txt"
echo "$((SECONDS - start))" >"$OUT/wall_s"
status=0
npx tsx scripts/conformance-report.ts summary "$OUT" | tee "$OUT/summary.md" || status=$?
kc_say "conformance: summary in $OUT/summary.md"
if [ -z "$reject" ] && grep -q 'failed: \[sig-network\] Services should serve endpoints on same port and different protocols' "$OUT/summary.md"; then
  kc_say "conformance: where the machine's network answers every TCP connection (check: curl -m 5 http://10.99.99.99/ answers), that spec fails for the network, not the node; --reject-unclaimed runs it as on a network that does not"
fi
exit "$status"
