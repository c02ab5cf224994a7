#!/usr/bin/env bash
# Benchmark: cluster boot time (container start to node Ready) of a node image, as the median
# of N smoke runs (scripts/smoke.sh: start, wait, run a pod, fetch its page, remove).
#   usage: scripts/bench-boot.sh [KUBERNETES_VERSION] [RUNS=3]
set -euo pipefail
source "$(dirname "$0")/lib.sh"

VERSION=${1:-$(kc_default_version)}
RUNS=${2:-3}
times=()
for i in $(seq 1 "$RUNS"); do
  t=$(bash "$KC_ROOT/scripts/smoke.sh" "$VERSION" 2>/dev/null | sed -n 's/^boot: \([0-9.]*\) s$/\1/p')
  [ -n "$t" ] || kc_die "smoke run $i failed; run scripts/smoke.sh $VERSION to see why"
  kc_say "run $i/$RUNS: boot $t s"
  times+=("$t")
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}')
echo "boot median of $RUNS: $median s (runs: ${times[*]})"
