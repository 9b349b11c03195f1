#!/usr/bin/env bash
# Installs the vegeta HTTP load generator (github.com/tsenart/vegeta, MIT) that
# bench/api-load.mjs runs beside autocannon, idempotently, and prints the
# binary's absolute path on stdout (progress goes to stderr).
#
# Why vegeta and not k6: k6 is AGPL-licensed and the project's package policy
# marks it not-to-use. vegeta is a Go module, so `go install` of an exact
# version builds it from the module proxy, checked against sum.golang.org.
#
# Everything lives in the project's cache, never in ~/go or /usr/local:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/sentinel/vegeta-<version>/vegeta   the binary (GOBIN)
#   ${XDG_CACHE_HOME:-$HOME/.cache}/sentinel/go/{mod,build,path}        module and build caches,
#                                                                        shared with test/interop/cose-go
# A second run finds the binary and only prints its path. VEGETA_VERSION overrides the pin.
set -euo pipefail

VERSION="${VEGETA_VERSION:-v12.13.0}"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/sentinel"
BIN_DIR="$CACHE/vegeta-$VERSION"
BIN="$BIN_DIR/vegeta"

if [[ -x "$BIN" ]] && "$BIN" -version >/dev/null 2>&1; then
  echo "$BIN"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "install-vegeta: Go is not installed (need go >= 1.22 on PATH to build vegeta $VERSION)" >&2
  exit 1
fi

mkdir -p "$BIN_DIR" "$CACHE/go/mod" "$CACHE/go/build" "$CACHE/go/path"
echo "install-vegeta: go install github.com/tsenart/vegeta/v12@$VERSION -> $BIN_DIR" >&2
env GOBIN="$BIN_DIR" \
  GOPATH="$CACHE/go/path" \
  GOMODCACHE="$CACHE/go/mod" \
  GOCACHE="$CACHE/go/build" \
  GOTOOLCHAIN=local \
  GOFLAGS= \
  CGO_ENABLED=0 \
  go install "github.com/tsenart/vegeta/v12@$VERSION" >&2

if ! [[ -x "$BIN" ]]; then
  echo "install-vegeta: go install finished but $BIN is missing" >&2
  exit 1
fi
echo "$BIN"
