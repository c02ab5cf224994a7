#!/usr/bin/env bash
# Guest side of scripts/vm/vm.sh: run by the unit kc-vm.service inside the VM, from the run's
# control share (/run/kc), which scripts/vm/vm.sh fills:
#   base     docker or bare (no Docker: do not wait for one)
#   shares   TAG<tab>PATH per line: 9p shares to mount at PATH
#   images   TAR<tab>ID<tab>NAME per line: docker load TAR, then tag ID as NAME
#   run.sh   the command (environment, working directory, exec)
# It reports progress as lines in events (ready, load NAME, loaded NAME SECONDS, start, rc N,
# error MESSAGE), writes the command's output to stdout and stderr, and exits; the unit then
# powers the VM off. Not meant to be run on the host.
set -uo pipefail
CTL=/run/kc
MSIZE=1048576

event() { echo "$*" >>"$CTL/events"; }
fail() { event "error $*"; echo "kc-vm: error: $*" >&2; exit 1; }

main() {
  local tag path
  while IFS=$'\t' read -r tag path; do
    [ -n "$tag" ] || continue
    mkdir -p "$path"
    mount -t 9p -o "trans=virtio,version=9p2000.L,msize=$MSIZE" "$tag" "$path" ||
      fail "could not mount the share $path"
  done <"$CTL/shares"

  if [ "$(cat "$CTL/base" 2>/dev/null)" = bare ]; then
    # No Docker here: the command installs and starts one itself.
    event "ready no Docker (bare base), cgroup $(stat -fc %T /sys/fs/cgroup)"
  else
    local deadline=$((SECONDS + 300))
    until docker info >/dev/null 2>&1; do
      [ $SECONDS -lt $deadline ] || fail "dockerd did not answer within 300s ($(systemctl is-active docker))"
      sleep 0.5
    done
    event "ready $(docker info --format 'Docker {{.ServerVersion}}, cgroup v{{.CgroupVersion}} ({{.CgroupDriver}})')"
  fi

  local tar id name start out
  while IFS=$'\t' read -r tar id name; do
    [ -n "$tar" ] || continue
    event "load $name"
    start=$SECONDS
    out=$(docker load -i "$tar" 2>&1) || fail "docker load $name failed: $(echo "$out" | tail -n 3 | tr '\n' ' ')"
    docker tag "$id" "$name" || fail "docker tag $id $name failed"
    event "loaded $name $((SECONDS - start))"
  done <"$CTL/images"

  event start
  bash "$CTL/run.sh" >"$CTL/stdout" 2>"$CTL/stderr" </dev/null
  local rc=$?
  sync
  event "rc $rc"
}

main "$@"
