#!/usr/bin/env bash
# Build the fixture images kube-claims/hello:ch02 and kube-claims/whoami:ch02, which stand in
# for the book's kiamol/ch02-hello-kiamol and kiamol/ch02-whoami, and save them as the tarballs
# the offline node imports at start ($KC_CACHE/images/{hello,whoami}-ch02.tar).
#  - hello: nginx from Debian's `nginx` package, with exactly the shared libraries it links
#    (from the Debian packages its Depends name) and the dynamic loader; our page at
#    /usr/share/nginx/html/index.html with CRLF line endings; Debian's static busybox.
#  - whoami: a CGI script behind Debian's static busybox httpd.
# Both FROM scratch with files assembled here: no registry is needed. An image is rebuilt only
# when its inputs change (this script, images/<name>/, the busybox binary, the Debian package
# versions); KC_REBUILD=1 rebuilds anyway. What tests may rely on: images/contract.md.
#   usage: scripts/build/fixtures.sh
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
kc_need_docker

TAG=ch02
OUT=$KC_CACHE/images
DEBS=$KC_CACHE/debs/fixtures
mkdir -p "$OUT" "$DEBS"
BUSYBOX=$(kc_static_busybox)
SELF=$KC_ROOT/scripts/build/fixtures.sh
APT_AS=(); [ "$(id -u)" = 0 ] && APT_AS=(-o APT::Sandbox::User=root)

sha() { sha256sum "$@" | cut -d' ' -f1; }

# apt_uris PACKAGE...: lines "'URI' FILE SIZE SHA256:HEX" for the candidate versions, nothing
# downloaded (apt prints nothing for files already in the working directory, hence the empty
# one). Refreshes the package lists once if apt cannot name them.
apt_uris() {
  local dir out=''; dir=$(mktemp -d)
  out=$(cd "$dir" && apt-get "${APT_AS[@]}" download --print-uris "$@" 2>/dev/null) || out=''
  if [ "$(printf '%s' "$out" | grep -c .)" != $# ]; then
    kc_say "apt cannot name $*; refreshing package lists"
    local sudo=(); [ "$(id -u)" = 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get update >>"$KC_LOG_DIR/apt.log" 2>&1 || kc_die "apt-get update failed (log: $KC_LOG_DIR/apt.log)"
    out=$(cd "$dir" && apt-get "${APT_AS[@]}" download --print-uris "$@") || kc_die "apt-get download --print-uris $* failed"
  fi
  rm -rf "$dir"
  printf '%s\n' "$out"
}

# The Debian packages of hello: nginx (the only one holding /usr/sbin/nginx in bookworm;
# nginx-light and nginx-core are metapackages), nginx-common for /etc/nginx/mime.types, and
# the library packages nginx's Depends names.
hello_packages() {
  command -v apt-get >/dev/null || kc_die "the hello fixture needs Debian's nginx package (apt-get)"
  apt_uris nginx >/dev/null # makes sure the package lists are there
  local libs
  libs=$(apt-cache show --no-all-versions nginx | sed -n 's/^Depends: //p' | tr ',' '\n' |
    sed 's/|.*//; s/(.*//; s/:any//; s/[[:space:]]//g' | grep -E '^(lib|zlib)' | sort -u | tr '\n' ' ')
  [ -n "$libs" ] || kc_die "could not read the library packages nginx depends on"
  apt_uris nginx nginx-common $libs
}

# fetch_debs: download the packages in $HELLO_URIS into $DEBS unless present with the right
# checksum; remove the other .deb files there.
fetch_debs() {
  local tmp; tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  local -a want=() missing=()
  local file hash
  while read -r _ file _ hash; do
    want+=("$file")
    if [ -f "$DEBS/$file" ] && [ "$(sha "$DEBS/$file")" = "${hash#SHA256:}" ]; then
      echo "cached: $file"
    else
      missing+=("${file%%_*}")
    fi
  done <<<"$HELLO_URIS"
  if [ ${#missing[@]} -gt 0 ]; then
    echo "downloading: ${missing[*]}"
    (cd "$tmp" && apt-get "${APT_AS[@]}" download "${missing[@]}")
    while read -r _ file _ hash; do
      [ -f "$tmp/$file" ] || continue
      [ "$(sha "$tmp/$file")" = "${hash#SHA256:}" ] || { echo "checksum mismatch: $file" >&2; exit 1; }
      mv "$tmp/$file" "$DEBS/$file"
    done <<<"$HELLO_URIS"
  fi
  local f
  for f in "$DEBS"/*.deb; do
    printf '%s\n' "${want[@]}" | grep -qxF "$(basename "$f")" || { echo "removing old $f"; rm -f "$f"; }
  done
  for f in "${want[@]}"; do [ -f "$DEBS/$f" ] || { echo "not downloaded: $f" >&2; exit 1; }; done
}

# base_rootfs DIR: busybox with every applet at the path `busybox --list-full` names (as in
# Alpine), users, /tmp, /run.
base_rootfs() {
  local root=$1 applet
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,etc,root,run,tmp,var}
  chmod 755 "$root"
  cp "$BUSYBOX" "$root/bin/busybox"
  chmod 755 "$root/bin/busybox"
  "$BUSYBOX" --list-full | while read -r applet; do
    case $applet in bin/busybox | linuxrc) continue ;; esac
    mkdir -p "$root/$(dirname "$applet")"
    ln -s /bin/busybox "$root/$applet"
  done
  ln -s ../run "$root/var/run"
  chmod 1777 "$root/tmp"
  printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nginx:x:101:101:nginx:/var/lib/nginx:/sbin/nologin' \
    'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' >"$root/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nginx:x:101:' 'nogroup:x:65534:' >"$root/etc/group"
  printf '%s\n' 'passwd: files' 'group: files' 'hosts: files dns' >"$root/etc/nsswitch.conf"
}

# nginx_rootfs DIR: /usr/sbin/nginx from the nginx package, and the libraries and loader it
# needs, resolved by the packages' own loader within the unpacked packages only.
nginx_rootfs() {
  local root=$1 x; x=$(mktemp -d)
  local f
  for f in "$DEBS"/*.deb; do dpkg-deb -x "$f" "$x"; done
  install -D -m 0755 "$x/usr/sbin/nginx" "$root/usr/sbin/nginx"
  install -D -m 0644 "$x/etc/nginx/mime.types" "$root/etc/nginx/mime.types"
  local loader; loader=$(find "$x/lib" "$x/usr/lib" -name 'ld-linux*.so*' -type f 2>/dev/null | head -n 1)
  [ -n "$loader" ] || { echo "no dynamic loader in the unpacked libc6" >&2; exit 1; }
  local libdirs; libdirs=$(find "$x" -name '*.so*' -printf '%h\n' | sort -u | paste -sd:)
  local listed; listed=$("$loader" --inhibit-cache --library-path "$libdirs" --list "$x/usr/sbin/nginx")
  echo "$listed"
  if grep -q 'not found' <<<"$listed"; then echo "nginx needs a library its Depends do not name" >&2; exit 1; fi
  local name arrow path rest
  while read -r name arrow path rest; do
    [ "$arrow" = '=>' ] || continue # linux-vdso.so.1
    case $path in "$x"/*) ;; *) echo "$name resolved outside the Debian packages: $path" >&2; exit 1 ;; esac
    mkdir -p "$root/$(dirname "${path#"$x"}")"
    cp -L "$path" "$root/${path#"$x"}"
    case $name in /*) # the program interpreter (PT_INTERP): a link to the loader, as in Debian
      mkdir -p "$root/$(dirname "$name")"
      [ "$name" = "${path#"$x"}" ] || ln -sf "${path#"$x"}" "$root/$name" ;;
    esac
  done <<<"$listed"
  rm -rf "$x"
}

build_hello() {
  local src=$KC_ROOT/images/hello root=$CTX/rootfs
  base_rootfs "$root"
  nginx_rootfs "$root"
  install -m 0644 "$src/nginx.conf" "$root/etc/nginx/nginx.conf"
  mkdir -p "$root/etc/nginx/listen.d" "$root/var/lib/nginx" "$root/var/log/nginx" "$root/usr/share/nginx/html"
  ln -s /dev/stdout "$root/var/log/nginx/access.log"
  ln -s /dev/stderr "$root/var/log/nginx/error.log"
  # CRLF on every line, whatever line endings the checkout has, as in the book's page.
  awk '{ sub(/\r$/, ""); printf "%s\r\n", $0 }' "$src/index.html" >"$root/usr/share/nginx/html/index.html"
  install -m 0755 "$src/docker-entrypoint.sh" "$root/docker-entrypoint.sh"
  mkdir -p "$root/docker-entrypoint.d"
  install -m 0755 "$src"/docker-entrypoint.d/*.sh "$root/docker-entrypoint.d/"
}

build_whoami() {
  local src=$KC_ROOT/images/whoami root=$CTX/rootfs
  base_rootfs "$root"
  install -D -m 0755 "$src/index.cgi" "$root/srv/whoami/cgi-bin/index.cgi"
  install -m 0755 "$src/entrypoint.sh" "$root/entrypoint.sh"
}

# check_image NAME IMAGE: a quick run of what the image is made of.
check_image() {
  case $1 in
    hello) docker run --rm --entrypoint nginx "$2" -t ;;
    whoami) docker run --rm --entrypoint /srv/whoami/cgi-bin/index.cgi "$2" 2>/dev/null | grep -q '^"I.m ' ;;
  esac
}

# build_image NAME KEY: assemble the rootfs, build the image labelled with KEY, check it,
# save the tarball and its stamp.
build_image() {
  local name=$1 key=$2 image=kube-claims/$1:$TAG
  CTX=$(mktemp -d)
  trap 'rm -rf "$CTX"' RETURN
  "build_$name"
  tar -C "$CTX/rootfs" --sort=name --numeric-owner --owner=0 --group=0 -cf "$CTX/rootfs.tar" .
  rm -rf "$CTX/rootfs"
  cp "$KC_ROOT/images/$name/Dockerfile" "$CTX/"
  local old; old=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
  docker build -q --label "kube-claims.inputs=$key" -t "$image" "$CTX"
  local id; id=$(docker image inspect -f '{{.Id}}' "$image")
  check_image "$name" "$image"
  if [ -n "$old" ] && [ "$old" != "$id" ]; then docker rmi "$old" || true; fi
  save_image "$name" "$key"
}

save_image() {
  local name=$1 key=$2 image=kube-claims/$1:$TAG tar=$OUT/$1-$TAG.tar
  docker save -o "$tar.part" "$image"
  mv "$tar.part" "$tar"
  echo "$key $(docker image inspect -f '{{.Id}}' "$image")" >"$OUT/.$name-$TAG.inputs"
}

load_image() {
  docker load -i "$OUT/$1-$TAG.tar"
}

inputs_key() {
  local name=$1
  {
    echo "arch $(dpkg --print-architecture 2>/dev/null || uname -m)"
    echo "script $(sha "$SELF")"
    echo "busybox $(sha "$BUSYBOX")"
    (cd "$KC_ROOT/images/$name" && find . -type f | LC_ALL=C sort | xargs sha256sum)
    [ "$name" != hello ] || awk '{ print $2, $4 }' <<<"$HELLO_URIS"
  } | sha
}

for name in hello whoami; do
  image=kube-claims/$name:$TAG
  [ "$name" != hello ] || HELLO_URIS=$(hello_packages)
  key=$(inputs_key "$name")
  label=$(docker image inspect -f '{{index .Config.Labels "kube-claims.inputs"}}' "$image" 2>/dev/null || true)
  id=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
  stamp=$(cat "$OUT/.$name-$TAG.inputs" 2>/dev/null || true)
  tar=$OUT/$name-$TAG.tar
  if [ -z "${KC_REBUILD:-}" ] && [ "$label" = "$key" ]; then
    if [ -f "$tar" ] && [ "$stamp" = "$key $id" ]; then
      kc_say "stage 'fixture image $image': cached (inputs ${key:0:12}; KC_REBUILD=1 rebuilds it)"
    else
      kc_stage "save $image" save_image "$name" "$key"
    fi
  elif [ -z "${KC_REBUILD:-}" ] && [ -f "$tar" ] && [ "${stamp%% *}" = "$key" ]; then
    kc_stage "load $image from $tar" load_image "$name"
  else
    [ "$name" != hello ] || kc_stage "Debian packages for $image" fetch_debs
    kc_stage "fixture image $image" build_image "$name" "$key"
  fi
done
for name in hello whoami; do
  kc_say "kube-claims/$name:$TAG: $(docker image inspect -f '{{.Size}}' "kube-claims/$name:$TAG" | awk '{ printf "%.1f MB", $1 / 1e6 }'), $OUT/$name-$TAG.tar"
done
