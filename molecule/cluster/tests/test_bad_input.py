"""Bad input on the converged cluster: refused before any change on any host.

Each run is site.yml with one bad value. Preflight refuses it with a message that
names the variable; the recap shows changed=0 on every host. (The same refusals on
never-converged hosts are in the check_mode scenario.)
"""
import json

import pytest
from conftest import CLUSTER, api, converge
from testlib import BAD_INPUT_IDS, BAD_INPUTS, assert_refused, recap


@pytest.mark.parametrize("extra_vars, message", BAD_INPUTS, ids=BAD_INPUT_IDS)
def test_bad_input_is_refused_before_any_change(extra_vars, message):
    run = converge("-e", json.dumps(extra_vars))
    assert_refused(run, message, hosts=CLUSTER)
    assert len(run.stdout.splitlines()) < 400, len(run.stdout.splitlines())  # one line per bad value, no spec dump


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
