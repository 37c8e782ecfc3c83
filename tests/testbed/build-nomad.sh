#!/usr/bin/env bash
# Builds the REAL Nomad agent from its Go module through the Go module proxy,
# with the wrapper module in nomad-build/ (see its go.mod for why a wrapper).
# Usage: build-nomad.sh [VERSION|--previous]   (default: the test bed's NOMAD_VERSION, lib.sh)
# Each version has its wrapper in nomad-build/<version>/ with a committed go.sum.
# Only an open-source Nomad is built: the downloaded module's LICENSE must be
# the Mozilla Public License 2.0 (Nomad 1.7.0 and later are BUSL-1.1).
# Cached: rebuilt only when the binary for that version is missing or was
# built another way (BUILD below, kept next to the binary).
source "$(dirname "$0")/lib.sh"
case "${1:-}" in
  "") ;;
  --previous) NOMAD_VERSION=$NOMAD_PREVIOUS_VERSION ;;
  *) NOMAD_VERSION=$1 ;;
esac
WRAPPER="${HARDENED_NOMAD_BUILD_WRAPPERS:-$TESTBED_DIR/nomad-build}/$NOMAD_VERSION"
[ -f "$WRAPPER/go.mod" ] || { log "no wrapper module for nomad $NOMAD_VERSION in $WRAPPER"; exit 1; }

OUT_DIR="$CACHE_DIR/testbed/nomad/$NOMAD_VERSION"
OUT="$OUT_DIR/nomad"
# cgo like the official builds, but linked statically, with Go's own DNS and
# user lookups (so no NSS module is loaded at run time): one binary that runs on
# every Debian release of the test bed. Linked against this machine's glibc
# (2.36 on Debian 12) it needs GLIBC_2.34 and does not start on Debian 11 (2.31).
BUILD="cgo static tags=netgo,osusergo"
if [ -x "$OUT" ] && [ "$(cat "$OUT_DIR/build" 2>/dev/null)" = "$BUILD" ] \
   && "$OUT" version 2>/dev/null | head -1 | grep -qx "Nomad v$NOMAD_VERSION"; then
  log "nomad $NOMAD_VERSION already built: $OUT"
  exit 0
fi
command -v go >/dev/null || { log "Go is required to build Nomad (go1.21 or newer on PATH)"; exit 1; }
WANT=$(sed -n 's|^\(require\)\{0,1\}\s*github.com/hashicorp/nomad v\([^ ]*\).*$|\2|p' "$WRAPPER/go.mod" | head -1)
[ "$WANT" = "$NOMAD_VERSION" ] || { log "$WRAPPER/go.mod requires nomad v$WANT, not $NOMAD_VERSION"; exit 1; }

# The licence decides, not the version number: read the LICENSE file of the
# module the proxy serves, every time, before anything is compiled.
INFO=$(cd "$WRAPPER" && go mod download -json "github.com/hashicorp/nomad@v$NOMAD_VERSION") || {
  log "the Go module proxy did not serve github.com/hashicorp/nomad@v$NOMAD_VERSION"; exit 1; }
MODULE_DIR=$(sed -n 's/^\s*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"$INFO")
COMMIT=$(sed -n 's/^\s*"Hash": "\(.*\)",\{0,1\}$/\1/p' <<<"$INFO")
LICENSE_FILE="$MODULE_DIR/LICENSE"
if [ ! -f "$LICENSE_FILE" ]; then
  log "refusing to build nomad $NOMAD_VERSION: its module has no LICENSE file ($LICENSE_FILE)"; exit 1
fi
if grep -qi 'Business Source License' "$LICENSE_FILE" \
   || ! grep -q 'Mozilla Public License, version 2.0' "$LICENSE_FILE"; then
  log "refusing to build nomad $NOMAD_VERSION: its LICENSE is not the Mozilla Public License 2.0"
  log "($(grep -m1 -i 'license' "$LICENSE_FILE" || echo 'no licence line')); only open-source Nomad (1.6.3 or older) may be built here"
  exit 1
fi
log "nomad $NOMAD_VERSION is licensed under the Mozilla Public License 2.0 ($LICENSE_FILE)"

mkdir -p "$OUT_DIR"
log "building nomad $NOMAD_VERSION (commit ${COMMIT:-unknown}); the first build takes several minutes"
cd "$WRAPPER" || exit 1
# -mod=readonly: go.sum (committed) pins every dependency.
CGO_ENABLED=1 GOFLAGS=-mod=readonly go build -trimpath -tags netgo,osusergo -o "$OUT.tmp" \
  -ldflags "-s -w -linkmode external -extldflags -static -X github.com/hashicorp/nomad/version.GitCommit=${COMMIT:0:12}" \
  github.com/hashicorp/nomad
mv "$OUT.tmp" "$OUT"
echo "$BUILD" >"$OUT_DIR/build"
"$OUT" version >&2
