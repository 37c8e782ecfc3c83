"""The one helper library of the Molecule test suites (testinfra, on the controller).

Every scenario's tests import it (their conftest.py puts molecule/_shared on
sys.path): the scenario's inventory and secrets, the test bed's Nomad release,
the nodes as testinfra hosts, playbook runs as the operator runs them, and the
play recap of such a run.
"""
from __future__ import annotations

import os
import pathlib
import re
import subprocess

import testinfra

REPO = pathlib.Path(__file__).resolve().parents[2]
PLAYBOOKS = REPO / "playbooks"
INVENTORY = os.environ.get("MOLECULE_INVENTORY_FILE", "")
SCENARIO_DIR = pathlib.Path(os.environ.get("MOLECULE_SCENARIO_DIRECTORY", "."))
SECRETS = pathlib.Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", ".")) / "secrets"
# The test bed's release and binary (tests/testbed/lib.sh, exported by env.sh).
NOMAD_VERSION = os.environ["HARDENED_NOMAD_VERSION"]
NOMAD_PREVIOUS_VERSION = os.environ.get("HARDENED_NOMAD_PREVIOUS_VERSION", "")
NOMAD_BINARY = os.environ.get("NOMAD_BINARY", "")
TLS_DIR = "/etc/nomad.d/tls"

RECAP_RE = re.compile(r"^(?P<host>\S+)\s+: ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
                      r"\s+failed=(?P<failed>\d+)")


def node(name):
    return testinfra.get_host(f"ansible://{name}?ansible_inventory={INVENTORY}")


def secret(relative_path):
    return (SECRETS / relative_path).read_text().strip()


def address(name):
    """The node's address on the molecule network (what nomad advertises)."""
    return node(name).ansible("setup", "gather_subset=network")["ansible_facts"]["ansible_default_ipv4"]["address"]


def run_playbook(playbook, *extra_args, timeout=1200, kill_at_task=None):
    """Runs a playbook (a path) against the scenario from the controller, as the operator would.

    kill_at_task: the run is killed (SIGKILL, in its own process group) when the task of that name
    starts, as an operator's kill -9 would (callbacks/kill_at_task.py).
    """
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"}
    if kill_at_task:
        env.update(HN_KILL_AT_TASK=kill_at_task, ANSIBLE_CALLBACKS_ENABLED="kill_at_task",
                   ANSIBLE_CALLBACK_PLUGINS=str(pathlib.Path(__file__).parent / "callbacks"))
    return subprocess.run(
        ["ansible-playbook", "-i", INVENTORY, str(playbook), *extra_args],
        capture_output=True, text=True, timeout=timeout, check=False, env=env, start_new_session=bool(kill_at_task),
    )


def recap(run):
    """{host: {ok, changed, unreachable, failed}} from the PLAY RECAP of a run."""
    counts = {}
    for line in run.stdout.splitlines():
        match = RECAP_RE.match(line)
        if match:
            counts[match.group("host")] = {k: int(v) for k, v in match.groupdict().items() if k != "host"}
    return counts


def assert_succeeded(run, hosts=None):
    """The run exited 0 and its recap shows no failed or unreachable host (and exactly ``hosts``)."""
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    counts = recap(run)
    assert counts, run.stdout[-2000:]
    if hosts is not None:
        assert sorted(counts) == sorted(hosts), counts
    bad = {host: c for host, c in counts.items() if c["failed"] or c["unreachable"]}
    assert not bad, bad
    return counts


def assert_unchanged(run, hosts=None):
    """assert_succeeded, and the run changed nothing on any host."""
    counts = assert_succeeded(run, hosts)
    changed = {host: c["changed"] for host, c in counts.items() if c["changed"]}
    assert not changed, changed


def assert_refused(run, message, hosts=None):
    """The run failed, changed nothing on any host, and its output says ``message`` (whitespace-insensitive)."""
    assert run.returncode != 0, "accepted: " + run.stdout[-2000:]
    counts = recap(run)
    assert counts, run.stdout[-2000:] + run.stderr[-2000:]
    if hosts is not None:
        assert sorted(counts) == sorted(hosts), counts
    changed = {host: c["changed"] for host, c in counts.items() if c["changed"]}
    assert not changed, changed
    assert " ".join(message.split()) in " ".join((run.stdout + run.stderr).split()), run.stdout[-3000:]


# Bad input that preflight refuses before any change, with what its message says; shared by the
# scenarios that try it on new hosts (check_mode) and on the converged cluster (cluster).
BAD_INPUTS = [
    ({"nomad_gossip_key": "AAAAAAAAAAAAAAAAAAAAAAAAAAA="}, "nomad_gossip_key decodes to 20 bytes"),
    ({"nomad_acl_tokens": [], "nomad_acl_policies": [
        {"name": "it-valid", "rules": 'namespace "default" { policy = "read" }'},
        {"name": "it-invalid", "rules": 'node { polcy = "read" }'}]},
     "nomad_acl_policies: policy 'it-invalid': node: unknown key 'polcy'"),
    ({"nomad_tls_renew_before_days": 400}, "nomad_tls_renew_before_days is 400 but nomad_tls_cert_valid_days is 365"),
    ({"nomad_release_gpg_key": "/etc/hostname"}, "nomad_release_gpg_key (/etc/hostname) is not an OpenPGP public key"),
    ({"nomad_tls_cert_valid_days": "a year"}, "nomad_tls_cert_valid_days"),
    ({"nomad_firewall_enabled": "perhaps"}, "nomad_firewall_enabled"),
]
BAD_INPUT_IDS = ["gossip_key", "policy_rules", "renew_window", "release_key", "arg_spec_int", "arg_spec_bool"]
