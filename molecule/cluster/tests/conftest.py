"""Shared helpers for the cluster scenario's attacks, checks and rotations.

Tests run on the controller (the docker host). They reach into the containers
through testinfra hosts, and act as the operator through the env file that
site.yml wrote in the secrets dir.

One converged cluster serves every test module, in the order of MODULE_ORDER:
the checks of the hardened state first, then what changes the cluster and
restores it (workloads, a failed ACL run, every rotation), and last the server
rebuild, which wipes the servers' state.
"""
import json
import pathlib
import shlex
import subprocess
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "_shared"))
from testlib import SCENARIO_DIR, SECRETS, TLS_DIR, node, run_playbook, secret  # noqa: E402,F401
from testlib import NOMAD_BINARY  # noqa: E402,F401 pylint: disable=unused-import  # re-exported to test_workloads
from testlib import address  # noqa: E402,F401 pylint: disable=unused-import  # re-exported to the tests

SERVERS = ["hn-server-1", "hn-server-2", "hn-server-3"]
CLIENT = "hn-client-1"
OUTSIDER = "hn-outsider"
CLUSTER = SERVERS + [CLIENT]


def curl(host, url, *options, cert=True, token=None):
    """curl inside a container, by default with the node's own client certificate.

    Returns (rc, http_status, body, stderr).
    """
    args = ["curl", "-sS", "--max-time", "10", "--cacert", f"{TLS_DIR}/ca.pem", "-o", "/tmp/body", "-w", "%{http_code}"]
    if cert:
        args += ["--cert", f"{TLS_DIR}/agent.pem", "--key", f"{TLS_DIR}/agent-key.pem"]
    if token:
        args += ["-H", f"X-Nomad-Token: {token}"]
    args += list(options) + [url]
    result = host.run(" ".join(shlex.quote(a) for a in args))
    body = host.run("cat /tmp/body 2>/dev/null; rm -f /tmp/body").stdout
    return result.rc, result.stdout.strip(), body, result.stderr


def api(host, path, token=None, **kwargs):
    """GET an API path on the node's own loopback listener; JSON body on success."""
    rc, status, body, stderr = curl(host, f"https://127.0.0.1:4646{path}", token=token, **kwargs)
    assert rc == 0, f"curl {path} failed: {stderr}"
    return status, (json.loads(body) if status == "200" else body)


def operator_cli(*args, env_file="nomad.env"):
    """The Nomad CLI as the operator runs it on the controller: a bare shell, the env file, then `nomad`.

    The env file must put the verified CLI on PATH: nothing else provides it here.
    """
    path = SECRETS / "operator" / env_file
    command = f". {shlex.quote(str(path))} && nomad " + " ".join(shlex.quote(a) for a in args)
    return subprocess.run(["env", "-i", "PATH=/usr/bin:/bin", "HOME=/tmp", "bash", "-c", command],
                          capture_output=True, text=True, timeout=60, check=False)


MODULE_ORDER = ["test_cluster", "test_workloads", "test_bad_input", "test_rotation", "test_zz_server_rebuild"]


def pytest_collection_modifyitems(items):
    """Runs the test modules in MODULE_ORDER (a module missing from it is an error), each in its own order."""
    def rank(item):
        name = item.module.__name__.rsplit(".", 1)[-1]
        assert name in MODULE_ORDER, f"{name} is not in conftest.MODULE_ORDER"
        return MODULE_ORDER.index(name)
    items.sort(key=rank)  # sort is stable: the order within a module stays


def converge(*extra_args):
    """Runs the scenario's converge (site.yml) again from the controller."""
    return run_playbook(SCENARIO_DIR / "converge.yml", *extra_args, timeout=900)


@pytest.fixture
def management_token():
    """The stored management token, read when a test starts (the rotations replace it)."""
    return secret("tokens/management.token")


@pytest.fixture(scope="session")
def server1():
    return node("hn-server-1")
