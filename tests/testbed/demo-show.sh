#!/usr/bin/env bash
# What `make demo` shows: the operator env file and the cluster seen through it.
source "$(dirname "$0")/lib.sh"
# The newest cluster scenario's secrets (molecule keys its directory by project path).
ENV_FILE=$(find ~/.ansible/tmp -maxdepth 4 -path '*/molecule.*.cluster/secrets/operator/nomad.env' -printf '%T@ %p\n' 2>/dev/null \
  | sort -rn | head -1 | cut -d' ' -f2-)
[ -n "$ENV_FILE" ] || { log "no operator env file: did the converge run?"; exit 1; }
NOMAD="$CACHE_DIR/testbed/nomad/$NOMAD_VERSION/nomad"
# shellcheck disable=SC1090
source "$ENV_FILE"
cat <<TEXT

The hardened cluster is up: 3 servers and 1 client in containers, installed and
configured by playbooks/site.yml. Everything the operator needs is in the secrets
directory; use it like this:

  source $ENV_FILE
  $NOMAD server members

(the Nomad CLI is the test bed's build; any nomad binary of the same version works)

\$ nomad version
TEXT
"$NOMAD" version
printf '\n$ nomad server members   (Build: the agents\x27 release)\n'
"$NOMAD" server members
printf '\n$ nomad node status\n'
"$NOMAD" node status
printf '\nRemove it with: make demo-clean\n'
