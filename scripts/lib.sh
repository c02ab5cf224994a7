# shellcheck shell=bash
# Shared helpers for the image and engine scripts. Source it; do not run it.
# Stages print what they do and how long they took; a failed stage names itself and shows
# the last lines of its command's output, which is kept in full under $KC_LOG_DIR.

KC_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# KC_CACHE, KC_RUN_LABEL, KC_BOOT_TIMEOUT: the harness's own values (helpers/facts.mjs).
command -v node >/dev/null || { printf '[kube-claims] error: needs Node.js (node), see the README\n' >&2; exit 1; }
eval "$(node "$KC_ROOT/helpers/facts.mjs" shell)"
KC_LOG_DIR=$KC_CACHE/logs
mkdir -p "$KC_CACHE" "$KC_LOG_DIR"

kc_say() { printf '[kube-claims] %s\n' "$*" >&2; }
kc_die() { printf '[kube-claims] error: %s\n' "$*" >&2; exit 1; }

# kc_stage NAME COMMAND...: run COMMAND with its output in a log file, print the duration.
kc_stage() {
  local name=$1; shift
  local log
  log="$KC_LOG_DIR/$(printf '%s' "$name" | tr -c 'A-Za-z0-9._-' '_').log"
  local start=$SECONDS
  kc_say "stage '$name': started (log: $log)"
  # A subshell outside any `if`, so that `set -e` holds inside the stage's functions.
  local rc=0
  set +e
  (set -e; "$@") >"$log" 2>&1
  rc=$?
  set -e
  if [ "$rc" = 0 ]; then
    kc_say "stage '$name': done in $((SECONDS - start))s"
  else
    kc_say "stage '$name': FAILED after $((SECONDS - start))s (exit $rc): $*"
    kc_say "last lines of $log:"
    tail -n 25 "$log" | sed 's/^/    /' >&2
    exit "$rc"
  fi
}

# kc_daemon LOG COMMAND...: start COMMAND detached (its own session, stdin /dev/null, output
# appended to LOG) with no file descriptor of ours but 0-2. A daemon that inherited build.lock's
# descriptor would hold the build lock for its whole life: a dockerd started by build/images.sh
# made every later build wait forever (CI ran into its time limit on it). `$!` is the daemon's pid
# only when COMMAND is a program run directly (not a shell function such as sudo wrappers).
kc_daemon() {
  local log=$1; shift
  (
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      if [ "$fd" -gt 2 ]; then eval "exec $fd>&-"; fi
    done
    exec setsid nohup "$@" >>"$log" 2>&1 </dev/null
  ) &
}

# kc_version_field K8S_VERSION FIELD: a field of images/versions.json for that Kubernetes version.
kc_version_field() { node "$KC_ROOT/helpers/facts.mjs" version "$1" "$2"; }
# kc_source_version K8S_VERSION FIELD: the upstream tag that component is built from.
kc_source_version() { node "$KC_ROOT/helpers/facts.mjs" source "$1" "$2"; }

kc_default_version() { node "$KC_ROOT/helpers/facts.mjs" default-version; }

kc_need_docker() {
  docker info >/dev/null 2>&1 || kc_die "the Docker engine is not reachable (docker info failed); run: bash scripts/host/docker-engine.sh"
}

# kc_apt_install PACKAGE...: install Debian packages (as root, or with sudo); refresh the
# package lists once if the first attempt fails (a new machine may have none).
kc_apt_install() {
  command -v apt-get >/dev/null || kc_die "needs the Debian package(s) $*; install them, or their equivalent"
  local sudo=(); [ "$(id -u)" = 0 ] || sudo=(sudo)
  local env=(env DEBIAN_FRONTEND=noninteractive)
  "${sudo[@]}" "${env[@]}" apt-get install -y "$@" >>"$KC_LOG_DIR/apt.log" 2>&1 && return 0
  kc_say "apt-get install $* failed; refreshing package lists and trying again"
  "${sudo[@]}" "${env[@]}" apt-get update >>"$KC_LOG_DIR/apt.log" 2>&1 &&
    "${sudo[@]}" "${env[@]}" apt-get install -y "$@" >>"$KC_LOG_DIR/apt.log" 2>&1 ||
    kc_die "could not install $* (log: $KC_LOG_DIR/apt.log)"
}

# kc_static_busybox: the path of a statically linked busybox (Debian: busybox-static), which
# the probe and fixture images are made of, installing it if needed.
kc_static_busybox() {
  local bb; bb=$(command -v busybox || true)
  if [ -z "$bb" ] || ldd "$bb" >/dev/null 2>&1; then
    kc_apt_install busybox-static
    bb=$(command -v busybox)
  fi
  echo "$bb"
}

# kc_module_dir MODULE@VERSION: the module's source folder in Go's module cache, downloaded if need
# be. A module whose hash images/versions.json pins (pinnedSums: the proxy serves it, the checksum
# database has no entry for it) is downloaded without the database, and refused unless its hash is
# the pinned one.
kc_module_dir() {
  local mv=$1 pinned got
  pinned=$(node "$KC_ROOT/helpers/facts.mjs" pinned-sum "$mv")
  got=$(cd "$KC_CACHE" && GONOSUMDB=${pinned:+${mv%@*}} go mod download -json "$mv" 2>&1) ||
    kc_die "go mod download $mv failed: $got"
  if [ -n "$pinned" ] && [[ $got != *"\"Sum\": \"$pinned\""* ]]; then
    kc_die "$mv from the Go module proxy does not have the hash pinned in images/versions.json ($pinned): $got"
  fi
  sed -n 's/.*"Dir": "\(.*\)",/\1/p' <<<"$got"
}

# kc_kube_module DIR VERSION: a new Go module in DIR that requires k8s.io/kubernetes@vVERSION, its
# staging modules (local paths in its go.mod) replaced by their published copies of the same
# release (v0.MINOR.PATCH), or by the patch versions.json names where the proxy refuses that one
# (stagingFrom). Shared by the node's binaries and e2e.test (build/conformance.sh).
kc_kube_module() {
  local src=$1 version=$2
  rm -rf "$src"; mkdir -p "$src"
  (
    cd "$src"
    go mod init kube-claims.local/kube >/dev/null 2>&1
    go mod download -json "k8s.io/kubernetes@v$version" >/dev/null
    local modfile; modfile=$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/v$version.mod
    go mod edit -require="k8s.io/kubernetes@v$version"
    grep -oE '^\s*k8s\.io/[a-z0-9-]+ => \./staging' "$modfile" | awk '{print $1}' | while read -r m; do
      go mod edit -replace="$m=$m@v0.${version#1.}"
    done
    node "$KC_ROOT/helpers/facts.mjs" staging "$version" | while read -r m v; do
      go mod edit -replace="$m=$m@$v"
    done
  )
}

# kc_kube_ldflags VERSION: the version stamps `kubectl version` and friends print.
kc_kube_ldflags() {
  local ld="-s -w" minor; minor=$(echo "$1" | cut -d. -f2)
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $pkg.gitVersion=v$1 -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  echo "$ld"
}
