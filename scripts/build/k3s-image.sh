#!/usr/bin/env bash
# Real k3s, built from its own source, as the node stand-in's judge: the k3s binary from the Go
# module the proxy serves (images/versions.json, fromSource), built as k3s's scripts/build builds
# it (its tags with ctrd, its version stamps, pkg/deploy/embed filled from manifests/), with runc,
# the containerd shim and the CNI plugins beside it, in an image laid out as rancher/k3s is
# (/bin/k3s and its multi-call names, ENTRYPOINT ["/bin/k3s"], CMD ["agent"], its VOLUMEs, PATH
# and CRI_CONFIG_FILE) on the stand-in's Debian userspace (iptables, ipset, conntrack, mount...).
# The add-on images k3s deploys (CoreDNS, local-path and its busybox helper) and its pause image
# are in /var/lib/rancher/k3s/agent/images/, as air-gap tarballs (rancher/k3s pulls them).
# No script of ours runs inside: the harness starts it as it starts rancher/k3s
# (KUBE_CLAIMS_NODE_IMAGE=<image> with the nearest release's KUBE_CLAIMS_K8S_VERSION).
# Cached: the binary by the module's version, the image by its inputs; KC_REBUILD=1 rebuilds.
#   usage: scripts/build/k3s-image.sh [--where]   (--where: print the image's name only)
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

src_field() { node -e 'const r = require(process.argv[1]).fromSource[0]; const v = r[process.argv[2]];
  if (typeof v !== "string") { console.error(`images/versions.json fromSource has no ${process.argv[2]}`); process.exit(2); } console.log(v)' \
  "$KC_ROOT/images/versions.json" "$1"; }
IMAGE=$(src_field image)
if [ "${1:-}" = --where ]; then echo "$IMAGE"; exit 0; fi
MODULE=$(src_field module); MODULE_VERSION=$(src_field moduleVersion); VERSION=$(src_field version)
COMPONENTS=$(src_field componentsOf); FLANNEL_CNI=$(src_field flannelCni); PAUSE_TAG=$(src_field pause)
# The commit, as far as the proxy tells it (the pseudo-version's 12 characters).
COMMIT=${MODULE_VERSION##*-}
BIN=$KC_CACHE/bin
out_k3s=$BIN/k3s-$MODULE_VERSION
LIBCNI=$(src_field flannelCniLibcni)
out_flannel_cni=$BIN/cni-flannel-${FLANNEL_CNI##*@}-libcni-$LIBCNI
export GOTOOLCHAIN=local GOFLAGS="-buildvcs=false -trimpath" GOPROXY=${GOPROXY:-https://proxy.golang.org}
command -v go >/dev/null || kc_die "Go is needed to build k3s (go.dev/dl)"
command -v gcc >/dev/null || kc_die "gcc is needed to build k3s (cgo: SQLite, containerd)"
kc_need_docker

# k3s's scripts/build, for this module: the same tags (a dynamic build: the image's userspace is
# Debian's, with its C library) and the version stamps of scripts/version.sh for an untagged commit.
build_k3s() {
  local src=$KC_CACHE/src/k3s-$MODULE_VERSION dir date
  dir=$(kc_module_dir "$MODULE@$MODULE_VERSION")
  rm -rf "$src"; cp -r "$dir" "$src"; chmod -R u+w "$src"
  # What k3s deploys and grants itself (RBAC for its controllers, CoreDNS, local-path, ...).
  cp -r "$src"/manifests/* "$src/pkg/deploy/embed/"
  date=$(date -u '+%Y-%m-%dT%H:%M:%SZ')
  local k=github.com/k3s-io/k3s/pkg/version c=k8s.io/client-go/pkg/version b=k8s.io/component-base/version ld
  ld="-X $k.Version=$VERSION -X $k.GitCommit=${COMMIT:0:8} -X $k.UpstreamGolang=$(src_field upstreamGolang)
    -X $c.gitVersion=$VERSION -X $c.gitCommit=$COMMIT -X $c.gitTreeState=clean -X $c.buildDate=$date
    -X $b.gitVersion=$VERSION -X $b.gitCommit=$COMMIT -X $b.gitTreeState=clean -X $b.buildDate=$date
    -X sigs.k8s.io/cri-tools/pkg/version.Version=$(src_field criTools)
    -X github.com/containerd/containerd/v2/version.Version=$(src_field containerd)
    -X github.com/containerd/containerd/v2/version.Package=github.com/k3s-io/containerd/v2
    -X go.etcd.io/etcd/api/v3/version.GitSHA=HEAD
    -X github.com/k3s-io/helm-controller/pkg/controllers/chart.DefaultJobImage=$(src_field helmJobImage) -w -s"
  mkdir -p "$out_k3s"
  # With the Go that k3s's build uses (the proxy serves its toolchain): k3s refuses to start when
  # the runtime's Go is not the one Kubernetes names (pkg/cli/cmds/golang.go).
  (cd "$src" && GOTOOLCHAIN=$(src_field upstreamGolang) CGO_ENABLED=1 go build -o "$out_k3s/k3s" \
    -tags "ctrd netcgo osusergo providerless urfave_cli_no_docs sqlite_omit_load_extension apparmor seccomp" \
    -ldflags "$ld" ./cmd/server)
  "$out_k3s/k3s" --version | grep -qF "$VERSION" || kc_die "the k3s binary does not report $VERSION"
  "$out_k3s/k3s" --version | grep -qF "go version $(src_field upstreamGolang)" || kc_die "the k3s binary was not built with $(src_field upstreamGolang)"
  rm -rf "$src"
  touch "$out_k3s/.complete"
}

# k3s's flannel CNI plugin (flannel-io/cni-plugin, refused by the proxy), from where it lived
# before, built against a CNI library that speaks the conflist's version (1.0.0; its source unchanged).
build_flannel_cni() {
  local src=$KC_CACHE/src/cni-flannel-${FLANNEL_CNI##*@} dir
  dir=$(kc_module_dir "$FLANNEL_CNI")
  rm -rf "$src"; cp -r "$dir" "$src"; chmod -R u+w "$src"
  mkdir -p "$out_flannel_cni"
  (cd "$src" && GOFLAGS="$GOFLAGS -mod=mod" go get "github.com/containernetworking/cni@$LIBCNI" \
    && CGO_ENABLED=0 GOFLAGS="$GOFLAGS -mod=mod" go build -ldflags "-s -w" -o "$out_flannel_cni/flannel" ./plugins/meta/flannel)
  rm -rf "$src"
  # Refuse a plugin that would not load k3s's conflist.
  CNI_COMMAND=VERSION "$out_flannel_cni/flannel" </dev/null | grep -qF '"1.0.0"' || kc_die "the flannel CNI plugin does not speak CNI 1.0.0"
  touch "$out_flannel_cni/.complete"
}

if [ -f "$out_k3s/.complete" ]; then kc_say "stage 'build k3s': cached ($out_k3s)"; else kc_stage "build k3s $VERSION ($MODULE@$MODULE_VERSION)" build_k3s; fi
if [ -f "$out_flannel_cni/.complete" ]; then kc_say "stage 'build flannel CNI plugin': cached"; else kc_stage "build flannel CNI plugin ($FLANNEL_CNI)" build_flannel_cni; fi
# runc, the shim, the CNI plugins, the pause binary and the add-on images of the release whose
# versions this commit's are.
bash "$KC_ROOT/scripts/build/binaries.sh" --only containerd,runc,cni,pause "$COMPONENTS"
bash "$KC_ROOT/scripts/build/addons.sh" "$COMPONENTS" >/dev/null
where() { bash "$KC_ROOT/scripts/build/binaries.sh" --where "$1" "$COMPONENTS"; }
# The stand-in's Debian userspace (the same packages), imported by build/node-image.sh.
BASE_IMAGE=$(docker images kube-claims/node-base --format '{{.Repository}}:{{.Tag}}' | head -1)
[ -n "$BASE_IMAGE" ] || kc_die "no kube-claims/node-base image; build the stand-in first: bash scripts/build/images.sh"

# Where no process may lower its oom_score_adj (the host's bounding set lacks CAP_SYS_RESOURCE),
# runc in the node could not start a Pod: the image gets a runc that keeps it at the caller's own
# (images/k3s/runc-restrict-oom); elsewhere it is k3s's runc alone.
RESTRICT_OOM=false
(( (0x$(sed -n 's/^CapBnd:\t//p' /proc/self/status) >> 24) & 1 )) || RESTRICT_OOM=true
INPUTS=$( (echo "restrict-oom=$RESTRICT_OOM"; cat "$0" "$KC_ROOT/images/k3s/Dockerfile" "$KC_ROOT/images/k3s/runc-restrict-oom"; node -e 'console.log(JSON.stringify(require(process.argv[1]).fromSource[0]))' "$KC_ROOT/images/versions.json"; \
  echo "$BASE_IMAGE"; sha256sum "$out_k3s/k3s" "$(where runc)/runc" "$(where containerd)/containerd-shim-runc-v2" "$(where cni)"/* "$(where pause)/pause"; \
  bash "$KC_ROOT/scripts/build/addons.sh" --tarballs "$COMPONENTS" | xargs sha256sum) | sha256sum | cut -c1-12)
if [ "$(docker image inspect -f '{{index .Config.Labels "kube-claims.inputs"}}' "$IMAGE" 2>/dev/null)" = "$INPUTS" ] && [ -z "${KC_REBUILD:-}" ]; then
  kc_say "image $IMAGE present and current (inputs $INPUTS; KC_REBUILD=1 rebuilds it)"
  echo "$IMAGE"; exit 0
fi

assemble() {
  local ctx name; ctx=$(mktemp -d)
  trap 'rm -rf "$ctx"' RETURN
  mkdir -p "$ctx/bin" "$ctx/images" "$ctx/sbin"
  [ "$RESTRICT_OOM" = false ] || cp -p "$KC_ROOT/images/k3s/runc-restrict-oom" "$ctx/sbin/runc"
  cp -p "$out_k3s/k3s" "$(where runc)/runc" "$(where containerd)/containerd-shim-runc-v2" "$ctx/bin/"
  # k3s's package-cli: the multi-call names, and the CNI plugins beside k3s.
  for name in k3s-agent k3s-server k3s-token k3s-etcd-snapshot k3s-secrets-encrypt k3s-certificate k3s-completion kubectl containerd crictl ctr; do
    ln -s k3s "$ctx/bin/$name"
  done
  cp -p "$(where cni)"/* "$out_flannel_cni/flannel" "$ctx/bin/"
  # The pause image under the name k3s's kubelet asks for; the add-ons' as k3s names them.
  local pause; pause=$(mktemp -d)
  cp "$(where pause)/pause" "$pause/pause"
  printf 'FROM scratch\nCOPY pause /pause\nENTRYPOINT ["/pause"]\n' >"$pause/Dockerfile"
  docker build -q -t "rancher/mirrored-pause:$PAUSE_TAG" "$pause" >/dev/null
  rm -rf "$pause"
  docker save -o "$ctx/images/pause.tar" "rancher/mirrored-pause:$PAUSE_TAG"
  docker rmi "rancher/mirrored-pause:$PAUSE_TAG" >/dev/null
  bash "$KC_ROOT/scripts/build/addons.sh" --tarballs "$COMPONENTS" | while read -r tar; do cp "$tar" "$ctx/images/"; done
  cp "$KC_ROOT/images/k3s/Dockerfile" "$ctx/"
  docker build --build-arg "BASE=$BASE_IMAGE" -t "$IMAGE" \
    --label "org.opencontainers.image.version=$VERSION" --label "kube-claims.k3s-module=$MODULE@$MODULE_VERSION" \
    --label "kube-claims.inputs=$INPUTS" --label "kube-claims.runc-restrict-oom=$RESTRICT_OOM" "$ctx"
}
kc_stage "assemble $IMAGE" assemble
kc_say "built $IMAGE ($(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}')): k3s $VERSION from $MODULE@$MODULE_VERSION"
echo "$IMAGE"
