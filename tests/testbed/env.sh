#!/usr/bin/env bash
# Runs a command with the test bed's settings in the environment:
#   env.sh molecule test -s default
source "$(dirname "$0")/lib.sh"
HARDENED_NOMAD_MIRROR_URL=$(bash "$TESTBED_DIR/mirror.sh" url)
HARDENED_NOMAD_MIRROR_KEY=$(bash "$TESTBED_DIR/mirror.sh" key)
NOMAD_BINARY="$CACHE_DIR/testbed/nomad/$NOMAD_VERSION/nomad"
export HARDENED_NOMAD_MIRROR_URL HARDENED_NOMAD_MIRROR_KEY NOMAD_BINARY
export HARDENED_NOMAD_VERSION=$NOMAD_VERSION HARDENED_NOMAD_PREVIOUS_VERSION=$NOMAD_PREVIOUS_VERSION
# The controller's address as the containers see it (the docker bridge).
HARDENED_NOMAD_CONTROLLER_IP=${HARDENED_NOMAD_MIRROR_URL#http://}
export HARDENED_NOMAD_CONTROLLER_IP=${HARDENED_NOMAD_CONTROLLER_IP%%:*}
exec "$@"
