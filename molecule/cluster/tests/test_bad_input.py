"""A run that fails in the middle, on the converged cluster, reports what it changed.

Bad input that preflight refuses before any change (testlib.BAD_INPUTS) is tried
on never-converged hosts, in the check_mode scenario, where any change a run made
would show; this failure is one only the cluster can report.
"""
import json

from conftest import api, converge
from testlib import recap


def test_an_acl_failure_in_the_middle_reports_what_it_changed(server1, management_token):
    """Nomad refuses a token TTL beyond its token_max_expiration_ttl (24 h): that only the cluster knows."""
    tokens = [{"name": "it-batch-ok", "policies": ["readonly"]},
              {"name": "it-batch-long", "policies": ["readonly"], "expiration_ttl": "48h"}]
    run = converge("-e", json.dumps({"nomad_acl_tokens": tokens}))
    assert run.returncode != 0
    counts = recap(run)
    assert sum(c["changed"] for c in counts.values()) > 0, counts  # the token that was made
    flat = " ".join(run.stdout.split())
    assert "Changed before the failure: it-batch-ok" in flat or "Changed before the failure: a token" in flat, \
        run.stdout[-3000:]
    # the token made before the failure goes again
    cleanup = converge("-e", json.dumps({"nomad_acl_tokens": [{"name": "it-batch-ok", "state": "absent"}]}))
    assert cleanup.returncode == 0, cleanup.stdout[-3000:]
    status, listed = api(server1, "/v1/acl/tokens", token=management_token)
    assert status == "200" and not [t for t in listed if t["Name"].startswith("it-batch")], listed
