#!/usr/bin/env bash
# Shows that the cgroup v2 check's verdict key (scripts/ci/cgroup-v2-check.sh) is complete: in a copy
# of the checkout, one input of each kind is changed and the check must decide to run again (its
# --dry-run: no passing verdict for the new key), while a change to what it does not run (the
# README, a suite file whose claims it does not run) must leave the key as it was. Kinds: the node
# image's content, the VM's base disk (another build of it), a guest script, the claims it runs
# (the catalogue, a suite file that holds them), the harness code they load. Takes seconds.
#   usage: scripts/ci/cgroup-v2-key-check.sh [--steps STEPS] [KUBERNETES_VERSION]   (--steps as CI runs the check)
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$KC_ROOT"
steps=(--steps "smoke,side-by-side,suite")
if [ "${1:-}" = --steps ]; then steps=(--steps "${2:?--steps needs a list}"); shift 2; fi
version=$(kc_version_field "${1:-$(kc_default_version)}" kubernetes)
node_image=kube-claims/node:v$version
kc_need_docker
docker image inspect "$node_image" >/dev/null 2>&1 || kc_die "no image $node_image; build it with: bash scripts/build/images.sh $version"

work=$(mktemp -d "${TMPDIR:-/tmp}/kube-claims-key-check-XXXXXX")
derived=kube-claims/key-check:$$
cleanup() { rm -rf "$work"; docker rmi -f "$derived" >/dev/null 2>&1 || true; }
trap cleanup EXIT

# copy: a fresh copy of the checkout's files (tracked and new, as the check's tarball takes them).
copy() {
  rm -rf "$work/checkout"; mkdir -p "$work/checkout"
  git ls-files -z -co --exclude-standard | tar --null -T - -cf - | tar -C "$work/checkout" -xf -
  ln -s "$KC_ROOT/node_modules" "$work/checkout/node_modules"
}
key_of() { (cd "$work/checkout" && bash scripts/ci/cgroup-v2-check.sh --key "${steps[@]}" "$@" "$version" | sed -n 's/^key //p'); }
decision_of() { (cd "$work/checkout" && bash scripts/ci/cgroup-v2-check.sh --dry-run "${steps[@]}" "$@" "$version"); }

copy
base=$(key_of)
[ "$base" = "$(bash scripts/ci/cgroup-v2-check.sh --key "${steps[@]}" "$version" | sed -n 's/^key //p')" ] ||
  kc_die "the key of a copy differs from the checkout's: the key depends on where the checkout is"
kc_say "key check: the checkout's key is $base; $(decision_of)"

status=0
rows=()
# expect CHANGE WANT [CHECK-OPTIONS...]: the key after the change (made in the copy) must differ
# (WANT=runs) or stay (WANT=same).
expect() {
  local change=$1 want=$2 key decision; shift 2
  key=$(key_of "$@")
  decision=$(decision_of "$@")
  if { [ "$want" = runs ] && [ "$key" != "$base" ] && [[ $decision == *"would run"* ]]; } ||
     { [ "$want" = same ] && [ "$key" = "$base" ]; }; then
    rows+=("ok	$change	$key	$decision")
  else
    rows+=("WRONG	$change	$key	$decision (wanted: $want)"); status=1
  fi
  copy
}

# The node image's content: the same image with one label more (another image ID).
printf 'FROM %s\nLABEL kube-claims.key-check=%s\n' "$node_image" "$$" | docker build -q -t "$derived" - >/dev/null 2>&1
expect "node image: $node_image with a label added" runs --image "$derived"

# The VM's base disk: another build of it (same inputs, a new disk), seen through a cache whose
# disk has another identity.
disk=$(bash scripts/vm/vm.sh disk-id --no-build)
[[ $disk != unbuilt-* ]] || kc_die "the VM's base disk is not built ($disk); build it with: bash scripts/vm/vm.sh build"
disk_dir=$(cut -d- -f1,2 <<<"$disk")
mkdir -p "$work/cache/vm/$disk_dir"
echo "$disk_dir-rebuilt-by-key-check" >"$work/cache/vm/$disk_dir/disk-id"
key=$(cd "$work/checkout" && KUBE_CLAIMS_CACHE=$work/cache bash scripts/ci/cgroup-v2-check.sh --key "${steps[@]}" "$version" | sed -n 's/^key //p')
if [ "$key" != "$base" ]; then rows+=("ok	VM base disk: another build ($disk_dir)	$key	(another cache: no verdict there)")
else rows+=("WRONG	VM base disk: another build	$key	the key did not change"); status=1; fi

echo '# key check' >>"$work/checkout/scripts/vm/guest.sh"
expect 'guest script: scripts/vm/guest.sh' runs
sed -i 's/^SUITE=bookworm/SUITE=trixie/' "$work/checkout/scripts/vm/vm.sh"
expect "VM base disk's inputs: Debian trixie in scripts/vm/vm.sh" runs
echo '# key check' >>"$work/checkout/claims/ch02.yaml"
expect 'claims: claims/ch02.yaml' runs
echo '// key check' >>"$work/checkout/suites/2.4-working-with-apps.test.ts"
expect 'claims: suites/2.4 (holds logs-relayed)' runs
echo '// key check' >>"$work/checkout/helpers/verbs/wait.ts"
expect 'harness: helpers/verbs/wait.ts' runs
echo '// key check' >>"$work/checkout/scripts/ci/side-by-side.ts"
expect 'harness: scripts/ci/side-by-side.ts' runs
sed -i 's/"vitest": "[^"]*"/"vitest": "0.0.0-key-check"/' "$work/checkout/package-lock.json"
expect 'packages: package-lock.json' runs
echo 'key check' >>"$work/checkout/README.md"
expect 'not run by it: README.md' same
echo '// key check' >>"$work/checkout/suites/2.6-lab.test.ts"
expect 'not run by it: suites/2.6 (none of its claims)' same

printf '%s\n' "${rows[@]}" | awk -F'\t' '{ printf "  %-6s %-52s %s  %s\n", $1, $2, $3, $4 }' >&2
[ "$status" = 0 ] && kc_say "key check: passed (each kind of input changes the key; the rest leaves it)"
exit "$status"
