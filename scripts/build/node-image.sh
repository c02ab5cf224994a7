#!/usr/bin/env bash
# Build the kube-claims node image for one Kubernetes version with no container registry:
# binaries from the Go module proxy (scripts/build/binaries.sh), a Debian userspace from
# debootstrap, the pause image from Kubernetes' pause.c, the images of the add-ons a server
# deploys (CoreDNS, local-path: scripts/build/addons.sh), all cached by version under
# $KC_CACHE. With the image present it finishes in seconds.
#   usage: scripts/build/node-image.sh [KUBERNETES_VERSION]   (default: newest in images/versions.json)
# Prints the image name on its last line.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
kc_need_docker

VERSION=$(kc_version_field "${1:-$(kc_default_version)}" kubernetes)
field() { kc_version_field "$VERSION" "$1"; }
IMAGE=kube-claims/node:v$VERSION
PAUSE_IMAGE=kube-claims/pause:$(field pause)
SUITE=bookworm
PACKAGES=iptables,iproute2,openssl,ca-certificates,kmod,conntrack,ipset,procps,util-linux,mount
# The Debian rootfs and its image are cached by what they are made of (suite and packages).
ROOTFS_KEY=$(printf '%s\n' "$SUITE" "$PACKAGES" | sha256sum | cut -c1-12)
BASE_IMAGE=kube-claims/node-base:$SUITE-$ROOTFS_KEY
ROOTFS_TAR=$KC_CACHE/rootfs/debian-$SUITE-$ROOTFS_KEY.tar

# The image is rebuilt when anything it is assembled from changes: this script, images/node/,
# images/addons/ and scripts/build/addons.sh, the version's row of images/versions.json (the
# binaries are cached by version) and the kubeadm all versions share (the newest version's).
INPUTS=$( (cat "$0"; find "$KC_ROOT/images/node" -type f | sort | xargs cat; kc_version_field "$VERSION" k3s; \
  find "$KC_ROOT/images/addons" "$KC_ROOT/scripts/build/addons.sh" -type f | sort | xargs cat; \
  for f in kine containerd runc cniPlugins flannel criTools pause coredns localPathProvisioner busybox; do field "$f"; kc_source_version "$VERSION" "$f"; done; \
  echo "kubeadm $(kc_default_version)") | sha256sum | cut -c1-12)
if [ "$(docker image inspect -f '{{index .Config.Labels "kube-claims.inputs"}}' "$IMAGE" 2>/dev/null)" = "$INPUTS" ] && [ -z "${KC_REBUILD:-}" ]; then
  kc_say "image $IMAGE present and current (inputs $INPUTS; KC_REBUILD=1 rebuilds it)"
  echo "$IMAGE"; exit 0
fi

bash "$KC_ROOT/scripts/build/binaries.sh" "$VERSION"
bash "$KC_ROOT/scripts/build/addons.sh" "$VERSION"
BIN=$KC_CACHE/bin

build_rootfs() {
  command -v debootstrap >/dev/null || kc_apt_install debootstrap
  local dir; dir=$(mktemp -d)
  trap 'rm -rf "$dir"' RETURN
  debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$dir/root" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
  rm -rf "$dir/root/var/cache/apt/archives/"*.deb "$dir/root/var/lib/apt/lists/"*
  mkdir -p "$(dirname "$ROOTFS_TAR")"
  tar -C "$dir/root" --numeric-owner -cf "$ROOTFS_TAR.part" .
  mv "$ROOTFS_TAR.part" "$ROOTFS_TAR"
  # Rootfs tarballs of other package lists are superseded.
  find "$(dirname "$ROOTFS_TAR")" -name 'debian-*.tar' ! -path "$ROOTFS_TAR" -delete
}

import_rootfs() {
  docker import "$ROOTFS_TAR" "$BASE_IMAGE"
  # Older base image tags (other package lists): their layers stay while node images use them.
  docker images kube-claims/node-base --format '{{.Repository}}:{{.Tag}}' | grep -vx "$BASE_IMAGE" | xargs -r docker rmi >/dev/null 2>&1 || true
}

build_pause_image() {
  local ctx; ctx=$(mktemp -d)
  trap 'rm -rf "$ctx"' RETURN
  cp "$BIN/pause-v$VERSION/pause" "$ctx/pause"
  printf 'FROM scratch\nCOPY pause /pause\nENTRYPOINT ["/pause"]\n' >"$ctx/Dockerfile"
  docker build -q -t "$PAUSE_IMAGE" "$ctx"
}

# addons CTX: what a server deploys as k3s does (images/node/parts/addons.sh, deploy_addons), in
# /etc/kube-claims/addons: the add-on images' air-gap tarballs (images/, imported at start
# apart from the pause image's, which the kubelet waits for), and the manifests of
# images/addons/manifests with the images' names filled in (%{COREDNS_IMAGE}% and the like; the
# cluster's addresses are filled in at start).
addons() {
  local ctx=$1 name image tar f sed=()
  while read -r name _ image _; do
    sed+=(-e "s|%{$(echo "$name" | tr 'a-z-' 'A-Z_')_IMAGE}%|$image|g")
  done < <(node "$KC_ROOT/helpers/facts.mjs" addon-images "$VERSION")
  mkdir -p "$ctx/etc/addons/images"
  while read -r tar; do cp "$tar" "$ctx/etc/addons/images/"; done < <(bash "$KC_ROOT/scripts/build/addons.sh" --tarballs "$VERSION")
  for f in "$KC_ROOT"/images/addons/manifests/*.yaml; do sed "${sed[@]}" "$f" >"$ctx/etc/addons/${f##*/}"; done
  if grep -h '_IMAGE}%' "$ctx"/etc/addons/*.yaml; then echo "an add-on image above is not named in helpers/facts.mjs" >&2; return 1; fi
}

assemble() {
  local ctx; ctx=$(mktemp -d)
  trap 'rm -rf "$ctx"' RETURN
  mkdir -p "$ctx/bin" "$ctx/common" "$ctx/cni" "$ctx/images" "$ctx/etc" "$ctx/dirs/var/lib/rancher/k3s/agent/images"
  # The components (kine, containerd, runc, flannel, crictl, kubeadm) go in a layer of their own,
  # before the Kubernetes binary: node images of versions whose k3s releases bundle the same
  # components share it on disk instead of holding a copy each.
  where() { bash "$KC_ROOT/scripts/build/binaries.sh" --where "$1" "$VERSION"; }
  cp -p "$(where kine)/kine" "$(where runc)/runc" "$(where crictl)/crictl" \
     "$(where containerd)/"{containerd,containerd-shim-runc-v2} "$(where flannel)/flanneld" \
     "$(where kubeadm)/kubeadm" "$ctx/common/"
  cp -p "$(where registries)/kube-claims-registries" "$ctx/common/" 2>/dev/null ||
    kc_die "the registries tool is not built; run scripts/build/binaries.sh $VERSION"
  # ctr behind a wrapper with k3s's defaults (images/node/ctr).
  mkdir -p "$ctx/libexec"
  cp -p "$(where containerd)/ctr" "$ctx/libexec/ctr"
  install -m 0755 "$KC_ROOT/images/node/ctr" "$ctx/bin/ctr"
  cp -p "$(where kube)/kube" "$ctx/bin/"
  for name in kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl; do
    ln -s kube "$ctx/bin/$name"
  done
  cp -p "$(where cni)/"* "$ctx/cni/"
  docker save -o "$ctx/images/pause.tar" "$PAUSE_IMAGE"
  echo "docker.io/$PAUSE_IMAGE" >"$ctx/etc/pause-image"
  addons "$ctx"
  cp -r "$KC_ROOT/images/node/Dockerfile" "$KC_ROOT/images/node/k3s" "$KC_ROOT/images/node/parts" "$ctx/"
  docker build --build-arg "BASE=$BASE_IMAGE" -t "$IMAGE" \
    --label "org.opencontainers.image.version=v$VERSION" --label "kube-claims.kubernetes=$VERSION" \
    --label "kube-claims.inputs=$INPUTS" "$ctx"
}

if [ -f "$ROOTFS_TAR" ]; then kc_say "stage 'debian rootfs': cached ($ROOTFS_TAR)"; else kc_stage "debian rootfs ($SUITE)" build_rootfs; fi
if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then kc_say "stage 'import rootfs': cached ($BASE_IMAGE)"; else kc_stage "import rootfs" import_rootfs; fi
kc_stage "pause image $PAUSE_IMAGE" build_pause_image
kc_stage "assemble $IMAGE" assemble
kc_say "built $IMAGE ($(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}'))"
echo "$IMAGE"
