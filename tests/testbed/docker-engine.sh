#!/usr/bin/env bash
# Makes sure a Docker engine runs: Debian's docker.io installed when missing,
# dockerd started when not running (through systemd where it is PID 1).
source "$(dirname "$0")/lib.sh"

if docker info >/dev/null 2>&1; then log "docker engine is running"; exit 0; fi
if ! command -v dockerd >/dev/null; then
  log "installing Debian's docker.io"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
fi
if [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]; then
  systemctl start docker
else
  mkdir -p "$CACHE_DIR/testbed"
  log "starting dockerd (log: $CACHE_DIR/testbed/dockerd.log)"
  nohup dockerd >"$CACHE_DIR/testbed/dockerd.log" 2>&1 </dev/null &
fi
for _ in $(seq 60); do docker info >/dev/null 2>&1 && { log "docker engine is running"; exit 0; }; sleep 1; done
log "dockerd did not start: see $CACHE_DIR/testbed/dockerd.log"; exit 1
