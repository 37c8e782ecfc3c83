"""Bad input on hosts that were never converged: refused before any change.

Runs before test_check_mode.py (the file name), whose snapshots then prove that these
real runs of site.yml changed nothing on any node, wrote no secret and downloaded
nothing. The same refusals on the converged cluster are in the cluster scenario.
"""
import json

import pytest
from conftest import NODES
from testlib import PLAYBOOKS, assert_refused, run_playbook

BAD_INPUTS = [
    ({"nomad_gossip_key": "AAAAAAAAAAAAAAAAAAAAAAAAAAA="}, "nomad_gossip_key decodes to 20 bytes"),
    ({"nomad_acl_tokens": [], "nomad_acl_policies": [
        {"name": "it-valid", "rules": 'namespace "default" { policy = "read" }'},
        {"name": "it-invalid", "rules": 'node { polcy = "read" }'}]},
     "nomad_acl_policies: policy 'it-invalid': node: unknown key 'polcy'"),
    ({"nomad_tls_renew_before_days": 400}, "nomad_tls_renew_before_days is 400 but nomad_tls_cert_valid_days is 365"),
    ({"nomad_release_gpg_key": "/etc/hostname"}, "nomad_release_gpg_key (/etc/hostname) is not an OpenPGP public key"),
    ({"nomad_firewall_enabled": "perhaps"}, "nomad_firewall_enabled"),
]


@pytest.mark.parametrize("extra_vars, message", BAD_INPUTS, ids=["gossip_key", "policy_rules", "renew_window", "release_key", "arg_spec"])
def test_bad_input_on_new_hosts_is_refused_before_any_change(extra_vars, message):
    run = run_playbook(PLAYBOOKS / "site.yml", "-e", json.dumps(extra_vars), timeout=600)
    assert_refused(run, message, hosts=NODES)
