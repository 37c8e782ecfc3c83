"""Bad input fails in the preflight role, with a message that names the variable.

The preflight role changes nothing and runs first in site.yml, so every one of
these failures happens before any host is touched. Here site.yml itself runs
with `--tags preflight` against localhost: every role is loaded (so their
defaults are what preflight checks) but only the checks run.
"""
from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
COLLECTIONS = REPO / ".cache" / "collections"


def run_preflight(tmp_path, extra_vars=None, servers=("node1",), clients=()):
    inventory = {"all": {"children": {
        "nomad_servers": {"hosts": {name: None for name in servers}},
        "nomad_clients": {"hosts": {name: None for name in clients}},
    }, "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}
    hosts = {"ansible_host": "127.0.0.1"}
    for group in inventory["all"]["children"].values():
        group["hosts"] = {name: hosts for name in group["hosts"]}
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump(inventory))
    (tmp_path / "vars.json").write_text(json.dumps(extra_vars or {}))
    return subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", str(tmp_path / "inventory.yml"), str(REPO / "playbooks" / "site.yml"),
         "--tags", "preflight", "-e", f"@{tmp_path / 'vars.json'}",
         "-e", f"nomad_secrets_dir={tmp_path / 'secrets'}"],
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS), "ANSIBLE_NOCOLOR": "1",
             "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default"},
    )


def test_preflight_runs_first_in_site_yml():
    plays = yaml.safe_load((REPO / "playbooks" / "site.yml").read_text())
    assert plays[0]["roles"][0]["role"] == "hardened.nomad.preflight"


def test_good_input_passes_and_changes_nothing(tmp_path):
    run = run_preflight(tmp_path, servers=("node1",), clients=("node1",))
    assert run.returncode == 0, run.stdout[-3000:]
    assert "changed=0" in run.stdout
    assert not (tmp_path / "secrets").exists()


def test_tls13_passes_with_a_release_that_has_it(tmp_path):
    run = run_preflight(tmp_path, {"nomad_version": "1.8.3", "nomad_tls_min_version": "tls13"})
    assert run.returncode == 0, run.stdout[-3000:]


def test_even_server_count_warns_but_passes(tmp_path):
    run = run_preflight(tmp_path, servers=("node1", "node2"))
    assert run.returncode == 0, run.stdout[-3000:]
    assert "WARNING: 2 servers" in run.stdout


@pytest.mark.parametrize("extra_vars, servers, message", [
    ({}, (), "nomad_servers_group"),
    ({"nomad_region": "Bad_Region"}, ("node1",), "nomad_region 'Bad_Region' is\nnot a DNS label"),
    ({"nomad_datacenter": "dc 1"}, ("node1",), "nomad_datacenter 'dc 1'"),
    ({"nomad_advertise_address": ""}, ("node1",), "no usable nomad_advertise_address"),
    ({"nomad_firewall_http_extra_cidrs": ["10.0.0.0/33"]}, ("node1",), "nomad_firewall_http_extra_cidrs"),
    ({"nomad_firewall_http_cidrs": ["10.0.0.0/8"]}, ("node1",), "nomad_firewall_http_cidrs must allow loopback"),
    ({"nomad_http_bind_address": "10.0.0.5"}, ("node1",), "must include 127.0.0.1"),
    ({"nomad_tls_min_version": "tls10"}, ("node1",), "nomad_tls_min_version"),
    ({"nomad_tls_cipher_suites": ["TLS_RSA_WITH_AES_128_CBC_SHA"]}, ("node1",), "nomad_tls_cipher_suites"),
    ({"nomad_acl_policies": [{"name": "anonymous", "rules": 'namespace "*" { policy = "read" }'}],
      "nomad_acl_tokens": []}, ("node1",), "policy named 'anonymous'"),
    ({"nomad_acl_tokens": [{"name": "ro", "policies": ["readonly"]}, {"name": "ro", "policies": ["readonly"]}]},
     ("node1",), "must be\nunique"),
    ({"nomad_acl_tokens": [{"name": "management", "type": "management"}]}, ("node1",), "may not name a token 'management'"),
    ({"nomad_acl_tokens": [{"name": "../escape", "policies": ["readonly"]}]}, ("node1",), "they name the secret files"),
    ({"nomad_acl_tokens": [{"name": "ci.retiring", "policies": ["readonly"]}]}, ("node1",), "rotate_tokens.yml uses those names"),
    ({"nomad_acl_tokens": [{"name": "ci", "policies": ["deployer"]}]}, ("node1",), "does not define (or marks absent):\ndeployer"),
    ({"nomad_acl_policies": [{"name": "p"}], "nomad_acl_tokens": []}, ("node1",), "needs 'rules'"),
    ({"nomad_acl_policies": [{"name": "p", "rules": 'namespace "default" { policy = "raed" }'}], "nomad_acl_tokens": []},
     ("node1",), "nomad_acl_policies: policy 'p': namespace \"default\": policy = 'raed' is not one of deny, read, write, scale"),
    ({"nomad_acl_policies": [{"name": "p", "rules": 'node { polcy = "read" }'}], "nomad_acl_tokens": []},
     ("node1",), "nomad_acl_policies: policy 'p': node: unknown key 'polcy'"),
    ({"nomad_limits": {"http_max_conns_per_clien": 10}}, ("node1",), "nomad_limits"),
    ({"nomad_version": "1.5.6"}, ("node1",), "nomad_version is 1.5.6, older than 1.6.0, the oldest release"),
    ({"nomad_version": 1.6}, ("node1",), "nomad_version must be a Nomad release number such as"),
    ({"nomad_version": "1.6.3", "nomad_tls_min_version": "tls13"}, ("node1",),
     "nomad_tls_min_version: tls13 needs Nomad 1.8.3 or newer, but nomad_version is 1.6.3"),
    # 20 bytes: Nomad needs 16, 24 or 32
    ({"nomad_gossip_key": "AAAAAAAAAAAAAAAAAAAAAAAAAAA="}, ("node1",), "nomad_gossip_key decodes to 20 bytes"),
    ({"nomad_gossip_key": "not base64!"}, ("node1",), "nomad_gossip_key is not valid standard base64"),
    ({"nomad_tls_renew_before_days": 400}, ("node1",),
     "nomad_tls_renew_before_days is 400 but nomad_tls_cert_valid_days is 365"),
    ({"nomad_tls_cert_valid_days": 20}, ("node1",), "nomad_tls_renew_before_days is 30 but nomad_tls_cert_valid_days is 20"),
    ({"nomad_release_gpg_key": "/etc/hostname"}, ("node1",),
     "nomad_release_gpg_key (/etc/hostname) is not an OpenPGP public key"),
    ({"nomad_release_gpg_key": "/nonexistent/key.asc"}, ("node1",),
     "nomad_release_gpg_key (/nonexistent/key.asc) is not a file on the controller"),
])
def test_bad_input_fails_naming_the_variable(tmp_path, extra_vars, servers, message):
    # with no server the host is a client, so the play still has a host to check
    run = run_preflight(tmp_path, extra_vars, servers=servers, clients=() if servers else ("node1",))
    assert run.returncode != 0, f"accepted: {extra_vars}"
    text = run.stdout + run.stderr
    flat = " ".join(text.split())
    assert " ".join(message.split()) in flat, text[-3000:]


def test_a_bad_value_prints_one_line_naming_it_not_the_spec(tmp_path):
    run = run_preflight(tmp_path, {"nomad_tls_cert_valid_days": "a year", "nomad_firewall_enabled": "perhaps"},
                        servers=("node1", "node2", "node3"))
    assert run.returncode != 0
    failures = [line for line in run.stdout.splitlines() if 'FAILED!' in line]
    assert len(failures) == 3, run.stdout[-3000:]  # one per host, all stopped by the first failure
    for line in failures:
        assert "nomad_tls_cert_valid_days" in line and "(role tls)" in line, line
        assert "nomad_firewall_enabled" in line and "(role firewall)" in line, line
        assert "2 setting(s) not accepted" in line and "argument_spec" not in line, line
    assert len(run.stdout.splitlines()) < 80, run.stdout  # validate_argument_spec printed ~970 lines


def test_the_release_key_check_names_its_fingerprint(tmp_path):
    run = run_preflight(tmp_path)
    assert run.returncode == 0, run.stdout[-3000:]
    assert "nomad_release_gpg_key holds " in run.stdout, run.stdout[-3000:]
