#!/usr/bin/env bash
# Everything an offline run needs, with no container registry: a Docker engine that runs
# privileged containers, the fixture images, and the node image for each Kubernetes version.
# Reuses whatever is cached; see the README for the air-gapped path.
#   usage: scripts/build-images.sh [VERSION[,VERSION...]]   (default: KUBE_CLAIMS_K8S_VERSION, else the newest)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

versions=${1:-${KUBE_CLAIMS_K8S_VERSION:-$(kc_default_version)}}
# One build at a time per cache: a second run (another terminal, or auto mode) waits for the
# first and then reuses what it built, instead of building the same thing beside it.
exec 9>"$KC_CACHE/build.lock"
if ! flock -n 9; then
  kc_say "another build is running (it holds $KC_CACHE/build.lock); waiting for it to finish"
  flock 9
fi
bash "$KC_ROOT/scripts/docker-engine.sh"
bash "$KC_ROOT/scripts/build-fixtures.sh"
for v in ${versions//,/ }; do
  bash "$KC_ROOT/scripts/build-node-image.sh" "$v" >/dev/null
done
kc_say "images ready for Kubernetes ${versions//,/, }"
