#!/usr/bin/env bash
# Build what upstream's conformance specs need, with no registry: e2e.test and agnhost from
# k8s.io/kubernetes at the node's version (through the Go module proxy, the way
# build/binaries.sh builds the node), and stand-ins for the e2e test images the focused specs
# run, under the names e2e.test asks for (`e2e.test --list-images`), saved as one tarball each.
# Cached under $KC_CACHE/conformance/vVERSION by version and by this script's content.
#   usage: scripts/build/conformance.sh [KUBERNETES_VERSION]   (default: newest in images/versions.json)
#          scripts/build/conformance.sh --where [KUBERNETES_VERSION]   prints the cache folder
#   Stand-ins (Debian 12 packages and Debian's static busybox):
#     agnhost (and the previous agnhost tag): agnhost built from the module, busybox applets, and
#       the tools upstream's Alpine image adds (dig, getent, curl, OpenBSD nc) from Debian; dash
#       is /bin/sh, since Debian's static busybox as the shell runs its own nc and nslookup
#       applets whatever PATH says
#     glibc-dns-testing: busybox applets with Debian's dig and getent, dash as /bin/sh
#     busybox: Debian's static busybox with its applets; nginx (both tags): Debian's nginx 1.22
#     pause: the node's own pause image, retagged
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

WHERE=
if [ "${1:-}" = --where ]; then WHERE=1; shift; fi
VERSION=$(kc_version_field "${1:-$(kc_default_version)}" kubernetes)
OUT=$KC_CACHE/conformance/v$VERSION
if [ -n "$WHERE" ]; then echo "$OUT"; exit 0; fi
# The images' content depends on this script; a changed script builds them again.
STAMP=$(sha256sum "$0" | cut -c1-12)
kc_need_docker
export GOTOOLCHAIN=local GOFLAGS="-buildvcs=false -trimpath" GOPROXY=${GOPROXY:-https://proxy.golang.org}
command -v go >/dev/null || kc_die "Go is needed to build e2e.test (go.dev/dl)"
mkdir -p "$OUT/bin" "$OUT/images"

build_e2e() {
  local src=$KC_CACHE/src/conformance-v$VERSION
  kc_kube_module "$src" "$VERSION"
  cd "$src"
  # Go's tools pattern: go mod tidy keeps what e2e.test (every package it links) and agnhost import.
  printf '//go:build tools\n\npackage tools\n\nimport (\n\t_ "k8s.io/kubernetes/test/e2e"\n\t_ "k8s.io/kubernetes/test/images/agnhost"\n)\n' >tools.go
  # The imports of test/e2e's own test files (what e2e.test links) are not seen by tidy through tools.go.
  local dir; dir=$(go list -m -f '{{.Dir}}' k8s.io/kubernetes 2>/dev/null || true)
  [ -n "$dir" ] || dir=$(go mod download -json "k8s.io/kubernetes@v$VERSION" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')
  {
    printf '//go:build tools\n\npackage tools\n\nimport (\n'
    sed -n '/^import (/,/^)/p' "$dir"/test/e2e/*_test.go | grep -v '^\s*//' | grep -oE '"[^"]+"' | sort -u | grep -v '^"testing"$' | sed 's/^/\t_ /'
    printf ')\n'
  } >tools_e2e.go
  go mod tidy
  local ld; ld=$(kc_kube_ldflags "$VERSION")
  CGO_ENABLED=0 go test -c -ldflags "$ld" -o "$OUT/bin/e2e.test" k8s.io/kubernetes/test/e2e
  CGO_ENABLED=0 go build -ldflags "$ld" -o "$OUT/bin/agnhost" k8s.io/kubernetes/test/images/agnhost
  cp "$dir/test/images/agnhost/porter/localhost.crt" "$dir/test/images/agnhost/porter/localhost.key" "$OUT/bin/"
  "$OUT/bin/e2e.test" --list-images >"$OUT/images.txt"
  cd "$KC_CACHE" && rm -rf "$src"
}

# e2e_images NAME: every tag of an e2e test image that e2e.test lists (registry.k8s.io/e2e-test-images/NAME:TAG), one a line.
e2e_images() { grep -E "^registry\.k8s\.io/e2e-test-images/$1:[^/]+$" "$OUT/images.txt" || true; }

BUSYBOX=$(kc_static_busybox)
# busybox_root DIR: /bin/busybox, an applet link wherever no program of that name is on
# PATH's folders yet, and the users and groups the specs name.
busybox_root() {
  local d=$1 a
  mkdir -p "$d/bin" "$d/etc" "$d/tmp" "$d/root" "$d/var" "$d/proc" "$d/sys" "$d/dev" "$d/run" "$d/home/user-defined-in-image"
  chmod 1777 "$d/tmp"
  cp "$BUSYBOX" "$d/bin/busybox"
  for a in $("$BUSYBOX" --list); do
    [ -e "$d/bin/$a" ] || [ -e "$d/usr/bin/$a" ] || [ -e "$d/sbin/$a" ] || [ -e "$d/usr/sbin/$a" ] || ln -s busybox "$d/bin/$a"
  done
  cat >"$d/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
user-defined-in-image:x:1000:1000::/home/user-defined-in-image:/bin/sh
P
  cat >"$d/etc/group" <<'G'
root:x:0:
www-data:x:33:
nogroup:x:65534:
user-defined-in-image:x:1000:user-defined-in-image
group-defined-in-image:x:50000:user-defined-in-image
G
  printf 'hosts: files dns\n' >"$d/etc/nsswitch.conf"
}

# debian_packages DIR PACKAGE...: the packages and what they depend on (Debian 12, as this
# host's apt has them) unpacked into DIR; dash becomes /bin/sh. Maintainer scripts do not run,
# so alternatives (nc) are linked here.
debian_packages() {
  local d=$1; shift
  local debs; debs=$(mktemp -d)
  kc_apt_install apt-utils >/dev/null 2>&1 || true
  # shellcheck disable=SC2046
  (cd "$debs" && apt-get download $(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
    --no-breaks --no-replaces --no-enhances "$@" dash | grep -E '^[a-z0-9]' | sort -u) >/dev/null)
  for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$d"; done
  rm -rf "$debs"
  ln -sf dash "$d/bin/sh"
  if [ -e "$d/bin/nc.openbsd" ]; then ln -sf nc.openbsd "$d/bin/nc"; fi
}

# image NAME DIR [DOCKERFILE LINES...]: build DIR/root as image NAME FROM scratch.
image() {
  local name=$1 dir=$2; shift 2
  { printf 'FROM scratch\nCOPY root/ /\nLABEL kube-claims.conformance=%s\n' "$STAMP"; printf '%s\n' "$@"; } >"$dir/Dockerfile"
  docker build -q -t "$name" "$dir" >/dev/null
}

# also_as IMAGE NAME: IMAGE tagged with every other tag e2e.test lists for NAME.
also_as() { local tag; for tag in $(e2e_images "$2"); do [ "$tag" = "$1" ] || docker tag "$1" "$tag"; done; }

build_images() {
  local ctx; ctx=$(mktemp -d)
  local agnhost busybox nginx glibc pause
  agnhost=$(e2e_images agnhost | head -1); busybox=$(e2e_images busybox | head -1); nginx=$(e2e_images nginx | head -1)
  glibc=$(e2e_images glibc-dns-testing | head -1); pause=$(grep -E '^registry\.k8s\.io/pause:' "$OUT/images.txt" | head -1)
  [ -n "$agnhost" ] && [ -n "$busybox" ] && [ -n "$nginx" ] && [ -n "$pause" ] ||
    kc_die "e2e.test --list-images lacks agnhost, busybox, nginx or pause: $OUT/images.txt"

  busybox_root "$ctx/busybox/root"
  image "$busybox" "$ctx/busybox" 'CMD ["sh"]'
  also_as "$busybox" busybox

  # agnhost: /agnhost (ENTRYPOINT, CMD pause), /agnhost-2, /uploads, porter's certificates.
  local a=$ctx/agnhost/root
  mkdir -p "$a"
  debian_packages "$a" bind9-dnsutils libc-bin curl netcat-openbsd
  busybox_root "$a"
  cp "$OUT/bin/agnhost" "$OUT/bin/localhost.crt" "$OUT/bin/localhost.key" "$a/"
  ln -s agnhost "$a/agnhost-2"
  mkdir -p "$a/uploads"
  image "$agnhost" "$ctx/agnhost" 'EXPOSE 80 8080 8081 9376 5000' 'ENTRYPOINT ["/agnhost"]' 'CMD ["pause"]'
  also_as "$agnhost" agnhost

  if [ -n "$glibc" ]; then
    mkdir -p "$ctx/glibc/root"
    debian_packages "$ctx/glibc/root" bind9-dnsutils libc-bin
    busybox_root "$ctx/glibc/root"
    image "$glibc" "$ctx/glibc" 'CMD ["sh"]'
  fi

  # nginx from Debian's packages, with the shared libraries it links.
  local n=$ctx/nginx/root debs; debs=$(mktemp -d)
  mkdir -p "$n"
  (cd "$debs" && apt-get download nginx nginx-common >/dev/null)
  for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$n"; done
  rm -rf "$debs"
  for lib in $(ldd "$n/usr/sbin/nginx" | grep -oE '/[^ ]+\.so[^ ]*'); do
    mkdir -p "$n$(dirname "$lib")"; cp -L "$lib" "$n$lib"
  done
  busybox_root "$n"
  mkdir -p "$n/var/lib/nginx" "$n/var/log/nginx" "$n/var/cache/nginx"
  rm -rf "$n/etc/nginx/sites-enabled" "$n/etc/nginx/conf.d"
  cat >"$n/etc/nginx/nginx.conf" <<'CONF'
user www-data;
worker_processes 1;
pid /run/nginx.pid;
error_log /dev/stderr;
events { worker_connections 256; }
http {
  include /etc/nginx/mime.types;
  access_log /dev/stdout;
  server { listen 80; root /usr/share/nginx/html; index index.html; }
}
CONF
  image "$nginx" "$ctx/nginx" 'EXPOSE 80' 'STOPSIGNAL SIGQUIT' 'CMD ["/usr/sbin/nginx", "-g", "daemon off;"]'
  also_as "$nginx" nginx

  # pause: the node's own (kube-claims/pause, built with the node image) under e2e's name.
  docker tag "$(docker images --format '{{.Repository}}:{{.Tag}}' 'kube-claims/pause' | head -1)" "$pause"

  # One archive: the tags of an image share its layers.
  rm -f "$OUT"/images/*.tar
  # shellcheck disable=SC2046
  docker save -o "$OUT/images/e2e-test-images.tar" $(e2e_images agnhost) $(e2e_images busybox) $(e2e_images nginx) $glibc "$pause"
  rm -rf "$ctx"
}

if [ ! -x "$OUT/bin/e2e.test" ] || [ ! -s "$OUT/images.txt" ]; then
  kc_stage "build e2e.test and agnhost ($VERSION)" build_e2e
fi
if [ "$(cat "$OUT/images/.stamp" 2>/dev/null)" != "$STAMP" ]; then
  docker image inspect "kube-claims/node:v$VERSION" >/dev/null 2>&1 ||
    kc_die "the node image kube-claims/node:v$VERSION is needed (its pause image too): bash scripts/build/images.sh $VERSION"
  kc_stage "e2e test images ($VERSION)" build_images
  echo "$STAMP" >"$OUT/images/.stamp"
fi
kc_say "conformance: $OUT/bin/e2e.test, $(find "$OUT/images" -name '*.tar' | wc -l) image tarballs in $OUT/images"
