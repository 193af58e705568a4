#!/usr/bin/env bash
# Build the deploy-check tools (helm, kubeconform, actionlint) from Go modules, once each,
# into .dirigent/tools/<name>-<version>/ (git-ignored), and print the binaries' folder.
#
#   bash deploy/tools/build_tools.sh            # all three
#   bash deploy/tools/build_tools.sh helm       # one
#
# Gentle on a small machine: one package built at a time (GOFLAGS=-p=1 unless set). On
# failure it says why on stderr, keeps the build log next to the tool and exits 1.
# Versions are pinned (a new release of a checker must not turn a green tree red);
# override with HELM_VERSION=..., KUBECONFORM_VERSION=..., ACTIONLINT_VERSION=...
set -uo pipefail

HELM_VERSION="${HELM_VERSION:-v3.22.0}"
KUBECONFORM_VERSION="${KUBECONFORM_VERSION:-v0.8.0}"
ACTIONLINT_VERSION="${ACTIONLINT_VERSION:-v1.7.12}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOLS="$ROOT/.dirigent/tools"
BINDIR="$TOOLS/bin"

fail() {
  echo "deploy-check: $1" >&2
  exit 1
}

GO="$(command -v go || true)"
if [ -z "$GO" ] && [ -x /usr/local/go/bin/go ]; then GO=/usr/local/go/bin/go; fi
[ -n "$GO" ] || fail "no Go toolchain (no go on PATH, nor /usr/local/go/bin/go): cannot build the deploy-check tools"
export GOFLAGS="${GOFLAGS:--buildvcs=false -p=1}"

# build NAME VERSION PACKAGE LDFLAGS: go install into $TOOLS/NAME-VERSION, link into $BINDIR.
build() {
  local name="$1" version="$2" package="$3" ldflags="$4"
  local dest="$TOOLS/$name-$version"
  local bin="$dest/$name" log="$dest/build.log"
  mkdir -p "$dest" "$BINDIR"
  if [ ! -x "$bin" ]; then
    echo "deploy-check: building $package@$version with $("$GO" version | cut -d' ' -f3) (once)" >&2
    if ! GOBIN="$dest" "$GO" install -ldflags "$ldflags" "$package@$version" >"$log" 2>&1; then
      fail "go install $package@$version failed: $(tail -n 3 "$log" | tr -s '\n\t' '  ')(log: $log)"
    fi
    [ -x "$bin" ] || fail "go install $package@$version reported success but $bin is missing"
  fi
  ln -sf "$bin" "$BINDIR/$name"
}

want="${*:-helm kubeconform actionlint}"
for tool in $want; do
  case "$tool" in
    helm) build helm "$HELM_VERSION" helm.sh/helm/v3/cmd/helm \
            "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" || exit 1 ;;
    kubeconform) build kubeconform "$KUBECONFORM_VERSION" \
            github.com/yannh/kubeconform/cmd/kubeconform "-X main.version=$KUBECONFORM_VERSION" || exit 1 ;;
    actionlint) build actionlint "$ACTIONLINT_VERSION" github.com/rhysd/actionlint/cmd/actionlint \
            "-X github.com/rhysd/actionlint.version=$ACTIONLINT_VERSION" || exit 1 ;;
    *) fail "unknown tool $tool (helm, kubeconform, actionlint)" ;;
  esac
done
echo "$BINDIR"
