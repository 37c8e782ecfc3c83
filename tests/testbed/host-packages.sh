#!/usr/bin/env bash
# Debian packages the controller and test bed need; installed only when missing.
source "$(dirname "$0")/lib.sh"
need=()
for pair in shellcheck:shellcheck debootstrap:debootstrap gpgv:gpgv gpg:gnupg zip:zip unzip:unzip curl:curl; do
  command -v "${pair%%:*}" >/dev/null || need+=("${pair#*:}")
done
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
