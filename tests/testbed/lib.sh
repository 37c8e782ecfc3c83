# shellcheck shell=bash disable=SC2034  # sourced: the variables are used by the scripts
# Shared settings for the test-bed scripts. Sourced, not run.
# Everything a script builds lives under the cache dir, never in git.
set -euo pipefail
TESTBED_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$TESTBED_DIR/../.." && pwd)
CACHE_DIR=${HARDENED_NOMAD_CACHE:-$REPO_ROOT/.cache}
# THE Nomad version of the test bed: built from its Go module, served by the
# mirror, and passed as nomad_version to every scenario, integration test and
# bench run (env.sh exports it as HARDENED_NOMAD_VERSION). Only open-source
# (MPL-2.0) releases may be built: 1.6.3 is the newest; 1.7.0 on are BUSL-1.1.
# It is not the collection's default nomad_version, which users install.
NOMAD_VERSION=${HARDENED_NOMAD_VERSION:-1.6.3}
# The Debian releases of the test bed, each a base image of its own
# (base-image.sh): <major version>:<codename>. 12 is the default platform
# (molecule/_shared/platform.yml); a scenario's host may name another image.
DEBIAN_RELEASES="11:bullseye 12:bookworm 13:trixie"
debian_codenames() { local r; for r in $DEBIAN_RELEASES; do printf '%s ' "${r#*:}"; done; }
# base_image <codename>: the image name of that release (fails for an unknown one).
base_image() {
  local r
  for r in $DEBIAN_RELEASES; do
    if [ "${r#*:}" = "$1" ]; then echo "hardened-nomad/debian${r%%:*}-systemd:latest"; return 0; fi
  done
  return 1
}
MIRROR_PORT=${HARDENED_NOMAD_MIRROR_PORT:-18646}
log() { printf '[testbed] %s\n' "$*" >&2; }
# An older release, built too, so tests can prove that changing nomad_version
# installs the new binary and restarts the agent.
NOMAD_PREVIOUS_VERSION=${HARDENED_NOMAD_PREVIOUS_VERSION:-1.6.2}
