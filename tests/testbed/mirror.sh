#!/usr/bin/env bash
# Lays out a release mirror exactly like releases.hashicorp.com for the test-bed
# build, signs the SHA256SUMS with a throwaway GPG key made on this machine,
# and serves it over HTTP on the docker bridge address (reachable by the
# controller and the containers). Idempotent; the server is started only when
# it is not running. Prints nothing but logs; `mirror.sh url` prints the URL.
source "$(dirname "$0")/lib.sh"

MIRROR_DIR="$CACHE_DIR/testbed/mirror"
GNUPGHOME="$CACHE_DIR/testbed/gnupg"; export GNUPGHOME
PUBKEY="$CACHE_DIR/testbed/mirror-signing-key.asc"
PIDFILE="$CACHE_DIR/testbed/mirror.pid"
bridge_ip() { ip -4 -o addr show docker0 2>/dev/null | awk '{split($4, a, "/"); print a[1]; exit}'; }
BIND=${HARDENED_NOMAD_MIRROR_BIND:-$(bridge_ip)}
[ -n "$BIND" ] || { log "no docker0 bridge address: start the docker engine first"; exit 1; }
URL="http://$BIND:$MIRROR_PORT/nomad"
if [ "${1:-}" = url ]; then echo "$URL"; exit 0; fi
if [ "${1:-}" = key ]; then echo "$PUBKEY"; exit 0; fi

# 1. The throwaway signing key (never committed; lives in the cache dir).
if [ ! -s "$PUBKEY" ]; then
  log "generating the throwaway mirror signing key"
  rm -rf "$GNUPGHOME"; mkdir -p "$GNUPGHOME"; chmod 700 "$GNUPGHOME"
  gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
      --quick-gen-key 'hardened.nomad test-bed mirror <testbed@hardened-nomad.invalid>' ed25519 sign 1y
  gpg --batch --armor --export >"$PUBKEY.tmp" && mv "$PUBKEY.tmp" "$PUBKEY"
fi

# 2. The release layout, for every version built under the cache:
#    <base>/<v>/nomad_<v>_linux_amd64.zip, nomad_<v>_SHA256SUMS, nomad_<v>_SHA256SUMS.sig
publish() {
  local version=$1 bin=$2
  local rel="$MIRROR_DIR/nomad/$version" zip="nomad_${version}_linux_amd64.zip" sums="nomad_${version}_SHA256SUMS"
  if [ -s "$rel/$sums.sig" ] && [ ! "$bin" -nt "$rel/$zip" ] && [ ! "$PUBKEY" -nt "$rel/$sums.sig" ]; then return; fi
  log "laying out the mirror for $version"
  mkdir -p "$rel"
  local stage; stage=$(mktemp -d)
  cp "$bin" "$stage/nomad"; touch -d '2000-01-01' "$stage/nomad"
  (cd "$stage" && zip -q -X "$rel/$zip.tmp" nomad) && mv "$rel/$zip.tmp" "$rel/$zip"
  rm -rf "$stage"
  (cd "$rel" && sha256sum "$zip" >"$sums")
  rm -f "$rel/$sums.sig"
  gpg --batch --quiet --detach-sign --output "$rel/$sums.sig" "$rel/$sums"
  cp "$rel/$sums.sig" "$rel/$sums.72D7468F.sig"
}
[ -x "$CACHE_DIR/testbed/nomad/$NOMAD_VERSION/nomad" ] || { log "no nomad $NOMAD_VERSION binary: run build-nomad.sh first"; exit 1; }
for bin in "$CACHE_DIR"/testbed/nomad/*/nomad; do
  publish "$(basename "$(dirname "$bin")")" "$bin"
done
SUMS="nomad_${NOMAD_VERSION}_SHA256SUMS"

# 3. Serve it (bound to the bridge address only). A server counts as ours only
# if it serves our own signed SHA256SUMS: another checkout's mirror on the same
# port would serve files signed with another throwaway key.
LOCAL_SUMS="$MIRROR_DIR/nomad/$NOMAD_VERSION/$SUMS"
serves_ours() { curl -fsS "$URL/$NOMAD_VERSION/$SUMS" 2>/dev/null | cmp -s - "$LOCAL_SUMS"; }
if [ -s "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null && serves_ours; then
  log "mirror already serving at $URL"
  exit 0
fi
if [ -s "$PIDFILE" ]; then kill "$(cat "$PIDFILE")" 2>/dev/null || true; fi
if curl -fsS -o /dev/null "$URL/" 2>/dev/null; then
  log "port $MIRROR_PORT on $BIND already serves another mirror (another checkout?): stop it or set HARDENED_NOMAD_MIRROR_PORT"
  exit 1
fi
log "serving $MIRROR_DIR at http://$BIND:$MIRROR_PORT"
nohup python3 -m http.server --bind "$BIND" --directory "$MIRROR_DIR" "$MIRROR_PORT" \
  >"$CACHE_DIR/testbed/mirror.log" 2>&1 </dev/null &
echo $! >"$PIDFILE"
for _ in $(seq 50); do serves_ours && exit 0; sleep 0.1; done
log "the mirror did not come up: see $CACHE_DIR/testbed/mirror.log"; exit 1
