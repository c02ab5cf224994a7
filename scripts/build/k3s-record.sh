#!/usr/bin/env bash
# Refresh images/k3s/record.json: real k3s, built from source (scripts/build/k3s-image.sh),
# started by the harness as it starts rancher/k3s and recorded as a user sees its node
# (scripts/ci/node-record.ts). CI compares the stand-in with it (scripts/ci/compare-k3s-record.ts);
# run this after a change to the k3s build, then check the comparison on both versions:
#   bash scripts/build/k3s-record.sh && npx tsx scripts/ci/node-record.ts kube-claims/node:v1.35.4 1.35 > /tmp/r.json \
#     && npx tsx scripts/ci/compare-k3s-record.ts images/k3s/record.json /tmp/r.json
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
image=$(bash "$KC_ROOT/scripts/build/k3s-image.sh" | tail -n 1)
# The release it is compared with: the harness's settings for that minor (add-on waits, kubectl).
nearest=$(node -e 'console.log(require(process.argv[1]).fromSource[0].nearest)' "$KC_ROOT/images/versions.json")
out=$(mktemp)
trap 'rm -f "$out"' EXIT
KUBE_CLAIMS_IMAGES=offline npx tsx "$KC_ROOT/scripts/ci/node-record.ts" "$image" "${nearest%.*}" >"$out"
mv "$out" "$KC_ROOT/images/k3s/record.json"
kc_say "images/k3s/record.json: $image, as a user sees its node"
