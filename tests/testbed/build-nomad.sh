#!/usr/bin/env bash
# Builds the REAL Nomad agent from its Go module through the Go module proxy,
# with the wrapper module in nomad-build/ (see its go.mod for why a wrapper).
# Usage: build-nomad.sh [VERSION|--previous]   (default: the install role's nomad_version)
# Each version has its wrapper in nomad-build/<version>/ with a committed go.sum.
# Cached: rebuilt only when the binary for that version is missing.
source "$(dirname "$0")/lib.sh"
case "${1:-}" in
  "") ;;
  --previous) NOMAD_VERSION=$NOMAD_PREVIOUS_VERSION ;;
  *) NOMAD_VERSION=$1 ;;
esac
WRAPPER="$TESTBED_DIR/nomad-build/$NOMAD_VERSION"
[ -f "$WRAPPER/go.mod" ] || { log "no wrapper module for nomad $NOMAD_VERSION in $WRAPPER"; exit 1; }

OUT_DIR="$CACHE_DIR/testbed/nomad/$NOMAD_VERSION"
OUT="$OUT_DIR/nomad"
if [ -x "$OUT" ] && "$OUT" version 2>/dev/null | head -1 | grep -qx "Nomad v$NOMAD_VERSION"; then
  log "nomad $NOMAD_VERSION already built: $OUT"
  exit 0
fi
command -v go >/dev/null || { log "Go is required to build Nomad (go1.25.8 or newer on PATH)"; exit 1; }
WANT=$(sed -n 's|^\s*github.com/hashicorp/nomad v\(.*\)$|\1|p' "$WRAPPER/go.mod")
[ "$WANT" = "$NOMAD_VERSION" ] || { log "$WRAPPER/go.mod requires nomad v$WANT, not $NOMAD_VERSION"; exit 1; }

mkdir -p "$OUT_DIR"
COMMIT=$(go mod download -json "github.com/hashicorp/nomad@v$NOMAD_VERSION" 2>/dev/null | sed -n 's/.*"Hash": "\(.*\)".*/\1/p' || true)
log "building nomad $NOMAD_VERSION (commit ${COMMIT:-unknown}); the first build takes several minutes"
cd "$WRAPPER" || exit 1
# -mod=readonly: go.sum (committed) pins every dependency; cgo like the official builds.
CGO_ENABLED=1 GOFLAGS=-mod=readonly go build -trimpath -o "$OUT.tmp" \
  -ldflags "-s -w -X github.com/hashicorp/nomad/version.GitCommit=${COMMIT:0:12}" \
  github.com/hashicorp/nomad
mv "$OUT.tmp" "$OUT"
"$OUT" version >&2
