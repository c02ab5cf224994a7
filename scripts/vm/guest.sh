#!/usr/bin/env bash
# Guest side of scripts/vm/vm.sh: run by the unit kc-vm.service inside the VM, from the run's
# control share (/run/kc), which scripts/vm/vm.sh fills:
#   base     docker or bare (no Docker: do not wait for one)
#   shares   TAG<tab>PATH per line: 9p shares to mount at PATH
#   images   NAME per line: images that must be in the guest's Docker; its data root is then
#            the disk labelled kc-docker (scripts/vm/vm.sh builds it with them), mounted first
#   run.sh   the command (environment, working directory, exec)
# It reports progress as lines in events (ready, images NAMES, start, rc N,
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
    if [ -s "$CTL/images" ]; then
      # Docker's data root moves onto the images disk, which already holds them.
      systemctl stop docker.socket docker.service || fail "could not stop dockerd to mount the images disk"
      mount -L kc-docker /var/lib/docker || fail "could not mount the images disk (label kc-docker) at /var/lib/docker"
      systemctl start docker.service || fail "dockerd did not start on the images disk ($(journalctl -u docker -n 5 --no-pager | tr '\n' ' '))"
    fi
    local deadline=$((SECONDS + 300))
    until docker info >/dev/null 2>&1; do
      [ $SECONDS -lt $deadline ] || fail "dockerd did not answer within 300s ($(systemctl is-active docker))"
      sleep 0.5
    done
    event "ready $(docker info --format 'Docker {{.ServerVersion}}, cgroup v{{.CgroupVersion}} ({{.CgroupDriver}})')"
  fi

  local name names=()
  while IFS= read -r name; do
    [ -n "$name" ] || continue
    docker image inspect "$name" >/dev/null 2>&1 || fail "image $name is not in the guest's Docker (the images disk)"
    names+=("$name")
  done <"$CTL/images"
  [ ${#names[@]} -eq 0 ] || event "images ${names[*]}"

  event start
  bash "$CTL/run.sh" >"$CTL/stdout" 2>"$CTL/stderr" </dev/null
  local rc=$?
  sync
  event "rc $rc"
}

main "$@"
