#!/usr/bin/env bash
# Free the disk that versions no longer in images/versions.json use: their node images, and
# their cached binaries. With --go-cache, also empty Go's shared build cache (builds of the
# node binaries no longer put anything there; older ones did, about 5 GB per version).
#   usage: scripts/prune.sh [--go-cache]
set -euo pipefail
source "$(dirname "$0")/lib.sh"

main() {
  local supported; supported=$(node -e 'console.log(require(process.argv[1]).versions.map((v) => v.kubernetes).join(" "))' "$KC_ROOT/images/versions.json")
  kc_say "supported versions: $supported"
  local before; before=$(du -sm "$KC_CACHE" | cut -f1)
  local dir version
  for dir in "$KC_CACHE"/bin/kubernetes-v* "$KC_CACHE"/bin/pause-v* "$KC_CACHE"/src/kubernetes-v*; do
    [ -e "$dir" ] || continue
    version=${dir##*-v}
    if [[ " $supported " != *" $version "* ]]; then kc_say "removing $dir"; rm -rf "$dir"; fi
  done
  if docker info >/dev/null 2>&1; then
    local image
    for image in $(docker images kube-claims/node --format '{{.Repository}}:{{.Tag}}'); do
      version=${image##*:v}
      if [[ " $supported " != *" $version "* ]]; then kc_say "removing image $image"; docker rmi "$image" >/dev/null; fi
    done
  fi
  if [ "${1:-}" = --go-cache ] && command -v go >/dev/null; then
    kc_say "emptying Go's build cache ($(du -sh "$(go env GOCACHE)" | cut -f1))"
    go clean -cache
  fi
  kc_say "cache: ${before} MB before, $(du -sm "$KC_CACHE" | cut -f1) MB after"
}

main "$@"
