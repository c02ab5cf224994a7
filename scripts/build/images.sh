#!/usr/bin/env bash
# Everything an offline run needs, with no container registry: a Docker engine that runs
# privileged containers, the fixture images, and the node image for each Kubernetes version.
# Reuses whatever is cached; docs/air-gapped.md describes the air-gapped path.
#   usage: scripts/build/images.sh [VERSION[,VERSION...]]   (default: KUBE_CLAIMS_K8S_VERSION, else the newest)
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

versions=${1:-${KUBE_CLAIMS_K8S_VERSION:-$(kc_default_version)}}
# One build at a time per cache: a second run (another terminal, or auto mode) waits for the
# first and then reuses what it built, instead of building the same thing beside it.
exec 9>"$KC_CACHE/build.lock"
# Who holds the lock: the process that took it (/proc/locks), or, when that one has ended, the
# processes that inherited its descriptor and keep the lock alive.
lock_holders() {
  local inode pid f
  inode=$(stat -c %i "$KC_CACHE/build.lock")
  for pid in $(awk -v i=":$inode" '$2 == "FLOCK" && index($6, i) == length($6) - length(i) + 1 {print $5}' /proc/locks); do
    if [ -r "/proc/$pid/cmdline" ]; then
      printf ' pid %s (%s)' "$pid" "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-100)"
    else
      printf ' pid %s, which has ended; its descriptor is held by:' "$pid"
      for f in /proc/[0-9]*/fd/*; do
        [ "$(readlink "$f" 2>/dev/null)" = "$KC_CACHE/build.lock" ] && f=${f#/proc/} && echo "${f%%/*}"
      done | sort -un | grep -vx "$$" | while read -r pid; do
        printf ' %s (%s)' "$pid" "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-60)"
      done
    fi
  done
}
if ! flock -n 9; then
  kc_say "another build is running (it holds $KC_CACHE/build.lock):$(exec 9>&-; lock_holders); waiting for it to finish, at most ${KC_BUILD_LOCK_WAIT:-3600}s"
  flock -w "${KC_BUILD_LOCK_WAIT:-3600}" 9 ||
    kc_die "the build lock $KC_CACHE/build.lock was still held after ${KC_BUILD_LOCK_WAIT:-3600}s, by:$(exec 9>&-; lock_holders)"
fi
bash "$KC_ROOT/scripts/host/docker-engine.sh"
bash "$KC_ROOT/scripts/build/fixtures.sh"
for v in ${versions//,/ }; do
  bash "$KC_ROOT/scripts/build/node-image.sh" "$v" >/dev/null
done
kc_say "images ready for Kubernetes ${versions//,/, }"
