#!/usr/bin/env bash
# Build the images of the add-ons a k3s server deploys, with no container registry: CoreDNS and
# local-path-provisioner from their Go modules (through the Go module proxy, at the versions in
# images/versions.json), and local-path's helper from Debian's static busybox. Each is FROM
# scratch (images/addons/<name>/Dockerfile), named kube-claims/<name>:<tag> in the Docker
# engine, and saved as an air-gap tarball under k3s's own name (docker.io/rancher/...), which
# the node image carries and imports at start. Binaries are cached by version under
# $KC_CACHE/bin, images by their inputs; KC_REBUILD=1 rebuilds the images anyway.
#   usage: scripts/build/addons.sh [KUBERNETES_VERSION]              (default: newest in images/versions.json)
#          scripts/build/addons.sh --tarballs [KUBERNETES_VERSION]   prints the tarballs' paths, built or not
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

TARBALLS=false
if [ "${1:-}" = --tarballs ]; then TARBALLS=true; shift; fi
VERSION=$(kc_version_field "${1:-$(kc_default_version)}" kubernetes)
OUT=$KC_CACHE/images/addons
BIN=$KC_CACHE/bin
SELF=$KC_ROOT/scripts/build/addons.sh
# NAME LOCAL IMAGE [MODULE@VERSION], a line per add-on image (helpers/facts.mjs).
ADDONS=$(node "$KC_ROOT/helpers/facts.mjs" addon-images "$VERSION")

# tarball LOCAL: where the air-gap tarball of kube-claims/NAME:TAG goes.
tarball() { local name=${1#kube-claims/}; echo "$OUT/${name%%:*}-${name##*:}.tar"; }
if [ "$TARBALLS" = true ]; then
  while read -r _ local _ _; do tarball "$local"; done <<<"$ADDONS"
  exit 0
fi

kc_need_docker
command -v go >/dev/null || kc_die "Go is needed to build the add-on images (go.dev/dl)"
command -v skopeo >/dev/null || kc_apt_install skopeo
export GOTOOLCHAIN=local GOFLAGS="-buildvcs=false -trimpath" GOPROXY=${GOPROXY:-https://proxy.golang.org}
BUSYBOX=$(kc_static_busybox)
mkdir -p "$OUT" "$BIN"

sha() { sha256sum "$@" | cut -d' ' -f1; }

# build_binary MODULE@VERSION COMMAND LDFLAGS: `go install` of a released module's main
# package, static, cached in $BIN/COMMAND-VERSION; prints the binary's path. A module whose hash
# versions.json pins is checked against it first (kc_module_dir), then installed without the
# checksum database for that module only.
build_binary() {
  local mv=$1 cmd=$2 ld=$3 dir=$BIN/$2-${1##*@} nosumdb=''
  if [ ! -f "$dir/.complete" ]; then
    mkdir -p "$dir"
    if [ -n "$(node "$KC_ROOT/helpers/facts.mjs" pinned-sum "$mv")" ]; then kc_module_dir "$mv" >/dev/null; nosumdb=${mv%@*}; fi
    kc_stage "build $cmd ${mv##*@}" env GOBIN="$dir" GONOSUMDB="$nosumdb" CGO_ENABLED=0 go install -ldflags "-s -w $ld" "$mv"
    # go install names the binary after the module's last path element.
    [ -x "$dir/$cmd" ] || kc_die "building $mv gave no $dir/$cmd"
    touch "$dir/.complete"
  fi
  echo "$dir/$cmd"
}

# busybox_rootfs DIR: static busybox with each applet at the path `busybox --list-full` names,
# root and nobody, /tmp.
busybox_rootfs() {
  local root=$1 applet
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,root,tmp}
  install -m 0755 "$BUSYBOX" "$root/bin/busybox"
  "$BUSYBOX" --list-full | while read -r applet; do
    case $applet in bin/busybox | linuxrc) continue ;; esac
    mkdir -p "$root/$(dirname "$applet")"
    ln -sf /bin/busybox "$root/$applet"
  done
  chmod 1777 "$root/tmp"
  printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' >"$root/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' >"$root/etc/group"
}

# rootfs_NAME DIR BINARY: what each image holds.
rootfs_coredns() {
  install -D -m 0755 "$2" "$1/coredns"
  # Debian's CA bundle, as in upstream's distroless base: forward to tls:// upstreams needs it.
  if [ -f /etc/ssl/certs/ca-certificates.crt ]; then install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$1/etc/ssl/certs/ca-certificates.crt"; fi
  mkdir -p "$1/tmp" && chmod 1777 "$1/tmp"
}
rootfs_local-path-provisioner() {
  busybox_rootfs "$1"
  install -D -m 0755 "$2" "$1/usr/bin/local-path-provisioner"
}
rootfs_busybox() { busybox_rootfs "$1"; }

# check_NAME IMAGE VERSION: a quick run of what the image is made of.
# (Output read whole: `| grep -q` may exit before docker has written all, which fails the
# pipeline with "write /dev/stdout: broken pipe".)
check_coredns() { [[ $(docker run --rm "$1" -version) == *"CoreDNS-${2#v}"* ]]; }
check_local-path-provisioner() { [[ $(docker run --rm "$1" local-path-provisioner --version) == *"$2"* ]]; }
check_busybox() { docker run --rm "$1" sh -c 'mkdir -p /tmp/a/b && chmod 700 /tmp/a && rm -rf /tmp/a'; }

# build_image NAME LOCAL IMAGE BINARY VERSION KEY: the image from its rootfs and Dockerfile.
build_image() {
  local name=$1 local_image=$2 image=$3 binary=$4 version=$5 key=$6 ctx
  ctx=$(mktemp -d)
  trap 'rm -rf "$ctx"' RETURN
  "rootfs_$name" "$ctx/rootfs" "$binary"
  tar -C "$ctx/rootfs" --sort=name --numeric-owner --owner=0 --group=0 --mtime=@0 -cf "$ctx/rootfs.tar" .
  rm -rf "$ctx/rootfs"
  cp "$KC_ROOT/images/addons/$name/Dockerfile" "$ctx/"
  local old; old=$(docker image inspect -f '{{.Id}}' "$local_image" 2>/dev/null || true)
  docker build -q --label "kube-claims.inputs=$key" --label "kube-claims.stands-for=$image" \
    --label "org.opencontainers.image.version=$version" -t "$local_image" "$ctx"
  "check_$name" "$local_image" "$version"
  local id; id=$(docker image inspect -f '{{.Id}}' "$local_image")
  if [ -n "$old" ] && [ "$old" != "$id" ]; then docker rmi "$old" >/dev/null 2>&1 || true; fi
}

# save_image LOCAL IMAGE KEY: the air-gap tarball, holding the image under k3s's name.
save_image() {
  local local_image=$1 image=$2 key=$3 tar; tar=$(tarball "$1")
  rm -f "$tar.part"
  skopeo copy --quiet "docker-daemon:$local_image" "docker-archive:$tar.part:docker.io/$image"
  mv "$tar.part" "$tar"
  echo "$key $(docker image inspect -f '{{.Id}}' "$local_image")" >"$tar.inputs"
}

while read -r name local_image image mv; do
  binary='' version=${image##*:}
  case $name in
    coredns) binary=$(build_binary "$mv" coredns "-X github.com/coredns/coredns/coremain.GitCommit=${mv##*@}") ;;
    local-path-provisioner) binary=$(build_binary "$mv" local-path-provisioner "-X main.VERSION=${mv##*@}") ;;
    busybox) binary=$BUSYBOX ;;
  esac
  [ -z "$mv" ] || version=${mv##*@}
  key=$( { echo "script $(sha "$SELF")"; echo "dockerfile $(sha "$KC_ROOT/images/addons/$name/Dockerfile")";
    echo "binary $(sha "$binary")"; echo "busybox $(sha "$BUSYBOX")"; echo "image $image"; } | sha)
  tar=$(tarball "$local_image")
  label=$(docker image inspect -f '{{index .Config.Labels "kube-claims.inputs"}}' "$local_image" 2>/dev/null || true)
  if [ -n "${KC_REBUILD:-}" ] || [ "$label" != "$key" ]; then
    kc_stage "add-on image $local_image ($image)" build_image "$name" "$local_image" "$image" "$binary" "$version" "$key"
  fi
  id=$(docker image inspect -f '{{.Id}}' "$local_image")
  if [ -f "$tar" ] && [ "$(cat "$tar.inputs" 2>/dev/null)" = "$key $id" ]; then
    kc_say "stage 'add-on image $local_image': cached (inputs ${key:0:12}; KC_REBUILD=1 rebuilds it)"
  else
    kc_stage "save $local_image as docker.io/$image" save_image "$local_image" "$image" "$key"
  fi
  kc_say "$local_image ($image, $version): $(docker image inspect -f '{{.Size}}' "$local_image" | awk '{ printf "%.1f MB", $1 / 1e6 }'), $tar"
done <<<"$ADDONS"
