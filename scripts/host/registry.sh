#!/usr/bin/env bash
# A local container registry holding the fixture stand-ins under the book's names, so that
# the cluster pulls them the way it pulls kiamol/* for users (online mode, no preloading), and
# the add-on images a k3s server deploys under k3s's names (rancher/mirrored-coredns-coredns,
# rancher/local-path-provisioner, rancher/mirrored-library-busybox), which a node pulls when it
# has not got them (rancher/k3s; the stand-in node carries them like k3s's air-gap tarballs).
# The distribution registry and skopeo come from Debian's packages; the registry listens on
# the Docker bridge's gateway address, which every node container reaches.
#   usage: scripts/host/registry.sh start    start it (if not running) and push the stand-ins; prints its URL
#          scripts/host/registry.sh stop     stop it (its storage stays cached)
#          scripts/host/registry.sh url      print its URL
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

PORT=${KUBE_CLAIMS_REGISTRY_PORT:-5151}
DIR=$KC_CACHE/registry
PIDFILE=$DIR/registry.pid

gateway() {
  docker network inspect bridge --format '{{range .IPAM.Config}}{{.Gateway}}{{end}}' 2>/dev/null ||
    kc_die "cannot read the Docker bridge network's gateway (docker network inspect bridge)"
}
url() { echo "http://$(gateway):$PORT"; }

running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

answers() { curl -fsS -o /dev/null "$(url)/v2/" 2>/dev/null; }

start() {
  kc_need_docker
  command -v docker-registry >/dev/null || kc_apt_install docker-registry
  command -v skopeo >/dev/null || kc_apt_install skopeo
  command -v curl >/dev/null || kc_apt_install curl
  mkdir -p "$DIR/storage"
  if running && answers; then
    kc_say "registry already running at $(url) (pid $(cat "$PIDFILE"))"
  else
    local addr; addr="$(gateway):$PORT"
    if (exec 3<>"/dev/tcp/${addr%:*}/$PORT") 2>/dev/null; then
      kc_die "port $PORT on ${addr%:*} is in use by another program; set KUBE_CLAIMS_REGISTRY_PORT to a free port"
    fi
    cat >"$DIR/config.yml" <<YAML
version: 0.1
log: {level: warn}
storage:
  filesystem: {rootdirectory: $DIR/storage}
  delete: {enabled: true}
http:
  addr: $addr
YAML
    kc_say "starting the registry on $addr (storage: $DIR/storage, log: $KC_LOG_DIR/registry.log)"
    kc_daemon "$KC_LOG_DIR/registry.log" docker-registry serve "$DIR/config.yml"
    echo $! >"$PIDFILE"
    local deadline=$((SECONDS + 30))
    until answers; do
      running || kc_die "the registry exited at start; see $KC_LOG_DIR/registry.log"
      [ $SECONDS -lt $deadline ] || kc_die "the registry did not answer on $(url)/v2/ within 30s"
      sleep 0.2
    done
  fi
  push kube-claims/hello:ch02 kiamol/ch02-hello-kiamol:latest
  push kube-claims/whoami:ch02 kiamol/ch02-whoami:latest
  push_addons
  url
}

# push_addons: the add-on images of every supported version that are built here.
push_addons() {
  local v
  for v in $(node "$KC_ROOT/helpers/facts.mjs" versions); do node "$KC_ROOT/helpers/facts.mjs" addon-images "$v"; done |
    sort -u | while read -r _ local_image image _; do
      if docker image inspect "$local_image" >/dev/null 2>&1; then push "$local_image" "$image"
      else kc_say "not pushing $image: $local_image is not built (bash scripts/build/addons.sh VERSION)"; fi
    done
}

# push LOCAL_IMAGE NAME: copy an image from the Docker engine into the registry under NAME,
# unless the registry already holds that very image.
push() {
  local local_image=$1 name=$2
  docker image inspect "$local_image" >/dev/null 2>&1 || kc_die "image $local_image not present; build it: bash scripts/build/fixtures.sh"
  local want; want=$(docker image inspect -f '{{.Id}}' "$local_image")
  local have; have=$(skopeo inspect --raw --config --tls-verify=false "docker://$(gateway):$PORT/$name" 2>/dev/null | sha256sum | cut -d' ' -f1 || true)
  if [ "sha256:$have" = "$want" ]; then kc_say "registry holds $name ($local_image)"; return; fi
  kc_say "pushing $local_image to the registry as $name"
  skopeo copy --quiet --dest-tls-verify=false "docker-daemon:$local_image" "docker://$(gateway):$PORT/$name" >/dev/null
}

stop() {
  if running; then
    kc_say "stopping the registry (pid $(cat "$PIDFILE"))"
    kill "$(cat "$PIDFILE")"
    local deadline=$((SECONDS + 15))
    while running; do [ $SECONDS -lt $deadline ] || { kill -9 "$(cat "$PIDFILE")" 2>/dev/null; break; }; sleep 0.2; done
  fi
  rm -f "$PIDFILE"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) url ;;
  *) echo "usage: scripts/host/registry.sh start|stop|url" >&2; exit 2 ;;
esac
