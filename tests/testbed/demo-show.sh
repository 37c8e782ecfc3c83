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

# A demo job, as the operator persona (never the management token): an exec
# task that says who it runs as and what it can see of the agent.
OPERATOR_TOKEN_FILE="$(dirname "$(dirname "$ENV_FILE")")/tokens/operator.token"
JOB_FILE=$(mktemp --suffix=.nomad.hcl)
trap 'rm -f "$JOB_FILE"' EXIT
cat >"$JOB_FILE" <<'JOB'
job "hello-hardened" {
  datacenters = ["dc1"]
  type        = "batch"
  group "hello" {
    task "hello" {
      driver = "exec"
      config {
        command = "/bin/sh"
        args    = ["-c", "echo \"hello from $(hostname): running as $(id -un)\"; cat /etc/nomad.d/tls/agent-key.pem 2>&1 | head -1"]
      }
      resources {
        cpu    = 50
        memory = 32
      }
    }
  }
}
JOB
# shellcheck disable=SC2016  # the command is shown, not run
printf '\n$ NOMAD_TOKEN=$(cat %s) nomad job run hello-hardened.nomad.hcl\n' "$OPERATOR_TOKEN_FILE"
NOMAD_TOKEN=$(cat "$OPERATOR_TOKEN_FILE") "$NOMAD" job run "$JOB_FILE" >/dev/null
for _ in $(seq 60); do
  STATUS=$(NOMAD_TOKEN=$(cat "$OPERATOR_TOKEN_FILE") "$NOMAD" job allocs -t '{{range .}}{{.ClientStatus}}{{end}}' hello-hardened 2>/dev/null || true)
  case "$STATUS" in complete*|failed*) break ;; esac
  sleep 1
done
ALLOC=$(NOMAD_TOKEN=$(cat "$OPERATOR_TOKEN_FILE") "$NOMAD" job allocs -t '{{range .}}{{.ID}}{{end}}' hello-hardened)
printf '$ nomad alloc logs %s   (status: %s)\n' "${ALLOC:0:8}" "${STATUS:-unknown}"
NOMAD_TOKEN=$(cat "$OPERATOR_TOKEN_FILE") "$NOMAD" alloc logs "$ALLOC"
NOMAD_TOKEN=$(cat "$OPERATOR_TOKEN_FILE") "$NOMAD" job stop -purge -detach hello-hardened >/dev/null
printf '\nRemove it with: make demo-clean\n'
