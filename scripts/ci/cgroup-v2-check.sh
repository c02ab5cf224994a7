#!/usr/bin/env bash
# The offline node image on a cgroup v2 host: boots a Debian VM with the unified hierarchy
# (scripts/vm/vm.sh), loads the node and fixture images into it, and inside runs the smoke check,
# then two nodes side by side (two smoke checks at once: boot, a pod, its page, a clean stop),
# then the suite on a subset of the claims (boot, Pods, exec, logs, port-forward, node-level
# crictl steps, controllers), then checks that no container, node cgroup or Docker cgroup
# remains. The checkout is copied onto the VM's own disk first: module loading over the shared
# folder is too slow under emulation.
#   usage: scripts/ci/cgroup-v2-check.sh [--steps smoke,side-by-side,suite] [--cpus N] [KUBERNETES_VERSION]
#                                [--image NODE_IMAGE] [--force | --dry-run | --key] [KUBERNETES_VERSION]
# (--steps: which checks to run, default all three; the leftovers check always runs)
# Our machines are cgroup v1; GitHub's runners and most laptops are v2.
#
# A passing verdict is kept in the cache under a key made of everything the check runs: the
# node and fixture images' content (their image IDs), the VM's base disk (its build) and the
# scripts that run in and around the VM, the steps, the claims and every project file the
# claims and scripts load (scripts/ci/inputs.ts). While the key matches a passing verdict, the
# check prints one line and does not run: the practice of build systems that cache test results
# (a result is reused only for exactly the same inputs). --force runs it anyway; --dry-run says
# whether it would run; --key prints the key and what it is made of (scripts/ci/cgroup-v2-key-check.sh
# changes one input of each kind and shows the key change).
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

# The claims the suite run checks (a vitest -t pattern): one or two of each kind, from two suite
# files (each file's imports cost minutes under emulation). Pods and their shared network; a
# container removed with crictl and replaced by the kubelet (node-level, cgroups of a restarted
# container); port-forward; exec; logs as the runtime wrote them (node-level).
CLAIMS='pod-shares-network|container-replaced:|port-forward-pod|exec-in-pod|logs-relayed'

# Scripts run with plain node in the VM, compiled to JavaScript beside their sources (the VM's
# copy of the checkout) by esbuild, as vitest compiles the suite: there tsx's launcher (node
# starting node with loader hooks) ended at once with SIGSEGV and no output, twice in a row on
# 2026-12-06 (and once in stop 33), where vitest in the same VM ran.
compile_ts() {
  # shellcheck disable=SC2046 # one path per word
  node_modules/.bin/esbuild $(find helpers scripts -name '*.ts') --outdir=. --outbase=. \
    --platform=node --format=esm --log-level=warning || kc_die "esbuild could not compile the scripts"
}

inside() {
  local version=$1 steps=$2 status=0
  compile_ts
  export KUBE_CLAIMS_NODE_IMAGE
  [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] || kc_die "this is not a cgroup v2 host"
  # Clusters kept here are the VM's own: the cache is the host's, shared, and its kept records
  # name containers of the host's engine, which a run here would find gone and remove.
  mkdir -p "$KC_CACHE/kept" && mount -t tmpfs kube-claims-kept "$KC_CACHE/kept" || kc_die "could not give the VM a kept-clusters folder of its own"
  kc_say "inside the VM: cgroup v2, $(nproc) CPUs, Docker $(docker info --format '{{.ServerVersion}} (cgroup {{.CgroupVersion}}, driver {{.CgroupDriver}})')"
  local scopes_before; scopes_before=$(find /sys/fs/cgroup -maxdepth 2 -name 'docker-*.scope' | wc -l)
  local started=$SECONDS
  # Emulated CPU (about 5x slower): every allowance stretched (a boot alone took 113 to 350 s there).
  export KUBE_CLAIMS_BOOT_TIMEOUT=1200 KUBE_CLAIMS_TIME_SCALE=5
  if [[ ,$steps, == *,smoke,* ]]; then
    node scripts/ci/smoke.js "$version" "$KUBE_CLAIMS_NODE_IMAGE" || status=1
    kc_say "one node: $((SECONDS - started))s"
  fi
  # Two clusters side by side, each with a pod, neither touching the other's (scripts/ci/side-by-side.ts).
  # B boots once A is up, not beside A's boot: two boots at once starved the emulated CPU, and
  # each boot's allowance then depended on the other's pace (boots of 313 to 580 s, TLS handshake
  # timeouts, add-on manifests given up). The suite runs after them, alone, for the same reason:
  # on cluster A, kept for it (KUBE_CLAIMS_REUSE) once B is gone, rather than on a third boot.
  started=$SECONDS
  local reuse=false
  [[ ,$steps, != *,suite,* ]] || reuse=true
  if [[ ,$steps, == *,side-by-side,* ]]; then
    local rc=0
    KUBE_CLAIMS_REUSE=$reuse node scripts/ci/side-by-side.js "$version" >"$KC_LOG_DIR/v2-side-by-side.log" 2>&1 || rc=$?
    # Once (stop 33's VM2), it ended after 10 s having printed nothing: no cluster was started, so
    # nothing was done that running it again could repeat. Only then is it run again, once.
    if [ "$rc" != 0 ] && ! grep -q 'starting' "$KC_LOG_DIR/v2-side-by-side.log"; then
      kc_say "side by side: ended (exit $rc) before starting anything, with no output; running it again"
      rc=0
      KUBE_CLAIMS_REUSE=$reuse node scripts/ci/side-by-side.js "$version" >"$KC_LOG_DIR/v2-side-by-side.log" 2>&1 || rc=$?
    fi
    [ "$rc" = 0 ] || { status=1; kc_say "side by side: failed (exit $rc$( [ "$rc" -gt 128 ] && echo ", signal $((rc - 128))"))"; tail -n 40 "$KC_LOG_DIR/v2-side-by-side.log" >&2; }
    kc_say "two clusters side by side: $((SECONDS - started))s; $(grep -h '^boot' "$KC_LOG_DIR"/v2-side-by-side.log | tr '\n' ' ')"
    # The suite's allowances stretch as far as the side-by-side boots' pace did (never below 5).
    local paced; paced=$(sed -n 's/^time scale: //p' "$KC_LOG_DIR/v2-side-by-side.log" | tail -n 1)
    if [ -n "$paced" ] && awk -v p="$paced" -v s="$KUBE_CLAIMS_TIME_SCALE" 'BEGIN { exit !(p > s && p <= 100) }'; then
      KUBE_CLAIMS_TIME_SCALE=$paced
      kc_say "the suite's allowances stretched to the boots' pace: time scale $paced"
    fi
    started=$SECONDS
  fi
  # The suite, fewer tests at once and a longer boot allowance (emulated CPU); on the cluster
  # side by side kept, or (without that step, or should it be unhealthy) on one it boots.
  if [[ ,$steps, == *,suite,* ]]; then
    env KUBE_CLAIMS_IMAGES=offline KUBE_CLAIMS_K8S_VERSION="$version" KUBE_CLAIMS_WORKERS=2 KUBE_CLAIMS_CONCURRENCY=2 KUBE_CLAIMS_REUSE=true \
      node_modules/.bin/vitest run --project 'k8s-*' -t "$CLAIMS" >"$KC_LOG_DIR/v2-suite.log" 2>&1 ||
      { status=1; kc_say "the suite failed (log: $KC_LOG_DIR/v2-suite.log)"; sed 's/\x1b\[[0-9;]*m//g' "$KC_LOG_DIR/v2-suite.log" | tail -n 60 >&2; }
    kc_say "suite: $((SECONDS - started))s; $(grep -h 'kube-claims\] \(cluster ready\|reusing cluster\|Kubernetes .*passed\)' "$KC_LOG_DIR/v2-suite.log" | tr '\n' ' ')"
    sed 's/\x1b\[[0-9;]*m//g' "$KC_LOG_DIR/v2-suite.log" | grep -E '^ +[✓×↓] ' | grep -v skipped >&2 || true
  fi
  # The cluster kept for the suite goes now (with the run's own, nothing else is kept in the VM).
  if [ -n "$(ls "$KC_CACHE/kept" 2>/dev/null)" ]; then bash scripts/remove-kept.sh --all >&2 || status=1; fi
  # Nothing left: containers, the node's cgroups, the containers' own cgroups.
  local left; left=$(docker ps -aq --filter "label=$KC_RUN_LABEL" | wc -l)
  [ "$left" = 0 ] || { kc_say "containers left: $left"; status=1; }
  [ ! -e /sys/fs/cgroup/kube-claims ] || { kc_say "node cgroups left: $(find /sys/fs/cgroup/kube-claims | head)"; status=1; }
  local scopes_after; scopes_after=$(find /sys/fs/cgroup -maxdepth 2 -name 'docker-*.scope' | wc -l)
  [ "$scopes_after" -le "$scopes_before" ] || { kc_say "Docker cgroups left: $scopes_after (before: $scopes_before)"; status=1; }
  [ "$status" = 0 ] && kc_say "cgroup v2: passed ($steps); nothing left behind"
  return "$status"
}

# What the key is made of, one line each (a name, then its value or hash).
key_parts() {
  local version=$1 steps=$2 image=$3 disk_id=$4 name id f
  printf 'steps %s\nclaims %s\n' "$steps" "$CLAIMS"
  for name in "$image" kube-claims/hello:ch02 kube-claims/whoami:ch02; do
    id=$(docker image inspect --format '{{.Id}}' "$name" 2>/dev/null) || id=absent
    printf 'image %s %s\n' "$name" "$id"
  done
  printf 'vm-disk %s\n' "$disk_id"
  # The scripts in and around the VM, and what the claims and scripts load.
  for f in scripts/ci/cgroup-v2-check.sh scripts/vm/vm.sh scripts/vm/guest.sh scripts/lib.sh; do
    printf 'file %s %s\n' "$f" "$(sha256sum "$KC_ROOT/$f" | cut -c1-16)"
  done
  (cd "$KC_ROOT" && node_modules/.bin/tsx scripts/ci/inputs.ts "$CLAIMS" scripts/ci/smoke.ts scripts/ci/side-by-side.ts) |
    while read -r f; do printf 'file %s %s\n' "$f" "$(sha256sum "$KC_ROOT/$f" | cut -c1-16)"; done
  # Every part must be known: a key made without one would match what it should not.
  [ "${PIPESTATUS[0]}" = 0 ] || kc_die "could not list the files the claims load (scripts/ci/inputs.ts)"
}

main() {
  if [ "${1:-}" = --inside ]; then KUBE_CLAIMS_NODE_IMAGE=$4 inside "$2" "$3"; return; fi
  local steps=smoke,side-by-side,suite cpus=2 image='' mode=run
  local usage="usage: scripts/ci/cgroup-v2-check.sh [--steps smoke,side-by-side,suite] [--cpus N] [--image NODE_IMAGE] [--force|--dry-run|--key] [VERSION]"
  while [ $# -gt 0 ]; do
    case $1 in
      --steps) [[ ${2:-} =~ ^(smoke|side-by-side|suite)(,(smoke|side-by-side|suite))*$ ]] || kc_die "--steps takes a comma-separated list of smoke, side-by-side, suite"; steps=$2; shift 2 ;;
      --cpus) [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || kc_die "--cpus needs a number"; cpus=$2; shift 2 ;;
      --image) [ -n "${2:-}" ] || kc_die "--image needs a node image (NAME:TAG)"; image=$2; shift 2 ;;
      --force) mode=force; shift ;;
      --dry-run) mode=dry-run; shift ;;
      --key) mode=key; shift ;;
      -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; return ;;
      -*) kc_die "unknown option $1 ($usage)" ;;
      *) break ;;
    esac
  done
  local version; version=$(kc_version_field "${1:-$(kc_default_version)}" kubernetes)
  image=${image:-kube-claims/node:v$version}
  cd "$KC_ROOT"
  [ -d node_modules ] || npm ci --no-audit --no-fund
  # The key, from what would run: the images built (or found current) and the VM's disk built
  # first, unless only asked for the key (then an absent disk is "unbuilt").
  local disk_id
  if [ "$mode" = key ] || [ "$mode" = dry-run ]; then
    disk_id=$(bash scripts/vm/vm.sh disk-id --no-build)
  else
    [ "$image" != "kube-claims/node:v$version" ] || bash "$KC_ROOT/scripts/build/images.sh" "$version" >&2
    disk_id=$(bash scripts/vm/vm.sh disk-id)
  fi
  local parts key verdict
  parts=$(key_parts "$version" "$steps" "$image" "$disk_id")
  key=$(sha256sum <<<"$parts" | cut -c1-16)
  verdict=$KC_CACHE/verdicts/cgroup-v2/$key
  if [ "$mode" = key ]; then printf 'key %s\n%s\n' "$key" "$parts"; return; fi
  if [ -f "$verdict" ] && [ "$mode" != force ]; then
    echo "cgroup v2 check: passed on $(sed -n 's/^date //p' "$verdict") for $key (nothing it checks changed)"
    return
  fi
  if [ "$mode" = dry-run ]; then echo "cgroup v2 check: would run (no passing verdict for $key)"; return; fi
  kc_say "cgroup v2 check: running for $key ($([ "$mode" = force ] && echo '--force' || echo 'no passing verdict for these inputs'))"
  docker image inspect "$image" >/dev/null 2>&1 || kc_die "no image $image in the Docker engine"

  # The checkout as one file in the shared cache; unpacked on the VM's disk.
  local tarball=$KC_CACHE/vm/checkout.tar
  mkdir -p "$(dirname "$tarball")"
  tar -C "$KC_ROOT" --exclude=./.git --exclude=./reports -cf "$tarball" .
  # shellcheck disable=SC2064 # the path now: $tarball is local to main, gone by EXIT
  trap "rm -f '$tarball'" EXIT
  local started=$SECONDS rc=0
  # In the background, so that a signal to this script alone (a CI timeout) reaches vm.sh,
  # which stops the VM; bash would otherwise wait for it to finish first.
  bash scripts/vm/vm.sh run --timeout 3600 --cpus "$cpus" \
    --image "$image" --image kube-claims/hello:ch02 --image kube-claims/whoami:ch02 \
    -- bash -c "mkdir -p /root/kube-claims && tar -C /root/kube-claims -xf '$tarball' && cd /root/kube-claims && bash scripts/ci/cgroup-v2-check.sh --inside $version $steps $image" &
  VM_PID=$!
  trap 'stop_vm TERM 143' TERM
  trap 'stop_vm INT 130' INT
  wait "$VM_PID" || rc=$?
  [ "$rc" = 0 ] || return "$rc"
  # Kept only for a pass: a failure is run again next time.
  mkdir -p "$(dirname "$verdict")"
  printf 'date %s\nseconds %s\nversion %s\n%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$((SECONDS - started))" "$version" "$parts" >"$verdict"
  kc_say "cgroup v2 check: passed in $((SECONDS - started))s; verdict kept for $key ($verdict)"
}

# stop_vm SIGNAL STATUS: pass the signal on to vm.sh, wait for it to stop the VM, and exit.
stop_vm() {
  kc_say "$1: stopping the VM"
  kill -"$1" "$VM_PID" 2>/dev/null || true
  wait "$VM_PID" 2>/dev/null || true
  exit "$2"
}

main "$@"
