#!/usr/bin/env bash
# Remove a cluster that a run kept (KUBE_CLAIMS_KEEP, KUBE_CLAIMS_REUSE, scripts/start-cluster.ts):
# its node containers with their volumes, its network, and its kubeconfig and notes under
# ~/.cache/kube-claims/kept/RUN.
#   usage: scripts/remove-kept.sh RUN      remove that run's cluster (the run printed this command)
#          scripts/remove-kept.sh --all    remove every kept cluster
#          scripts/remove-kept.sh          list the kept clusters
set -euo pipefail
source "$(dirname "$0")/lib.sh"
KEPT=$KC_CACHE/kept

remove() {
  local run=$1
  [ -d "$KEPT/$run" ] || kc_die "no kept cluster for run $run (kept: $(ls "$KEPT" 2>/dev/null | tr '\n' ' '))"
  kc_need_docker
  local ids; ids=$(docker ps -aq --filter "label=$KC_RUN_LABEL=$run")
  if [ -n "$ids" ]; then
    kc_say "removing the node container(s) of run $run: $ids"
    # Stop gracefully first: the node removes its pods; then the container and its volumes.
    docker stop -t 30 $ids >/dev/null
    docker rm -f -v $ids >/dev/null
  fi
  # A cluster of several nodes has a network of its own.
  docker network ls -q --filter "label=$KC_RUN_LABEL=$run" | xargs -r docker network rm >/dev/null
  rm -rf "${KEPT:?}/$run"
  kc_say "removed kept run $run"
}

case "${1:-}" in
  "")
    if [ -z "$(ls -A "$KEPT" 2>/dev/null)" ]; then kc_say "no kept clusters"; exit 0; fi
    for run in "$KEPT"/*; do
      if [ -f "$run/reuse.json" ]; then what="kept for reuse (KUBE_CLAIMS_REUSE)$(if [ -f "$run/in-use" ]; then echo ", in use by process $(cat "$run/in-use")"; fi)"
      elif [ -f "$run/namespaces" ]; then what="namespaces: $(cut -f1 "$run/namespaces" | tr '\n' ' ')"
      else what="left running (scripts/start-cluster.ts)"; fi
      echo "$(basename "$run")  kubeconfig: $run/kubeconfig  $what"
    done ;;
  --all) for run in "$KEPT"/*; do [ -d "$run" ] && remove "$(basename "$run")"; done; true ;;
  *) remove "$1" ;;
esac
