#!/usr/bin/env bash
# Build the Temporal CLI (it carries the development server) from Go modules, once, into
# .dirigent/tools/temporal-cli-<version>/ (git-ignored), and print the binary's path.
#
# On failure it says why on stderr, keeps the reason in .dirigent/tools/temporal-build.failed
# (the peers benchmark prints it and runs without Temporal) and exits 1.
#
# The version is pinned: v1.5.1 is the newest CLI that `go install pkg@version` can build.
# v1.9.1's go.mod has a `replace` directive (for its cliext module), which go install
# refuses outside a checkout. Override with TEMPORAL_CLI_VERSION=...
set -uo pipefail

VERSION="${TEMPORAL_CLI_VERSION:-v1.5.1}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOLS="$ROOT/.dirigent/tools"
DEST="$TOOLS/temporal-cli-$VERSION"
BIN="$DEST/temporal"
FAILED="$TOOLS/temporal-build.failed"
LOG="$DEST/build.log"
PACKAGE="github.com/temporalio/cli/cmd/temporal@$VERSION"

fail() {
  echo "bench-peers: Temporal is skipped: $1" >&2
  mkdir -p "$TOOLS" && printf '%s\n' "$1" >"$FAILED"
  exit 1
}

if [ -x "$BIN" ] && "$BIN" --version 2>/dev/null | grep -q "version ${VERSION#v} "; then
  rm -f "$FAILED"
  echo "$BIN"
  exit 0
fi

GO="$(command -v go || true)"
if [ -z "$GO" ] && [ -x /usr/local/go/bin/go ]; then GO=/usr/local/go/bin/go; fi
[ -n "$GO" ] || fail "no Go toolchain (no go on PATH, nor /usr/local/go/bin/go); the Temporal CLI $VERSION needs Go >= 1.25"

mkdir -p "$DEST"
build() {
  # The version stamp is what the CLI's release builds set; `temporal --version` shows it.
  GOBIN="$DEST" GOFLAGS="${GOFLAGS:--buildvcs=false}" "$GO" install \
    -ldflags "-X github.com/temporalio/cli/temporalcli.Version=${VERSION#v}" "$PACKAGE" >"$LOG" 2>&1
}
echo "bench-peers: building $PACKAGE with $("$GO" version | cut -d' ' -f3) (once; about 5 minutes on two cores)" >&2
if ! build; then
  # A module that needs a newer Go than the installed one: the approved toolchain, from the
  # Go module proxy like any module.
  if grep -q "requires go >=" "$LOG" && [ -z "${GOTOOLCHAIN:-}" ]; then
    echo "bench-peers: $PACKAGE needs a newer Go; retrying with GOTOOLCHAIN=go1.27.3" >&2
    export GOTOOLCHAIN=go1.27.3
    build || fail "go install $PACKAGE failed with GOTOOLCHAIN=go1.27.3: $(tail -n 3 "$LOG" | tr -s '\n\t' '  ')(log: $LOG)"
  else
    fail "go install $PACKAGE failed: $(tail -n 3 "$LOG" | tr -s '\n\t' '  ')(log: $LOG)"
  fi
fi
[ -x "$BIN" ] || fail "go install $PACKAGE reported success but $BIN is missing (log: $LOG)"
rm -f "$FAILED"
echo "$BIN"
