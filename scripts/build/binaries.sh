#!/usr/bin/env bash
# Build the node's binaries for one Kubernetes version from the Go module proxy, no registry
# and no GitHub: the Kubernetes components (one multi-call binary), a standalone kubectl for the
# host (the harness's when yours is far from the server; not in the node image), kubeadm (the newest
# version's, for every node), kine (k3s's datastore: SQLite behind an etcd API), containerd with its
# runc shim and ctr, runc, crictl, the CNI plugins, and the pause binary from Kubernetes'
# pause.c. Each output is cached under $KC_CACHE/bin by version (our own sources also by their
# content) and reused when present.
#   usage: scripts/build/binaries.sh [KUBERNETES_VERSION]   (default: newest in images/versions.json)
#          scripts/build/binaries.sh --where PART [KUBERNETES_VERSION]   prints PART's cache folder
#          (PART: kube, kubeadm, kine, ...), built or not: the one place that names them
#          scripts/build/binaries.sh --only PART[,PART...] [KUBERNETES_VERSION]   builds those parts only
#          (the k3s-from-source image takes the components of the release whose versions it shares)
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

WHERE='' ONLY=''
if [ "${1:-}" = --where ]; then WHERE=${2:?--where needs a part}; shift 2; fi
if [ "${1:-}" = --only ]; then ONLY=${2:?--only needs parts}; shift 2; fi
VERSION=$(kc_version_field "${1:-$(kc_default_version)}" kubernetes)
field() { kc_version_field "$VERSION" "$1"; }
# The k3s release's components, built from their upstream tags (kc_source_version); containerd
# keeps k3s's whole value (v2.3.4-k3s1), which it reports as its version, as k3s's does.
source_of() { kc_source_version "$VERSION" "$1"; }
KINE=$(source_of kine); CONTAINERD=$(field containerd); CONTAINERD_TAG=$(source_of containerd); RUNC=$(source_of runc)
CNI=$(field cniPlugins); CRITOOLS=$(field criTools)
MINOR=$(echo "$VERSION" | cut -d. -f2)

BIN=$KC_CACHE/bin
# The multi-call binary is ours too: cached by version and by its source (images/node/
# multicall*.go), so that a changed source is rebuilt over an older cache.
out_kube=$BIN/kubernetes-v$VERSION-$(cd "$KC_ROOT/images/node" && sha256sum multicall*.go | sha256sum | cut -c1-12)
KUBEADM=$(kc_default_version)
out_kubeadm=$BIN/kubeadm-v$KUBEADM
out_kubectl=$(dirname "$(node "$KC_ROOT/helpers/facts.mjs" kubectl-path "$VERSION")")
out_kine=$BIN/kine-$KINE
out_containerd=$BIN/containerd-$CONTAINERD
out_runc=$BIN/runc-$RUNC-static
out_crictl=$BIN/crictl-$CRITOOLS
out_cni=$BIN/cni-plugins-$CNI
FLANNEL=$(source_of flannel)
out_flannel=$BIN/flannel-$FLANNEL
out_pause=$BIN/pause-v$VERSION
# The registries.yaml tool is ours, so it is cached by its source, not by a version.
out_registries=$BIN/registries-$(cat "$KC_ROOT/images/node/registries/main.go" | sha256sum | cut -c1-12)
if [ -n "$WHERE" ]; then
  var=out_$WHERE; [ -n "${!var:-}" ] || kc_die "--where: no part named $WHERE"
  echo "${!var}"; exit 0
fi

export GOTOOLCHAIN=local GOFLAGS="-buildvcs=false -trimpath" GOPROXY=${GOPROXY:-https://proxy.golang.org}
command -v go >/dev/null || kc_die "Go is needed to build the node binaries (go.dev/dl)"
command -v gcc >/dev/null || kc_die "gcc is needed to build runc and the pause binary"

# cached DIR: true when an earlier run finished DIR (it writes .complete last).
cached() { [ -f "$1/.complete" ]; }
finish() { touch "$1/.complete"; }

# A scratch module whose go.mod requires MODULE@VERSION; its main.go is copied from images/node.
scratch_module() {
  local dir=$1 name=$2
  rm -rf "$dir"; mkdir -p "$dir"
  (cd "$dir" && go mod init "kube-claims.local/$name" >/dev/null 2>&1)
}

build_kube() {
  local src=$KC_CACHE/src/kubernetes-v$VERSION gocache=$KC_CACHE/src/kubernetes-v$VERSION.gocache
  kc_kube_module "$src" "$VERSION"
  cp "$KC_ROOT/images/node/multicall.go" "$src/main.go"
  cp "$KC_ROOT"/images/node/multicall_*.go "$src/"
  # APIs that changed between minors, chosen by build tag (multicall_*.go).
  local tags=""
  [ "$MINOR" -lt 34 ] && tags=kube_pre134
  cd "$src"
  # The standalone kubectl's requirements too (Go's tools pattern; the build tag keeps it out of the binary).
  printf '//go:build tools\n\npackage main\n\nimport _ "k8s.io/kubernetes/cmd/kubectl"\n' >tools.go
  go mod tidy
  mkdir -p "$out_kube"
  # A build cache of its own (about 5 GB), kept across a failed attempt and removed once the
  # binary is cached: nothing else reuses it, and Go's shared cache would keep it for every version.
  GOCACHE=$gocache CGO_ENABLED=0 go build -tags "$tags" -ldflags "$(kc_kube_ldflags "$VERSION")" -o "$out_kube/kube" .
  # Read whole: grep -q would end the pipe early, and the writer's SIGPIPE fail it (pipefail).
  [[ $("$out_kube/kube" kubectl version --client) == *"v$VERSION"* ]]
  finish "$out_kube"
  # The standalone kubectl from the same source and build cache: little more than a link here.
  cached "$out_kubectl" || kubectl_from "$src" "$gocache"
  cd "$KC_CACHE" && rm -rf "$src" "$gocache"
}

# kubectl_from SRC GOCACHE: k8s.io/kubernetes/cmd/kubectl built in a module that requires it.
kubectl_from() {
  local src=$1 gocache=$2
  mkdir -p "$out_kubectl"
  (cd "$src" && GOCACHE=$gocache CGO_ENABLED=0 go build -ldflags "$(kc_kube_ldflags "$VERSION")" -o "$out_kubectl/kubectl" k8s.io/kubernetes/cmd/kubectl)
  [[ $("$out_kubectl/kubectl" version --client) == *"v$VERSION"* ]]
  finish "$out_kubectl"
}

# The standalone kubectl alone, where the multi-call binary was cached before it was built too.
build_kubectl() {
  local src=$KC_CACHE/src/kubectl-v$VERSION gocache=$KC_CACHE/src/kubectl-v$VERSION.gocache
  kc_kube_module "$src" "$VERSION"
  # Go's tools pattern (as for kubeadm): go mod tidy records what the command needs.
  printf '//go:build tools\n\npackage tools\n\nimport _ "k8s.io/kubernetes/cmd/kubectl"\n' >"$src/tools.go"
  (cd "$src" && go mod tidy)
  kubectl_from "$src" "$gocache"
  cd "$KC_CACHE" && rm -rf "$src" "$gocache"
}

build_kubeadm() {
  # The node makes its certificates and kubeconfigs with kubeadm's phases. One kubeadm, of the
  # newest supported version, for every node image: what it writes does not depend on the
  # version of the control plane that reads it.
  local src=$KC_CACHE/src/kubeadm-v$KUBEADM gocache=$KC_CACHE/src/kubeadm-v$KUBEADM.gocache
  kc_kube_module "$src" "$KUBEADM"
  cd "$src"
  # Go's tools pattern: the build tag keeps the file out of builds, and go mod tidy still
  # records what the command needs.
  printf '//go:build tools\n\npackage tools\n\nimport _ "k8s.io/kubernetes/cmd/kubeadm"\n' >tools.go
  go mod tidy
  mkdir -p "$out_kubeadm"
  GOCACHE=$gocache CGO_ENABLED=0 go build -ldflags "$(kc_kube_ldflags "$KUBEADM")" -o "$out_kubeadm/kubeadm" k8s.io/kubernetes/cmd/kubeadm
  "$out_kubeadm/kubeadm" version -o short | grep -qx "v$KUBEADM"
  finish "$out_kubeadm"
  cd "$KC_CACHE" && rm -rf "$src" "$gocache"
}

build_kine() {
  # k3s keeps a single server's state in SQLite through kine (github.com/k3s-io/kine; its own
  # main is what k3s embeds: endpoint.Listen). Its endpoint package imports every datastore
  # driver, and one of them (t4, from kine v0.17) needs a module the proxy refuses: build a copy
  # of the released module without that driver, as for flannel's backends. cgo for
  # mattn/go-sqlite3, linked statically like runc, so that it does not load the build host's C
  # library on the node.
  local src=$KC_CACHE/src/kine-$KINE dir
  dir=$(kc_module_dir "github.com/k3s-io/kine@$KINE")
  rm -rf "$src"; cp -r "$dir" "$src"; chmod -R u+w "$src"
  if [ -d "$src/pkg/drivers/t4" ]; then
    sed -i '/"github.com\/k3s-io\/kine\/pkg\/drivers\/t4"/d' "$src/pkg/endpoint/init.go"
    rm -rf "$src/pkg/drivers/t4"
    (cd "$src" && go mod tidy)
  fi
  grep -q 'pkg/drivers/sqlite"' "$src/pkg/endpoint/init.go"
  mkdir -p "$out_kine"
  (cd "$src" && CGO_ENABLED=1 go build -tags "netgo osusergo sqlite_omit_load_extension" \
    -ldflags "-s -w -extldflags -static" -o "$out_kine/kine" .)
  if ldd "$out_kine/kine" >/dev/null 2>&1; then echo "kine is not statically linked" >&2; exit 1; fi
  "$out_kine/kine" --help >/dev/null
  rm -rf "$src"
  finish "$out_kine"
}

# go_install DIR CGO TAGS PACKAGE@VERSION...: build released commands by version.
go_install() {
  local dir=$1 cgo=$2 tags=$3; shift 3
  mkdir -p "$dir"
  for p in "$@"; do
    GOBIN=$dir CGO_ENABLED=$cgo go install -tags "$tags" -ldflags "-s -w" "$p"
  done
}

build_containerd() {
  # containerd 2 is module .../v2; k3s releases of 1.30 still bundle 1.7 (the module without /v2),
  # whose go.mod has exclude directives, which `go install pkg@version` refuses: both are built
  # from a copy of the released module, as its own main module.
  local m=github.com/containerd/containerd src=$KC_CACHE/src/containerd-$CONTAINERD_TAG dir p
  [[ $CONTAINERD_TAG == v1.* ]] || m+=/v2
  dir=$(kc_module_dir "$m@$CONTAINERD_TAG")
  rm -rf "$src"; cp -r "$dir" "$src"; chmod -R u+w "$src"
  mkdir -p "$out_containerd"
  for p in containerd containerd-shim-runc-v2 ctr; do
    (cd "$src" && CGO_ENABLED=0 go build -mod=mod -tags "no_btrfs no_devmapper no_zfs" \
      -ldflags "-s -w -X $m/version.Version=${CONTAINERD#v}" -o "$out_containerd/$p" "./cmd/$p")
  done
  rm -rf "$src"
  [[ $("$out_containerd/containerd" --version) == *" ${CONTAINERD#v} "* ]]
  finish "$out_containerd"
}

build_runc() {
  # cgo for runc's nsenter and for seccomp (containerd gives every pod sandbox a seccomp
  # profile). Linked statically, libseccomp and the C library included, so that it does not
  # depend on the build host's glibc: it runs on the node image's userspace, not the host's.
  if ! pkg-config --exists libseccomp 2>/dev/null || ! [ -f "$(pkg-config --variable=libdir libseccomp 2>/dev/null)/libseccomp.a" ]; then
    kc_apt_install libseccomp-dev pkg-config
  fi
  mkdir -p "$out_runc"
  GOBIN=$out_runc CGO_ENABLED=1 go install -tags "seccomp netgo osusergo" \
    -ldflags "-s -w -extldflags -static" "github.com/opencontainers/runc@$RUNC"
  # Static, or it would load the build host's C library on the node.
  if ldd "$out_runc/runc" >/dev/null 2>&1; then echo "runc is not statically linked" >&2; exit 1; fi
  "$out_runc/runc" --version | grep -q seccomp
  finish "$out_runc"
}

build_crictl() {
  go_install "$out_crictl" 0 "" "sigs.k8s.io/cri-tools/cmd/crictl@$CRITOOLS"
  finish "$out_crictl"
}

build_cni() {
  local m=github.com/containernetworking/plugins/plugins
  go_install "$out_cni" 0 "" "$m/main/bridge@$CNI" "$m/main/loopback@$CNI" "$m/ipam/host-local@$CNI" \
    "$m/meta/portmap@$CNI" "$m/meta/bandwidth@$CNI" "$m/meta/firewall@$CNI"
  finish "$out_cni"
}

build_flannel() {
  # k3s embeds flannel with a few backends; the module's own main imports every backend, and
  # one of them (tencentvpc) needs a module the proxy refuses. Build its main from a copy of
  # the released module with only the vxlan (k3s's default) and host-gw backends.
  local src=$KC_CACHE/src/flannel-$FLANNEL dir
  dir=$(kc_module_dir "github.com/flannel-io/flannel@$FLANNEL")
  rm -rf "$src"; cp -r "$dir" "$src"; chmod -R u+w "$src"
  sed -i -E '/_ "github.com\/flannel-io\/flannel\/pkg\/backend\/[a-z]+"/{/\/(vxlan|hostgw)"/!d}' "$src/main.go"
  grep -q 'pkg/backend/vxlan"' "$src/main.go"
  mkdir -p "$out_flannel"
  (cd "$src" && CGO_ENABLED=0 go build -ldflags "-s -w -X github.com/flannel-io/flannel/pkg/version.Version=$FLANNEL" -o "$out_flannel/flanneld" .)
  "$out_flannel/flanneld" --version 2>&1 | grep -q "$FLANNEL"
  finish "$out_flannel"
}

build_pause() {
  local src; src=$(kc_module_dir "k8s.io/kubernetes@v$VERSION")
  mkdir -p "$out_pause"
  gcc -Os -Wall -Werror -static -DVERSION="v$(field pause)-kube-claims" -o "$out_pause/pause" "$src/build/pause/linux/pause.c"
  strip "$out_pause/pause"
  finish "$out_pause"
}

build_registries() {
  local src=$KC_CACHE/src/registries
  scratch_module "$src" registries
  cp "$KC_ROOT/images/node/registries/main.go" "$src/main.go"
  cd "$src"
  go mod edit -require=sigs.k8s.io/yaml@v1.6.0
  go mod tidy
  mkdir -p "$out_registries"
  CGO_ENABLED=0 go build -ldflags "-s -w" -o "$out_registries/kube-claims-registries" .
  finish "$out_registries"
}

kc_say "node binaries for Kubernetes $VERSION (cache: $BIN)"
parts=${ONLY//,/ }
for part in $parts; do
  var=out_$part; [ -n "${!var:-}" ] || kc_die "--only: no part named $part"
done
for part in ${parts:-kube kubectl kubeadm kine containerd runc crictl cni flannel pause registries}; do
  var=out_$part
  if cached "${!var}"; then kc_say "stage 'build $part': cached (${!var})"; continue; fi
  kc_stage "build $part ($VERSION)" "build_$part"
done
