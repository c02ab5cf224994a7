#!/usr/bin/env bash
# Rehearses a fresh machine. What was installed by hand, or left by an earlier run (Docker, the
# runtime wrapper, python3, caches), is missing on a new machine and on every user's first run;
# the project's own scripts must bring it back. Faults of this kind cannot show on a machine
# where CI has passed before, so this check makes the machine fresh on purpose.
#   usage: scripts/ci/fresh-machine-check.sh [--engine] [--ci]     (default: --engine)
#   --engine  in a VM with nothing installed (scripts/vm/vm.sh --base bare: Debian without Docker or
#             python3, no service started by a package install) and the capability bounding set
#             of our hosts (capsh drops CAP_SYS_RESOURCE), runs scripts/host/docker-engine.sh twice:
#             the first installs docker.io, starts dockerd, finds privileged containers failing,
#             installs the runtime wrapper and restarts the dockerd it started; the second finds it
#             all in place. Then a privileged container runs and `docker exec` enters it.
#             About 5 to 10 minutes under emulation (the VM's disk is cached).
#   --ci      a whole `.ci/run` on a clean clone of HEAD with an empty KUBE_CLAIMS_CACHE,
#             empty Go build and module caches (GOCACHE, GOMODCACHE) and none of kube-claims'
#             images in the engine: every binary, image and VM disk rebuilt, every Go module
#             fetched from the proxy. Docker itself stays;
#             --engine covers its installation.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

engine() {
  local start=$SECONDS
  kc_say "fresh machine: Docker's installation and the runtime wrapper, from nothing, in a VM"
  # The guest's own cache (on its disk): the engine script keeps dockerd's pid file there, and
  # the host's cache is shared into the VM at the same path.
  local guest_cache=/root/kube-claims-cache
  cd "$KC_ROOT"   # the guest runs the command here (the checkout is shared at the same path)
  # shellcheck disable=SC2016 # expanded in the guest
  bash "$KC_ROOT/scripts/vm/vm.sh" run --base bare --timeout 2400 --env KUBE_CLAIMS_CACHE="$guest_cache" -- \
    capsh --drop=cap_sys_resource -- -c '
      set -eu
      say() { printf "[kube-claims] fresh machine: %s\n" "$*" >&2; }
      say "capability bounding set $(grep CapBnd /proc/self/status | cut -f2); docker: $(command -v docker || echo none); python3: $(command -v python3 || echo none)"
      say "first run of scripts/host/docker-engine.sh"
      bash scripts/host/docker-engine.sh
      say "second run (everything in place)"
      bash scripts/host/docker-engine.sh
      id=$(docker run -d --privileged kube-claims/probe:busybox /bin/busybox sleep 600)
      docker exec "$id" /bin/true
      docker rm -f "$id" >/dev/null
      say "a privileged container ran, and docker exec entered it"
    '
  kc_say "fresh machine: the engine passed in $((SECONDS - start))s"
}

ci() {
  local start=$SECONDS dir
  dir=$(mktemp -d "${TMPDIR:-/tmp}/kube-claims-fresh-XXXXXX")
  # shellcheck disable=SC2064 # the folder now (Go's module cache is read-only: made writable to remove)
  trap "chmod -R u+w '$dir' 2>/dev/null; rm -rf '$dir'" EXIT
  git -C "$KC_ROOT" clone -q --no-local "$KC_ROOT" "$dir/checkout"
  # A new machine's engine holds none of the images either (the scripts would find them current
  # and skip their builds); the run builds them again, the same as before.
  kc_need_docker
  local images; images=$(docker images --format '{{.Repository}}:{{.Tag}}' --filter 'reference=kube-claims/*')
  if [ -n "$images" ]; then
    kc_say "fresh machine: removing the engine's kube-claims images: $(echo "$images" | tr '\n' ' ')"
    echo "$images" | xargs docker rmi -f >/dev/null
  fi
  kc_say "fresh machine: .ci/run on a clean clone of $(git -C "$dir/checkout" rev-parse --short HEAD) with an empty cache ($dir/cache) and empty Go caches"
  (cd "$dir/checkout" && KUBE_CLAIMS_CACHE=$dir/cache GOCACHE=$dir/go-build GOMODCACHE=$dir/go-mod CI=true bash .ci/run)
  kc_say "fresh machine: .ci/run passed in $((SECONDS - start))s from an empty cache"
}

steps=()
for arg in "$@"; do
  case $arg in
    --engine) steps+=(engine) ;;
    --ci) steps+=(ci) ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) printf '[kube-claims] fresh-machine-check.sh: unknown option %s (usage: [--engine] [--ci])\n' "$arg" >&2; exit 2 ;;
  esac
done
[ ${#steps[@]} -gt 0 ] || steps=(engine)
for s in "${steps[@]}"; do "$s"; done
