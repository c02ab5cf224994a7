#!/usr/bin/env bash
# Build the fixture images from images/hello and images/whoami, FROM scratch with Debian's
# static busybox (no registry), and save them as tarballs the node imports at start.
# They stand in for the book's kiamol/ch02-hello-kiamol and kiamol/ch02-whoami under our own
# names; the tests rely only on the contract at the end of the claims catalogue.
#   usage: scripts/build-fixtures.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"
kc_need_docker

TAG=ch02
OUT=$KC_CACHE/images
mkdir -p "$OUT"

build_fixture() {
  local name=$1 image=kube-claims/$1:$TAG
  local ctx; ctx=$(mktemp -d)
  trap 'rm -rf "$ctx"' RETURN
  cp "$KC_ROOT/images/$name/Dockerfile" "$ctx/"
  local root=$ctx/rootfs
  # The page lives where the book's nginx image keeps it, so `kubectl cp` paths are the same.
  local www=$root/usr/share/nginx/html
  mkdir -p "$root/bin" "$www" "$root/tmp" "$root/etc"
  cp "$(kc_static_busybox)" "$root/bin/busybox"
  for applet in sh httpd wget hostname tar cat ls uname echo printf sleep ps kill mkdir rm touch; do
    ln -s busybox "$root/bin/$applet"
  done
  echo 'root:x:0:0:root:/:/bin/sh' >"$root/etc/passwd"
  case $name in
    hello) cp "$KC_ROOT/images/hello/index.html" "$www/index.html" ;;
    whoami) mkdir -p "$www/cgi-bin"; install -m 0755 "$KC_ROOT/images/whoami/index.cgi" "$www/cgi-bin/index.cgi" ;;
  esac
  chmod 1777 "$root/tmp"
  docker build -q -t "$image" "$ctx"
  docker save -o "$OUT/$name-$TAG.tar" "$image"
}

for name in hello whoami; do
  kc_stage "fixture image kube-claims/$name:$TAG" build_fixture "$name"
done
kc_say "fixture images: $(cd "$OUT" && ls -1 hello-$TAG.tar whoami-$TAG.tar | tr '\n' ' ')in $OUT"
