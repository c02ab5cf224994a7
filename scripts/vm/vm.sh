#!/usr/bin/env bash
# Run one command inside a cgroup v2 Debian VM (qemu, software emulation), for testing on a
# cgroup v2 host from a cgroup v1 one. The checkout and $KC_CACHE are shared into the VM at the
# same paths (read-write, 9p); the command runs as root in the current directory, its output
# streamed here, and its exit code is this script's.
#   usage: scripts/vm/vm.sh run [--base docker|bare] [--image NAME:TAG]... [--share DIR]... [--env NAME=VALUE]...
#                            [--timeout SECONDS] [--memory MIB] [--cpus N] -- COMMAND [ARGS...]
#          scripts/vm/vm.sh build [--base docker|bare]   (build the cached base image if absent; KC_REBUILD=1 rebuilds)
#          scripts/vm/vm.sh tools   (install what the host needs for the VM when missing: qemu, debootstrap, a Debian kernel)
#          scripts/vm/vm.sh disk-id [--base docker|bare] [--no-build]   (print the base image's identity:
#                 its inputs' hash and its build; with --no-build, "unbuilt-HASH" when absent)
# The base image (Debian bookworm, systemd, docker.io, the host's node binary, a Debian kernel)
# is cached under $KC_CACHE/vm/<base>-<inputs hash>/; each run boots a throwaway qcow2 overlay of it,
# which also holds the guest's Docker data. --image: host images, in the guest's Docker before the
# command: a second disk holds its data root with them (built on the host, cached under
# $KC_CACHE/vm/docker-data/ by the images' IDs; each run writes to an overlay of it).
# --base bare: the same Debian with neither Docker nor python3, and no service started by a
# package install (policy-rc.d), like a fresh machine of ours without systemd: for rehearsing
# scripts/host/docker-engine.sh from nothing (scripts/ci/fresh-machine-check.sh). No --image with it.
# Exit: the command's code; 124 on --timeout; 125 when the VM or this script failed; 2 on usage.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

SUITE=bookworm
PACKAGES=systemd-sysv,udev,dbus,docker.io,iproute2,iptables,ca-certificates,kmod,procps,busybox-static
# What a fresh machine has before the project's scripts run; capsh narrows the bounding set.
BARE_PACKAGES=systemd-sysv,udev,dbus,iproute2,ca-certificates,kmod,procps,libcap2-bin
BASE=docker
IMAGE_SIZE=16G   # sparse; the guest's Docker images and containers live in it (via the overlay)
VM_DIR=$KC_CACHE/vm
GUEST_SCRIPT=$KC_ROOT/scripts/vm/guest.sh
MSIZE=1048576

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
}
usage_error() { printf '[kube-claims] vm.sh: %s (see --help)\n' "$*" >&2; exit 2; }

# ---------------------------------------------------------------------------------------------
# The base image

ensure_host_tools() {
  local need=()
  command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
  command -v qemu-img >/dev/null || need+=(qemu-utils)
  command -v debootstrap >/dev/null || need+=(debootstrap)
  command -v mkfs.ext4 >/dev/null || need+=(e2fsprogs)
  compgen -G '/boot/vmlinuz-*' >/dev/null || need+=(linux-image-amd64)
  if [ ${#need[@]} -gt 0 ]; then
    kc_say "changing the host: installing Debian's ${need[*]} (for the VM)"
    kc_stage "vm: apt-get install ${need[*]}" kc_apt_install "${need[@]}"
  fi
}

# The newest Debian kernel in /boot that has its initrd and modules.
kernel_version() {
  local v
  for v in $(find /boot -maxdepth 1 -name 'vmlinuz-*' -printf '%f\n' | sed 's/^vmlinuz-//' | sort -rV); do
    if [ -f "/boot/initrd.img-$v" ] && [ -d "/lib/modules/$v" ]; then echo "$v"; return; fi
  done
  kc_die "no kernel in /boot with its initrd and /lib/modules (apt-get install linux-image-amd64)"
}

# Baked into the image: how the guest boots, and the unit that runs the host's command. The
# unit mounts the run's control share and runs the guest script from it (scripts/vm/guest.sh,
# copied there each run), so changing that script does not rebuild the image.
configure_rootfs() {
  local root=$1 kver=$2
  mkdir -p "$root/lib/modules"
  cp -a "/lib/modules/$kver" "$root/lib/modules/$kver"
  install -m 0755 /usr/bin/node "$root/usr/bin/node"
  echo kc-vm >"$root/etc/hostname"
  printf '127.0.0.1 localhost\n127.0.1.1 kc-vm\n::1 localhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
  : >"$root/etc/fstab"
  echo 'nameserver 10.0.2.3' >"$root/etc/resolv.conf"   # qemu's user network
  printf '[Match]\nName=en* eth*\n[Network]\nDHCP=yes\n' >"$root/etc/systemd/network/10-dhcp.network"
  mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
  ln -sf /lib/systemd/system/systemd-networkd.service "$root/etc/systemd/system/multi-user.target.wants/"
  # Nothing that talks on the console, waits for the network or wakes up on a timer.
  local unit
  for unit in serial-getty@ttyS0.service getty@tty1.service systemd-networkd-wait-online.service \
    apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer \
    systemd-timesyncd.service; do
    ln -sf /dev/null "$root/etc/systemd/system/$unit"
  done
  cat >"$root/etc/systemd/system/kc-vm.service" <<EOF
[Unit]
Description=kube-claims: run the host's command
After=docker.service network.target
Wants=docker.service
SuccessAction=poweroff-force
FailureAction=poweroff-force

[Service]
Type=exec
ExecStartPre=/bin/mkdir -p /run/kc
ExecStartPre=/bin/mount -t 9p -o trans=virtio,version=9p2000.L,msize=$MSIZE kcctl /run/kc
ExecStart=/bin/bash /run/kc/guest.sh
StandardOutput=journal+console
StandardError=journal+console
TimeoutStartSec=infinity
LimitNOFILE=1048576
LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity

[Install]
WantedBy=multi-user.target
EOF
  ln -sf /etc/systemd/system/kc-vm.service "$root/etc/systemd/system/multi-user.target.wants/"
  if [ "$BASE" = bare ]; then
    # Our machines have no init system that starts what a package installs (no systemd):
    # docker.io's postinst must not start dockerd; the project's script does.
    printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
    chmod 0755 "$root/usr/sbin/policy-rc.d"
  fi
  rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"*
}

base_packages() { if [ "$BASE" = bare ]; then echo "$BARE_PACKAGES"; else echo "$PACKAGES"; fi; }

# The hash of everything the base image is made of.
base_inputs() {
  local kver=$1
  printf 'suite %s\npackages %s\nsize %s\nmsize %s\nkernel %s\nnode %s %s\n' "$SUITE" "$(base_packages)" "$IMAGE_SIZE" "$MSIZE" \
    "$kver" "$(/usr/bin/node -v)" "$(sha256sum /usr/bin/node | cut -c1-16)"
  declare -f configure_rootfs
}

build_base() {
  local dir=$1 kver=$2
  local tmp=$dir.part
  [ "$(id -u)" = 0 ] || kc_die "building the VM's base image needs root (debootstrap, mkfs of a root filesystem); run: sudo bash scripts/vm/vm.sh build"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  local start=$SECONDS
  kc_stage "vm: debootstrap $SUITE ($BASE)" debootstrap --variant=minbase --include="$(base_packages)" \
    "$SUITE" "$tmp/root" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
  kc_stage "vm: configure the guest (kernel $kver, node $(/usr/bin/node -v))" configure_rootfs "$tmp/root" "$kver"
  kc_stage "vm: mkfs.ext4 $IMAGE_SIZE (sparse)" mkfs.ext4 -q -F -L kc-root -d "$tmp/root" "$tmp/base.img" "$IMAGE_SIZE"
  cp "/boot/vmlinuz-$kver" "$tmp/vmlinuz"
  cp "/boot/initrd.img-$kver" "$tmp/initrd.img"
  base_inputs "$kver" >"$tmp/inputs.txt"
  # Which build this is: a rebuild from the same inputs (Debian's packages move on) is another disk.
  printf '%s-%s-%s\n' "$(basename "$dir")" "$(date -u +%Y%m%dT%H%M%SZ)" "$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')" >"$tmp/disk-id"
  rm -rf "$tmp/root"
  rm -rf "$dir"
  mv "$tmp" "$dir"
  kc_say "vm: base image built in $((SECONDS - start))s: $dir ($(du -sh "$dir" | cut -f1) on disk)"
  # Older base images of this kind (other inputs) are of no further use.
  local old
  # (Before base kinds had names, the docker base lived in a folder named by its hash alone.)
  for old in "$VM_DIR"/"$BASE"-*/base.img $([ "$BASE" = docker ] && compgen -G "$VM_DIR/????????????????/base.img"); do
    [ -e "$old" ] || continue
    old=$(dirname "$old")
    [ "$old" = "$dir" ] || { kc_say "vm: removing the outdated base image $old"; rm -rf "$old"; }
  done
}

# The directory of the current base image (by its inputs), in BASE_DIR.
base_dir() {
  local kver hash
  kver=$(kernel_version)
  hash=$(base_inputs "$kver" | sha256sum | cut -c1-16)
  BASE_DIR=$VM_DIR/$BASE-$hash
}

# Sets BASE_DIR to the directory of the current base image, building it when absent.
ensure_base() {
  ensure_host_tools
  local kver dir
  kver=$(kernel_version)
  base_dir; dir=$BASE_DIR
  if [ -f "$dir/base.img" ] && [ -z "${KC_REBUILD:-}" ]; then
    kc_say "vm: base image present ($dir, kernel $kver; KC_REBUILD=1 rebuilds it)"
  else
    kc_say "vm: building the $BASE base image (Debian $SUITE, $(base_packages | tr ',' ' '), kernel $kver, node $(/usr/bin/node -v)) in $dir"
    build_base "$dir" "$kver"
  fi
  BASE_DIR=$dir
  # (A disk built before disks had an identity gets one now; it is not rebuilt.)
  [ -f "$dir/disk-id" ] || printf '%s-%s-%s\n' "$(basename "$dir")" "$(date -u -r "$dir/base.img" +%Y%m%dT%H%M%SZ)" "$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')" >"$dir/disk-id"
}

# The base image's identity, for verdicts kept on what ran in it (scripts/ci/cgroup-v2-check.sh).
cmd_disk_id() {
  local build=1
  while [ $# -gt 0 ]; do
    case $1 in
      --base) [[ ${2:-} =~ ^(docker|bare)$ ]] || usage_error "--base needs docker or bare"; BASE=$2; shift 2 ;;
      --no-build) build=''; shift ;;
      *) usage_error "unknown option for disk-id: $1" ;;
    esac
  done
  if [ -n "$build" ]; then ensure_base >&2
  elif compgen -G '/boot/vmlinuz-*' >/dev/null; then base_dir
  else echo unbuilt-no-kernel; return; fi
  if [ -f "$BASE_DIR/disk-id" ]; then cat "$BASE_DIR/disk-id"; else echo "unbuilt-$(basename "$BASE_DIR")"; fi
}

# ---------------------------------------------------------------------------------------------
# Images

# The guest's Docker data with the images already in it, as a disk of its own. Under emulation
# `docker load` in the guest took 130 to 620 s for the node image (hashing and unpacking 700 MiB
# at 1 to 3 MiB/s); here a second dockerd of the host's, with its own data root and network namespace,
# loads them from the host's engine in about 15 s, and the data root becomes an ext4 disk. The
# guest's Docker is Debian's docker.io as the host's, storage driver overlay2 on ext4 in both.
# Cached by the images' IDs and names and this dockerd's version; each run writes to an overlay.
DOCKERD_PID=''
DOCKERD_RUN=''
IMAGES_PART=''
IMAGES_DISK=''

stop_build_dockerd() {
  if [ -n "$DOCKERD_PID" ]; then
    kill "$DOCKERD_PID" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$DOCKERD_PID" 2>/dev/null || true
    wait "$DOCKERD_PID" 2>/dev/null || true
  fi
  [ -z "$DOCKERD_RUN" ] || rm -rf "$DOCKERD_RUN"
  DOCKERD_PID='' DOCKERD_RUN=''
}

# load_images DATA_ROOT NAME...: the host's images, loaded by a second dockerd into DATA_ROOT.
load_images() {
  local data=$1; shift
  local sock name want got
  # The socket and runtime state under /tmp: a unix socket's path has at most 107 bytes.
  DOCKERD_RUN=$(mktemp -d /tmp/kube-claims-dockerd.XXXXXX)
  sock=unix://$DOCKERD_RUN/docker.sock
  echo '{}' >"$DOCKERD_RUN/daemon.json"   # not the host engine's settings
  # In a network namespace of its own: a dockerd changes the network it starts in (with
  # --bridge=none it deletes docker0, which the host's engine needs; seen 2026-12-07).
  unshare --net dockerd --config-file "$DOCKERD_RUN/daemon.json" --data-root "$data" --exec-root "$DOCKERD_RUN/exec" \
    --pidfile "$DOCKERD_RUN/dockerd.pid" -H "$sock" --iptables=false --ip-masq=false \
    --storage-driver=overlay2 </dev/null >"$KC_LOG_DIR/vm-images-dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  local deadline=$((SECONDS + 60))
  until docker -H "$sock" info >/dev/null 2>&1; do
    kill -0 "$DOCKERD_PID" 2>/dev/null || kc_die "the dockerd that loads the VM's images ended at start (log: $KC_LOG_DIR/vm-images-dockerd.log)"
    [ $SECONDS -lt $deadline ] || kc_die "the dockerd that loads the VM's images did not answer within 60s (log: $KC_LOG_DIR/vm-images-dockerd.log)"
    sleep 0.2
  done
  docker save "$@" | docker -H "$sock" load >/dev/null || kc_die "could not load $* into the VM's Docker data"
  for name in "$@"; do
    want=$(docker image inspect --format '{{.Id}}' "$name")
    got=$(docker -H "$sock" image inspect --format '{{.Id}}' "$name" 2>/dev/null) || got=absent
    [ "$got" = "$want" ] || kc_die "image $name in the VM's Docker data is $got, not the host's $want"
  done
  stop_build_dockerd
  # Only the images stay: the rest is that dockerd's own state, which the guest's makes anew.
  (cd "$data" && rm -rf buildkit containerd containers network plugins runtimes swarm tmp trust volumes)
}

# Sets IMAGES_DISK to a disk holding the guest's Docker data with these images, building it when absent.
ensure_images_disk() {
  local name id ids=() hash dir
  for name in "$@"; do
    id=$(docker image inspect --format '{{.Id}}' "$name" 2>/dev/null) || kc_die "no image $name in the host's Docker engine"
    ids+=("$id $name")
  done
  hash=$( { printf '%s\n' "${ids[@]}" | sort; dockerd --version; echo "size $IMAGE_SIZE"; } | sha256sum | cut -c1-16)
  dir=$VM_DIR/docker-data/$hash
  IMAGES_DISK=$dir/docker.img
  if [ -f "$IMAGES_DISK" ]; then
    kc_say "vm: images disk present ($dir: $*)"
  else
    local start=$SECONDS tmp=$dir.part
    IMAGES_PART=$tmp   # removed by cleanup should this stop halfway
    rm -rf "$tmp"; mkdir -p "$tmp/data"
    kc_say "vm: building the images disk ($*): loaded by a second dockerd ($(dockerd --version | sed 's/,.*//')), then mkfs.ext4"
    load_images "$tmp/data" "$@"
    kc_stage "vm: mkfs.ext4 the images disk" mkfs.ext4 -q -F -L kc-docker -d "$tmp/data" "$tmp/docker.img" "$IMAGE_SIZE"
    rm -rf "$tmp/data"
    printf '%s\n' "${ids[@]}" >"$tmp/images"   # "ID NAME" per line (scripts/host/prune.sh reads it)
    rm -rf "$dir"; mv "$tmp" "$dir"
    IMAGES_PART=''
    kc_say "vm: images disk built in $((SECONDS - start))s: $dir ($(du -sh "$dir" | cut -f1) on disk)"
  fi
  # One disk is kept: the VM runs one node image at a time.
  local old
  for old in "$VM_DIR"/docker-data/*/; do
    old=${old%/}
    [ "$old" = "$dir" ] || { kc_say "vm: removing the outdated images disk $old"; rm -rf "$old"; }
  done
  # (Before the images came on a disk, each was saved as a tarball and loaded in the guest.)
  [ ! -d "$VM_DIR/images" ] || { kc_say "vm: removing the image tarballs of earlier runs ($VM_DIR/images)"; rm -rf "$VM_DIR/images"; }
}

# ---------------------------------------------------------------------------------------------
# A run

QEMU_PID=''
TAIL_PIDS=()
RUN_DIR=''
CONSOLE_COPY=''

cleanup() {
  local pid
  stop_build_dockerd
  [ -z "$IMAGES_PART" ] || rm -rf "$IMAGES_PART"
  if [ -n "$QEMU_PID" ] && kill -0 "$QEMU_PID" 2>/dev/null; then
    kill "$QEMU_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$QEMU_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$QEMU_PID" 2>/dev/null || true
    wait "$QEMU_PID" 2>/dev/null || true
  fi
  for pid in "${TAIL_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [ -n "$RUN_DIR" ]; then
    if [ -f "$RUN_DIR/console.log" ] && [ -n "$CONSOLE_COPY" ]; then cp "$RUN_DIR/console.log" "$CONSOLE_COPY"; fi
    rm -rf "$RUN_DIR"
  fi
  QEMU_PID='' TAIL_PIDS=() RUN_DIR=''
}

on_signal() {
  trap - INT TERM
  kc_say "vm: interrupted (SIG$1); stopping the VM"
  cleanup
  [ "$1" = INT ] && exit 130
  exit 143
}

# A command as one line, arguments quoted where they need it.
show_command() {
  local a out=()
  for a in "$@"; do if [[ $a =~ ^[A-Za-z0-9_./:=,+@%-]+$ ]]; then out+=("$a"); else out+=("${a@Q}"); fi; done
  echo "${out[*]}"
}

# Absolute, symlink-free path of an existing directory.
real_dir() { [ -d "$1" ] || usage_error "not a directory: $1"; (cd "$1" && pwd -P); }

cmd_run() {
  local images=() shares=() envs=() timeout=3600 memory=6144 cpus=2
  while [ $# -gt 0 ]; do
    case $1 in
      --base) [[ ${2:-} =~ ^(docker|bare)$ ]] || usage_error "--base needs docker or bare"; BASE=$2; shift 2 ;;
      --image) [ $# -ge 2 ] || usage_error "--image needs NAME:TAG"; images+=("$2"); shift 2 ;;
      --share) [ $# -ge 2 ] || usage_error "--share needs a directory"; shares+=("$(real_dir "$2")"); shift 2 ;;
      --env) [[ ${2:-} =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || usage_error "--env needs NAME=VALUE"; envs+=("$2"); shift 2 ;;
      --timeout) [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || usage_error "--timeout needs a number of seconds"; timeout=$2; shift 2 ;;
      --memory) [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || usage_error "--memory needs MiB"; memory=$2; shift 2 ;;
      --cpus) [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || usage_error "--cpus needs a number"; cpus=$2; shift 2 ;;
      --) shift; break ;;
      -h|--help) usage; exit 0 ;;
      *) usage_error "unknown option for run: $1" ;;
    esac
  done
  [ $# -gt 0 ] || usage_error "run needs -- COMMAND [ARGS...]"
  [ "$BASE" = docker ] || [ ${#images[@]} -eq 0 ] || usage_error "--image needs the docker base (the bare one has no Docker to load it into)"

  # The shares, parents before children, each once; the working directory must be in one.
  shares+=("$(real_dir "$KC_ROOT")" "$(real_dir "$KC_CACHE")")
  mapfile -t shares < <(printf '%s\n' "${shares[@]}" | awk '{ print length($0) "\t" $0 }' | sort -n -k1,1 -s | cut -f2- | awk '!seen[$0]++')
  local cwd s inside=
  cwd=$(pwd -P)
  for s in "${shares[@]}"; do [[ $cwd == "$s" || $cwd == "$s"/* ]] && inside=1; done
  [ -n "$inside" ] || usage_error "the working directory $cwd is in no share (${shares[*]}); add --share DIR"

  ensure_base
  local base=$BASE_DIR

  trap 'on_signal INT' INT
  trap 'on_signal TERM' TERM
  trap cleanup EXIT
  RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/kube-claims-vm.XXXXXX")
  local ctl=$RUN_DIR/ctl
  mkdir -p "$ctl"

  IMAGES_DISK=''
  if [ ${#images[@]} -gt 0 ]; then
    kc_need_docker
    ensure_images_disk "${images[@]}"
  fi
  printf '%s\n' "${images[@]}" | sed '/^$/d' >"$ctl/images"

  # The command: a script that sets the environment, enters the directory and runs it.
  {
    printf 'export HOME=%q\n' "$HOME"
    # The cache is shared at the same path: the guest's scripts and tests use it, wherever it is
    # (a KUBE_CLAIMS_CACHE of the host's own too; --env may name another).
    printf 'export KUBE_CLAIMS_CACHE=%q\n' "$KC_CACHE"
    if [ -n "${CI+set}" ]; then printf 'export CI=%q\n' "$CI"; fi
    for s in "${envs[@]}"; do printf 'export %s=%q\n' "${s%%=*}" "${s#*=}"; done
    printf 'cd %q || exit 125\nexec' "$cwd"
    printf ' %q' "$@"
    printf '\n'
  } >"$ctl/run.sh"
  cp "$GUEST_SCRIPT" "$ctl/guest.sh"
  echo "$BASE" >"$ctl/base"
  : >"$ctl/stdout"; : >"$ctl/stderr"; : >"$ctl/events"

  local virtfs=(-virtfs "local,path=$ctl,mount_tag=kcctl,security_model=none") i=0
  : >"$ctl/shares"
  for s in "${shares[@]}"; do
    virtfs+=(-virtfs "local,path=$s,mount_tag=kc$i,security_model=none")
    printf 'kc%s\t%s\n' "$i" "$s" >>"$ctl/shares"
    i=$((i + 1))
  done

  kc_stage "vm: overlay disk" qemu-img create -q -f qcow2 -b "$base/base.img" -F raw "$RUN_DIR/overlay.qcow2"
  local drives=(-drive "file=$RUN_DIR/overlay.qcow2,format=qcow2,if=virtio,cache=unsafe,discard=unmap")
  if [ -n "$IMAGES_DISK" ]; then
    qemu-img create -q -f qcow2 -b "$IMAGES_DISK" -F raw "$RUN_DIR/docker.qcow2"
    drives+=(-drive "file=$RUN_DIR/docker.qcow2,format=qcow2,if=virtio,cache=unsafe,discard=unmap")
  fi
  # The guest's console goes to the run's folder, and is copied to $KC_LOG_DIR at the end.
  local console=$RUN_DIR/console.log
  CONSOLE_COPY=$KC_LOG_DIR/vm-console.log
  kc_say "vm: starting qemu (tcg, $cpus cpus, $memory MiB; shares: ${shares[*]}; console: $CONSOLE_COPY)"
  local t0=$SECONDS
  qemu-system-x86_64 -name kube-claims-vm \
    -accel tcg,thread=multi,tb-size=512 -cpu max -smp "$cpus" -m "$memory" \
    -kernel "$base/vmlinuz" -initrd "$base/initrd.img" \
    -append "root=/dev/vda rw console=ttyS0 systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all apparmor=0 panic=-1 quiet" \
    "${drives[@]}" \
    -nic user,model=virtio-net-pci \
    "${virtfs[@]}" \
    -display none -monitor none -serial "file:$console" -no-reboot </dev/null >"$RUN_DIR/qemu.log" 2>&1 &
  QEMU_PID=$!
  # Should this script be killed outright (SIGKILL, no trap), a detached reaper stops qemu and
  # removes the run's folder; otherwise it finds nothing to do and ends with the script. It is
  # started from a subshell that exits at once, so that it is not this script's child: bash may
  # wait for any child (seen: a run hung after the VM stopped, waiting on the reaper, which
  # waited on the script).
  (setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 1; done
    [ "$(cat "/proc/$2/comm" 2>/dev/null)" = qemu-system-x86 ] && kill -KILL "$2"; sleep 0.5; rm -rf "$3"' \
    kc-vm-reaper "$$" "$QEMU_PID" "$RUN_DIR" </dev/null >/dev/null 2>&1 &)

  # The command's output, live; each tail stops once qemu has exited and all is read.
  tail -s 0.3 -n +1 -f --pid="$QEMU_PID" "$ctl/stdout" &
  TAIL_PIDS+=($!)
  tail -s 0.3 -n +1 -f --pid="$QEMU_PID" "$ctl/stderr" >&2 &
  TAIL_PIDS+=($!)

  # Follow the guest's progress (events) until qemu exits or the time is up.
  local seen=0 line ev rest rc='' error='' timed_out='' t_cmd=''
  while :; do
    local alive=; kill -0 "$QEMU_PID" 2>/dev/null && alive=1
    # The new lines, through a file rather than a process substitution (no child to wait for).
    tail -n +$((seen + 1)) "$ctl/events" >"$RUN_DIR/events.new"
    while IFS= read -r line; do
      seen=$((seen + 1))
      ev=${line%% *}; rest=${line#* }
      case $ev in
        ready) kc_say "vm: guest ready ($rest) $((SECONDS - t0))s after qemu start" ;;
        images) kc_say "vm: images in the guest's Docker (from the images disk): $rest" ;;
        start) t_cmd=$SECONDS; kc_say "vm: running: $(show_command "$@") (in $cwd)" ;;
        rc) rc=$rest; kc_say "vm: command exited $rc after $((SECONDS - t_cmd))s" ;;
        error) error=$rest; kc_say "vm: guest error: $rest" ;;
        *) kc_say "vm: guest: $line" ;;
      esac
    done <"$RUN_DIR/events.new"
    [ -n "$alive" ] || break
    if [ $((SECONDS - t0)) -ge "$timeout" ]; then timed_out=1; break; fi
    sleep 0.3
  done

  if [ -n "$timed_out" ]; then
    kc_say "vm: TIMEOUT: the VM ran for ${timeout}s (--timeout); stopping it"
    cleanup
    exit 124
  fi
  wait "$QEMU_PID" 2>/dev/null || true
  QEMU_PID=
  for i in "${TAIL_PIDS[@]}"; do wait "$i" 2>/dev/null || true; done
  TAIL_PIDS=()
  kc_say "vm: VM stopped after $((SECONDS - t0))s in all"
  if [ -z "$rc" ]; then
    [ -n "$error" ] || kc_say "vm: the guest stopped without reporting an exit code"
    kc_say "vm: qemu's output: $(tr '\n' ' ' <"$RUN_DIR/qemu.log")"
    kc_say "vm: last lines of the console ($CONSOLE_COPY):"
    tail -n 20 "$console" | sed 's/^/    /' >&2
    exit 125
  fi
  exit "$rc"
}

main() {
  case ${1:-} in
    run) shift; cmd_run "$@" ;;
    disk-id) shift; cmd_disk_id "$@" ;;
    tools) shift; [ $# -eq 0 ] || usage_error "tools takes no arguments"; ensure_host_tools ;;
    build) shift
      if [ "${1:-}" = --base ]; then [[ ${2:-} =~ ^(docker|bare)$ ]] || usage_error "--base needs docker or bare"; BASE=$2; shift 2; fi
      [ $# -eq 0 ] || usage_error "build takes only --base"; ensure_base ;;
    -h|--help|help) usage ;;
    "") usage_error "needs a subcommand: run, build, disk-id or tools" ;;
    *) usage_error "unknown subcommand or option: $1" ;;
  esac
}

main "$@"
