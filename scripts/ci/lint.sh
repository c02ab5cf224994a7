#!/usr/bin/env bash
# The project's lint step: TypeScript (strict) and the GitHub Actions workflows (actionlint,
# built from the Go module proxy once and cached by version).
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

ACTIONLINT_VERSION=v1.7.12
bin=$KC_CACHE/bin/actionlint-$ACTIONLINT_VERSION
if [ ! -x "$bin/actionlint" ]; then
  command -v go >/dev/null || kc_die "actionlint is built with Go (go.dev/dl)"
  kc_stage "build actionlint $ACTIONLINT_VERSION" env GOBIN="$bin" CGO_ENABLED=0 GOTOOLCHAIN=local \
    go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
fi
cd "$KC_ROOT"
npx tsc --noEmit -p .
"$bin/actionlint" -no-color
bash -n scripts/*.sh scripts/*/*.sh .ci/run images/node/k3s images/node/parts/*.sh images/node/ctr
command -v shellcheck >/dev/null || kc_apt_install shellcheck
shellcheck -S warning scripts/*.sh scripts/*/*.sh .ci/run images/node/ctr helpers/fixtures/*.sh
# The node's entrypoint with the parts it sources, checked in its context (-x follows them, -a reports in them).
shellcheck -S warning -x -a images/node/k3s
kc_say "lint passed (tsc, actionlint $ACTIONLINT_VERSION, bash -n, shellcheck $(shellcheck --version | sed -n 's/^version: //p'))"
