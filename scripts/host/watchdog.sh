#!/usr/bin/env bash
# The run's reaper, started detached by the test run (helpers/cluster/global-setup.ts): when process
# PID ends, however it ends (SIGKILL included), remove what the run labelled
# kube-claims.run=RUN (containers with their anonymous volumes, networks, volumes) and the
# run's temporary folder. A run that ends normally has removed them already; this finds
# nothing then. A run kept on purpose (KUBE_CLAIMS_KEEP: a folder KEPT_DIR/RUN exists) is left
# to scripts/remove-kept.sh. Testcontainers' Ryuk does the same for containers where its image
# can be pulled; this also works offline, and covers the temporary files. On an existing
# cluster (KUBE_CLAIMS_KUBECONFIG) it deletes the run's namespaces (labelled with RUN) with
# KUBECTL and the run's KUBECONFIG, before the temporary folder that holds that file.
#   usage: scripts/host/watchdog.sh PID RUN TMP_DIR [KEPT_DIR [KUBECTL KUBECONFIG]]
set -uo pipefail
source "$(dirname "$0")/../lib.sh"

main() {
  local pid=$1 run=$2 dir=$3 kept=${4:-} kubectl=${5:-} kubeconfig=${6:-}
  local log=$KC_LOG_DIR/watchdog.log
  exec >>"$log" 2>&1
  while kill -0 "$pid" 2>/dev/null; do sleep 1; done
  if [ -n "$kept" ] && [ -d "$kept/$run" ]; then
    echo "$(date -u +%FT%TZ) run $run: process $pid ended; its cluster is kept ($kept/$run)"
    rm -rf "$dir"
    return
  fi
  if [ -n "$kubectl" ]; then
    # The run removes its kubeconfig's folder last, after deleting its namespaces: with it gone,
    # the run did its own clean-up (and this could not reach the cluster anyway).
    if [ ! -e "$kubeconfig" ]; then
      echo "$(date -u +%FT%TZ) run $run: process $pid ended after its own clean-up (its temporary files are gone)"
      return
    fi
    # Normally the run has removed them already; then this deletes nothing.
    echo "$(date -u +%FT%TZ) run $run: process $pid ended; deleting its namespaces ($KC_RUN_LABEL=$run)"
    timeout 120 "$kubectl" --kubeconfig "$kubeconfig" delete namespaces -l "$KC_RUN_LABEL=$run" --ignore-not-found --wait=false
    rm -rf "$dir"
    return
  fi
  local filter=(--filter "label=$KC_RUN_LABEL=$run") quiet=0 ids
  # A container the process asked for just before it died may still be being created: sweep
  # until five sweeps in a row find nothing.
  while [ $quiet -lt 5 ]; do
    ids=$(docker ps -aq "${filter[@]}")
    if [ -n "$ids" ]; then
      quiet=0
      echo "$(date -u +%FT%TZ) run $run: process $pid ended; removing its containers $ids"
      docker rm -f -v $ids >/dev/null
    else
      quiet=$((quiet + 1))
    fi
    sleep 1
  done
  docker network ls -q "${filter[@]}" | xargs -r docker network rm >/dev/null
  docker volume ls -q "${filter[@]}" | xargs -r docker volume rm >/dev/null
  rm -rf "$dir"
}

# All of it is read before it runs, so replacing this file never disturbs a running watchdog.
main "$@"
