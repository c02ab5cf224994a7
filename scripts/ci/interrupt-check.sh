#!/usr/bin/env bash
# Interrupt a real run at each stage (boot, mid-tests, teardown) with SIGINT, SIGTERM and
# SIGKILL, sent to the run's whole process group as a terminal or CI would, then count what
# the run left behind: containers, volumes and networks with its label, temporary folders,
# kubectl processes, node cgroups. Every count must be 0 (SIGKILL: once the run's watchdog has
# done its work, within a few seconds).
#   usage: scripts/ci/interrupt-check.sh [SIGNALS] [STAGES]   (default: "INT TERM KILL" "boot mid teardown")
# Runs offline on the newest version; prints one line per case and exits 1 if anything leaked.
set -uo pipefail
source "$(dirname "$0")/../lib.sh"
kc_need_docker
cd "$KC_ROOT" || exit 1

signals=${1:-INT TERM KILL}
stages=${2:-boot mid teardown}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
leaks=0

# wait_for FILE PATTERN SECONDS: until the run's output shows PATTERN.
wait_for() {
  local deadline=$((SECONDS + $3))
  until grep -q "$2" "$1" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.1
  done
}

for sig in $signals; do
  for stage in $stages; do
    tmp=$work/$sig-$stage; mkdir -p "$tmp"; log=$tmp/run.log
    # Its own session and process group, like a job in a terminal; its own TMPDIR to count files.
    TMPDIR=$tmp KUBE_CLAIMS_IMAGES=offline FORCE_COLOR=0 setsid npx vitest run --project 'k8s-*' \
      -t 'port-forward-pod|pod-has-ip|exec-interactive|delete-shows-terminating' >"$log" 2>&1 &
    leader=$!
    case $stage in
      boot) wait_for "$log" 'starting kube-claims/node' 60 ;;
      mid) wait_for "$log" 'cluster ready' 120 && sleep 4 ;;   # tests under way (port-forwards open)
      teardown) wait_for "$log" 'stopping cluster' 300 ;;
    esac || { kc_say "$sig/$stage: the run never reached the $stage stage; see $log"; leaks=$((leaks + 1)); kill -KILL -- -"$leader"; continue; }
    nodes=$(docker ps -aq --no-trunc --filter "label=$KC_RUN_LABEL" | tr '\n' ' ')
    kill -"$sig" -- -"$leader" 2>/dev/null
    wait "$leader" 2>/dev/null
    # Let the run's own handlers (or, after SIGKILL, its watchdog) finish: poll up to 30 s.
    deadline=$((SECONDS + 30))
    while :; do
      containers=0
      for id in $nodes; do docker inspect "$id" >/dev/null 2>&1 && containers=$((containers + 1)); done
      files=$(find "$tmp" -mindepth 1 -maxdepth 1 -name 'kube-claims-*' | wc -l)
      [ "$containers$files" = 00 ] || [ $SECONDS -ge $deadline ] && break
      sleep 0.5
    done
    cgroups=0
    for id in $nodes; do [ -d "/sys/fs/cgroup/memory/docker/$id" ] && cgroups=$((cgroups + 1)); done
    labelled=$(docker ps -aq --filter "label=$KC_RUN_LABEL" | grep -c . || true)
    networks=$(docker network ls -q --filter "label=$KC_RUN_LABEL" | grep -c . || true)
    volumes=$(docker volume ls -q --filter dangling=true | grep -c . || true)
    procs=$(pgrep -f "kubeconfig $tmp/" | grep -c . || true)
    kc_say "$sig during $stage: containers $containers, other labelled $labelled, networks $networks, dangling volumes $volumes, temp folders $files, kubectl processes $procs, node cgroups $cgroups"
    [ "$containers$files$procs$cgroups$networks" = 00000 ] || leaks=$((leaks + 1))
  done
done
[ $leaks = 0 ] && kc_say "no leaks" || { kc_say "$leaks case(s) leaked"; exit 1; }
