# Sourced by /bin/k3s (images/node/k3s): how the node runs its components and stops them.
# shellcheck shell=bash

# The components started, by process id and by name.
PIDS=()
declare -A PID_OF NAME_OF
# start NAME COMMAND...: run a component in the background, its output in $LOGS/NAME.log.
start() {
  local name=$1; shift
  "$@" >"$LOGS/$name.log" 2>&1 &
  PIDS+=($!)
  PID_OF[$name]=$!
  NAME_OF[$!]=$name
}

# wait_until WHAT COMMAND...: poll COMMAND until it succeeds. Like k3s, the node does not give
# up on a slow start (an emulated or busy machine): whoever started it decides how long to
# wait. It says what it is waiting for every 30 s, and stops when a component has exited.
wait_until() {
  local what=$1; shift
  local since=$SECONDS next=$((SECONDS + 30)) pid
  until "$@" >/dev/null 2>&1; do
    for pid in "${PIDS[@]}"; do
      kill -0 "$pid" 2>/dev/null && continue
      say "${NAME_OF[$pid]} exited while waiting for $what"; dump_logs; shutdown 1
    done
    if [ $SECONDS -ge $next ]; then
      say "still waiting for $what ($((SECONDS - since))s)"; next=$((SECONDS + 30))
    fi
    sleep 0.2
  done
}

dump_logs() {
  for f in "$LOGS"/*.log; do say "--- last lines of $f"; tail -n 15 "$f" || true; done
}

# The node's own cgroup directories (none in a private namespace): one per v1 controller, or
# the one directory of the v2 hierarchy.
cgroup_dirs() {
  [ "$OWN_CGROUPS" = true ] || return 0
  if [ "$CGROUP_V2" = true ]; then echo "/sys/fs/cgroup$CGROUP_ROOT"; return 0; fi
  for d in /sys/fs/cgroup/*/; do
    [ -L "${d%/}" ] && continue
    echo "${d%/}$CGROUP_ROOT"
  done
}

# enable_controllers DIR: let DIR's children use every controller DIR has (cgroup v2).
enable_controllers() {
  local c
  for c in $(cat "$1/cgroup.controllers"); do echo "+$c" >"$1/cgroup.subtree_control" 2>/dev/null || true; done
}

# stop NAME: end one component, waiting up to 15s for it.
stop() {
  local pid=${PID_OF[$1]:-}
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || return 0
  timeout 15 tail --pid="$pid" -f /dev/null || kill -9 "$pid" 2>/dev/null || true
}

shutdown() {
  local rc=${1:-0}
  trap - TERM INT
  say "stopping: kubelet, then the pods, then the rest"
  stop kubelet
  stop kube-proxy
  stop flanneld
  timeout 20 crictl rmp --force --all >/dev/null 2>&1 || say "could not remove all pods"
  for name in kube-scheduler kube-controller-manager kube-apiserver kine containerd; do stop "$name"; done
  # Remove the node's cgroups (deepest first) so that nothing remains on the host; end any
  # process still in them first (a container that outlived its shim).
  local left
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    left=0
    for dir in $(cgroup_dirs); do
      [ -d "$dir" ] || continue
      # shellcheck disable=SC2038 # these files hold process ids, one per line (v1: tasks, v2: cgroup.procs)
      find "$dir" \( -name tasks -o -name cgroup.procs \) -exec cat {} + 2>/dev/null | xargs -r kill -9 2>/dev/null || true
      find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || true
      [ -d "$dir" ] && left=1
    done
    [ "$left" = 0 ] && break
    sleep 0.5
  done
  [ "$left" = 0 ] || say "could not remove all of the node's cgroups under $CGROUP_ROOT"
  # The shared parent goes with the last node that used it (another node's keeps it busy).
  [ "$OWN_CGROUPS" = true ] && for dir in $(cgroup_dirs); do rmdir "${dir%/*}" 2>/dev/null || true; done
  say "stopped"
  exit "$rc"
}
