# shellcheck shell=bash disable=SC2034  # sourced: the variables are used by the scripts
# Shared settings for the test-bed scripts. Sourced, not run.
# Everything a script builds lives under the cache dir, never in git.
set -euo pipefail
TESTBED_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$TESTBED_DIR/../.." && pwd)
CACHE_DIR=${HARDENED_NOMAD_CACHE:-$REPO_ROOT/.cache}
# The Nomad version the test bed builds; the install role's default must match.
NOMAD_VERSION=$(sed -n 's/^nomad_version: *"\{0,1\}\([0-9.]*\)"\{0,1\}$/\1/p' "$REPO_ROOT/roles/install/defaults/main.yml")
BASE_IMAGE=${HARDENED_NOMAD_BASE_IMAGE:-hardened-nomad/debian12-systemd:latest}
MIRROR_PORT=${HARDENED_NOMAD_MIRROR_PORT:-18646}
log() { printf '[testbed] %s\n' "$*" >&2; }
# An older release, built too, so tests can prove that changing nomad_version
# installs the new binary and restarts the agent.
NOMAD_PREVIOUS_VERSION=1.11.2
