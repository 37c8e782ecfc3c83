# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Each node's release architecture is detected per host; the controller fetches each one once.

The test bed has amd64 hosts only. Here two inventory hosts run on this machine (local
connection) and a test-only module reports the machine name each should have
(`ansible_facts.architecture`, as the setup module would on an x86_64 or aarch64 node). The
roles run for real: the preflight of site.yml (`--tags preflight`), and the install role's
controller fetch against a release mirror laid out here, SHA256SUMS signed with a throwaway
GPG key and one zip per architecture. Nothing is installed: the fetch only fills a cache dir.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import yaml
from release_mirror import VERSION, Mirror, signing_key

REPO = pathlib.Path(__file__).resolve().parents[2]
COLLECTIONS = REPO / ".cache" / "collections"
FACT_SUBSET = ["!all", "!min", "platform", "distribution", "service_mgr", "pkg_mgr", "network"]

# Sets ansible_facts.architecture, as setup reports it on another machine.
MACHINE_MODULE = '''#!/usr/bin/python
from ansible.module_utils.basic import AnsibleModule
module = AnsibleModule(argument_spec=dict(machine=dict(type="str", required=True)))
module.exit_json(changed=False, ansible_facts=dict(architecture=module.params["machine"]))
'''


def run(tmp_path, machines, tasks, extra_vars=None, host_vars=None, tags=None):
    """Runs ``tasks`` (or site.yml when None) on hosts named after ``machines`` ({host: machine name})."""
    (tmp_path / "library").mkdir(exist_ok=True)
    (tmp_path / "library" / "hn_test_machine.py").write_text(MACHINE_MODULE)
    local = {"ansible_connection": "local", "ansible_host": "127.0.0.1", "ansible_python_interpreter": sys.executable}
    hosts = {name: {**local, "test_machine": machine, **(host_vars or {}).get(name, {})}
             for name, machine in machines.items()}
    inventory = {"all": {"children": {"nomad_servers": {"hosts": hosts}}}}
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump(inventory))
    machine_play = {"name": "Report each host's machine", "hosts": "all", "gather_facts": False, "tags": ["always"],
                    "tasks": [{"ansible.builtin.setup": {"gather_subset": FACT_SUBSET}},
                              {"hn_test_machine": {"machine": "{{ test_machine }}"}}]}
    if tasks is None:
        plays = [machine_play, {"ansible.builtin.import_playbook": str(REPO / "playbooks" / "site.yml")}]
    else:
        plays = [machine_play, {"name": "Under test", "hosts": "all", "gather_facts": False, "tasks": tasks}]
    (tmp_path / "playbook.yml").write_text(yaml.safe_dump(plays))
    (tmp_path / "vars.json").write_text(json.dumps({"nomad_secrets_dir": str(tmp_path / "secrets"), **(extra_vars or {})}))
    argv = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", str(tmp_path / "inventory.yml"),
            str(tmp_path / "playbook.yml"), "-e", f"@{tmp_path / 'vars.json'}"]
    if tags:
        argv += ["--tags", tags]
    result = subprocess.run(
        argv, capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS), "ANSIBLE_LIBRARY": str(tmp_path / "library"),
             "ANSIBLE_NOCOLOR": "1", "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default"},
    )
    result.flat = " ".join((result.stdout + result.stderr).split())
    return result


def preflight(tmp_path, machines, **kwargs):
    return run(tmp_path, machines, None, tags="preflight", **kwargs)


# ---------------------------------------------------------------------------------- the preflight

def test_amd64_and_arm64_nodes_pass_the_preflight_together(tmp_path):
    result = preflight(tmp_path, {"node1": "x86_64", "node2": "aarch64"})
    assert result.returncode == 0, result.stdout[-3000:]


def test_unsupported_machines_and_wrong_overrides_fail_the_preflight_naming_each_host(tmp_path):
    # One run: the check runs on every host before the play stops (any_errors_fatal).
    result = preflight(tmp_path, {"node1": "x86_64", "pi-3": "armv7l", "graviton-1": "aarch64", "node4": "x86_64"},
                       host_vars={"graviton-1": {"nomad_architecture": "amd64"},
                                  "node4": {"nomad_architecture": "x86_64"}})
    assert result.returncode != 0, "accepted an armv7l node and wrong overrides"
    for message in (
            "pi-3 is armv7l (ansible_facts.architecture): Nomad has Linux releases for amd64 and arm64 only, so the "
            "collection cannot install it there. Leave pi-3 out of the play.",
            "graviton-1 is aarch64, which needs the arm64 release, but nomad_architecture for it is 'amd64': remove "
            "that override (the architecture is detected per host) or set it to 'arm64'.",
            "nomad_architecture for node4 is 'x86_64': use amd64 or arm64, or leave it unset"):
        assert message in result.flat, result.stdout[-4000:]
    assert "node1 is" not in result.flat and "for node1" not in result.flat
    # nothing ran after the preflight's first failed check
    assert "TASK [hardened.nomad.preflight : Check this host's settings]" in result.stdout
    assert "Check the controller can verify the release" not in result.stdout


# -------------------------------------------------------------------------- the controller's fetch

def make_mirror(root, architectures, listed=None, tamper=()):
    """The fake mirror (tests/release_mirror.py) and the variables that point the install role at it."""
    mirror = Mirror(root / "nomad", signing_key(root), architectures=architectures, listed=listed, tamper=tamper)
    return {"nomad_version": VERSION, "nomad_release_base_url": mirror.url,
            "nomad_release_gpg_key": str(mirror.key), "nomad_release_cache_dir": str(root / "cache")}


FETCH = [{"ansible.builtin.include_role": {"name": "hardened.nomad.install", "tasks_from": "fetch.yml"}}]


def test_the_controller_fetches_and_verifies_each_architecture_once(tmp_path):
    settings = make_mirror(tmp_path / "mirror", ["amd64", "arm64"])
    machines = {"node1": "x86_64", "node2": "aarch64", "node3": "x86_64", "node4": "aarch64"}
    result = run(tmp_path, machines, FETCH, extra_vars=settings)
    assert result.returncode == 0, result.stdout[-4000:]
    cache = pathlib.Path(settings["nomad_release_cache_dir"]) / VERSION
    for arch in ("amd64", "arm64"):
        assert (cache / f"linux_{arch}" / "nomad").read_bytes() == Mirror.binary(arch)
    # one module run on the controller for the four hosts: each zip downloaded and verified once
    fetch_task = result.stdout.split("TASK [hardened.nomad.install : Fetch and verify the Nomad release on the controller]")
    assert len(fetch_task) == 2, result.stdout[-4000:]
    assert fetch_task[1].split("TASK [")[0].count("changed: [") == 1, fetch_task[1][:2000]


def test_a_single_architecture_play_fetches_only_its_own(tmp_path):
    settings = make_mirror(tmp_path / "mirror", ["amd64", "arm64"])
    result = run(tmp_path, {"node1": "aarch64", "node2": "aarch64"}, FETCH, extra_vars=settings)
    assert result.returncode == 0, result.stdout[-4000:]
    cache = pathlib.Path(settings["nomad_release_cache_dir"]) / VERSION
    assert sorted(path.name for path in cache.iterdir() if path.name.endswith(".zip")) == [
        f"nomad_{VERSION}_linux_arm64.zip"]


def test_an_architecture_the_signed_sums_do_not_list_fails_before_any_download(tmp_path):
    settings = make_mirror(tmp_path / "mirror", ["amd64", "arm64"], listed=["amd64"])
    result = run(tmp_path, {"node1": "x86_64", "node2": "aarch64"}, FETCH, extra_vars=settings)
    assert result.returncode != 0, "fetched a release whose SHA256SUMS does not list the arm64 zip"
    assert (f"has no entry for nomad_{VERSION}_linux_arm64.zip, needed by node2 (nomad_architecture)"
            in result.flat), result.stdout[-4000:]
    cache = pathlib.Path(settings["nomad_release_cache_dir"]) / VERSION
    assert not list(cache.glob("*.zip"))


def test_each_architecture_is_checked_against_the_signed_sums(tmp_path):
    settings = make_mirror(tmp_path / "mirror", ["amd64", "arm64"], tamper=["arm64"])
    result = run(tmp_path, {"node1": "x86_64", "node2": "aarch64"}, FETCH, extra_vars=settings)
    assert result.returncode != 0, "accepted a tampered arm64 zip"
    assert f"CHECKSUM MISMATCH: {settings['nomad_release_base_url']}/{VERSION}/nomad_{VERSION}_linux_arm64.zip" \
        in result.flat, result.stdout[-4000:]
    cache = pathlib.Path(settings["nomad_release_cache_dir"]) / VERSION
    assert not (cache / "linux_arm64" / "nomad").exists()
