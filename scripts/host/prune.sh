#!/usr/bin/env bash
# Free the disk that builds no longer need:
# - versions no longer in images/versions.json: their node images, cached binaries and build
#   folders; kubeadm builds other than the newest version's; Kubernetes binaries built from
#   other multi-call sources than today's (kubernetes-vVERSION-SOURCEHASH; before that, by
#   version alone: kubernetes-vVERSION);
# - for every version whose node binaries are cached: the unpacked Kubernetes module sources
#   (k8s.io/kubernetes@v1.X.Y and its staging modules @v0.X.Y, about 500 MB per version); Go's
#   download cache keeps their zips (a rebuild unpacks them again without the network, which
#   matters: the proxy has since refused some versions it once served);
# - copies kept per image id (the cluster's kubectl, the VM's image tarballs) of images a
#   rebuild replaced;
# - with --go-cache, Go's shared build cache (builds of the node binaries no longer put
#   anything there; older ones did, about 5 GB per version).
#   usage: scripts/host/prune.sh [--go-cache]
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

# kube_dir VERSION: where today's multi-call sources build that version's binary.
kube_dir() { bash "$KC_ROOT/scripts/build/binaries.sh" --where kube "$1"; }

main() {
  local supported; supported=$(node "$KC_ROOT/helpers/facts.mjs" versions)
  kc_say "supported versions: $supported"
  local before; before=$(du -sm "$KC_CACHE" | cut -f1)
  local dir version
  for dir in "$KC_CACHE"/bin/kubernetes-v* "$KC_CACHE"/bin/pause-v* "$KC_CACHE"/src/kubernetes-v*; do
    [ -e "$dir" ] || continue
    version=${dir##*-v}; version=${version%.gocache}; version=${version%%-*}
    if [[ " $supported " != *" $version "* ]]; then kc_say "removing $dir"; rm -rf "$dir"
    elif [[ $dir == "$KC_CACHE"/bin/kubernetes-v* ]] && [ "$dir" != "$(kube_dir "$version")" ]; then
      kc_say "removing $dir (built from other multi-call sources)"; rm -rf "$dir"
    fi
  done
  # kubeadm: only the newest version's is used (by every node image).
  for dir in "$KC_CACHE"/bin/kubeadm-v* "$KC_CACHE"/src/kubeadm-v*; do
    [ -e "$dir" ] || continue
    version=${dir##*-v}; version=${version%.gocache}
    [ "$version" = "$(kc_default_version)" ] || { kc_say "removing $dir"; rm -rf "$dir"; }
  done
  if docker info >/dev/null 2>&1; then
    local image
    for image in $(docker images kube-claims/node --format '{{.Repository}}:{{.Tag}}'); do
      version=${image##*:v}
      if [[ " $supported " != *" $version "* ]]; then kc_say "removing image $image"; docker rmi "$image" >/dev/null; fi
    done
    # Copies made per image id (the cluster's kubectl, the VM's images disk): those of
    # images that are gone, replaced by a rebuild.
    local ids; ids=$(docker images -q --no-trunc | sed 's/^sha256://' | sort -u)
    for dir in "$KC_CACHE"/kubectl/*; do
      [ -e "$dir" ] || continue
      local id; id=$(basename "$dir")
      grep -q "^$id" <<<"$ids" || { kc_say "removing $dir (its image is gone)"; rm -rf "$dir"; }
    done
    for dir in "$KC_CACHE"/vm/docker-data/*/images; do
      [ -e "$dir" ] || continue
      local gone; gone=$(cut -d' ' -f1 "$dir" | sed 's/^sha256://' | grep -vxF -f <(printf '%s\n' "$ids") || true)
      [ -z "$gone" ] || { kc_say "removing the VM's images disk $(dirname "$dir") (an image in it is gone)"; rm -rf "$(dirname "$dir")"; }
    done
  fi
  if command -v go >/dev/null; then
    local mod; mod=$(go env GOMODCACHE)
    local freed=0 size
    for version in $supported; do
      [ -f "$(kube_dir "$version")/.complete" ] || continue
      for dir in "$mod/k8s.io/kubernetes@v$version" "$mod"/k8s.io/*@"v0.${version#1.}"; do
        [ -d "$dir" ] || continue
        size=$(du -sm "$dir" | cut -f1); freed=$((freed + size))
        chmod -R u+w "$dir" && rm -rf "$dir"
      done
    done
    [ "$freed" = 0 ] || kc_say "removed ${freed} MB of unpacked Kubernetes module sources (their zips stay in Go's download cache)"
    if [ "${1:-}" = --go-cache ]; then
      kc_say "emptying Go's build cache ($(du -sh "$(go env GOCACHE)" | cut -f1))"
      go clean -cache
    fi
  fi
  kc_say "cache: ${before} MB before, $(du -sm "$KC_CACHE" | cut -f1) MB after"
}

main "$@"
