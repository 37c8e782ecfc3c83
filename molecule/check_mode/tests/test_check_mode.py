"""site.yml --check --diff on hosts never converged: it succeeds, predicts, and changes nothing.

The converge ran it once (converge.yml); these tests read its output, compare
every node with its snapshot from before the run, and look at the controller.
"""
import re
import shlex

import pytest
from conftest import EPHEMERAL, NODES, SECRETS, SNAPSHOT_SCRIPT, snapshot_sections, task_results
from testlib import assert_succeeded

SERVERS = [name for name in NODES if "server" in name]
CLIENT = "hn-check-client-1"

# ---------------------------------------------------------------- the run


def test_check_run_succeeds_and_predicts_changes_on_every_host(check_run):
    counts = assert_succeeded(check_run, hosts=NODES)
    unchanged = [host for host, count in counts.items() if count["changed"] == 0]
    assert not unchanged, f"no change predicted for {unchanged}: {counts}"


# What a first real converge does, each task on the hosts it runs for: check
# mode must say it would (changed), not skip it.
@pytest.mark.parametrize("task, hosts", [
    ("hardened.nomad.install : Create the nomad user, without a login shell", NODES),
    ("hardened.nomad.install : Install the verified nomad binary (predicted, the release is not fetched)", NODES),
    ("hardened.nomad.install : Install the sandboxed systemd unit", NODES),
    ("hardened.nomad.tls : Create or load the private CA (its key never leaves the controller)", SERVERS[:1]),
    ("hardened.nomad.tls : Install the trusted CA certificates", NODES),
    ("hardened.nomad.firewall : Write the hardened_nomad table", NODES),
    ("hardened.nomad.agent : Make or reuse the gossip key in the secrets dir", SERVERS[:1]),
    ("hardened.nomad.agent : Write nomad.hcl", NODES),
    ("hardened.nomad.agent : Start the Nomad agent", NODES),
    ("hardened.nomad.acl : Bootstrap the ACL system (idempotent with the kept secret)", SERVERS[:1]),
])
def test_first_converge_steps_are_predicted(check_run, task, hosts):
    results = task_results(check_run)
    assert task in results, f"task {task!r} did not run"
    assert results[task] == {host: "changed" for host in hosts}, results[task]


def test_diff_shows_the_configuration_it_would_write(check_run):
    assert "+++ after: /etc/nomad.d/nomad.hcl" in check_run.stdout
    assert re.search(r"^\+\s+verify_https_client\s+= true$", check_run.stdout, re.MULTILINE)


# ---------------------------------------------------------------- the nodes


def test_no_nomad_binary_config_or_data(host):
    for path in ["/usr/local/bin/nomad", "/etc/nomad.d", "/var/lib/nomad", "/etc/systemd/system/nomad.service"]:
        assert not host.file(path).exists, path


def test_no_nomad_user_or_group(host):
    assert not host.user("nomad").exists
    assert not host.group("nomad").exists


def test_no_unit_of_ours(host):
    units = host.run("systemctl list-unit-files --no-legend 'nomad*'").stdout
    assert units.strip() == "", units


def test_no_nftables_table_of_ours(host):
    ruleset = host.run("command -v nft >/dev/null && nft list tables || true").stdout
    assert "hardened_nomad" not in ruleset


@pytest.mark.parametrize("section", ["packages", "users", "units", "nftables", "files"])
def test_node_is_as_before_the_run(host, section):
    name = host.backend.get_hostname()
    before = snapshot_sections((EPHEMERAL / "snapshots" / f"{name}.txt").read_text())
    after = snapshot_sections(host.check_output("sh -c " + shlex.quote(SNAPSHOT_SCRIPT.read_text())))
    assert section in before and section in after
    gone, new = sorted(before[section] - after[section]), sorted(after[section] - before[section])
    assert (gone, new) == ([], []), f"{section} changed on {name}: gone {gone[:20]}, new {new[:20]}"


# ---------------------------------------------------------------- the controller


def test_no_secrets_dir_on_the_controller():
    assert not SECRETS.exists(), sorted(str(p) for p in SECRETS.rglob("*"))


def test_nothing_downloaded_into_the_release_cache():
    cache = EPHEMERAL / "releases"
    assert not cache.exists(), sorted(str(p) for p in cache.rglob("*"))
