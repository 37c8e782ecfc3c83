"""What the install role promises on a server node, checked on each container (Debian 11, 12 and 13)."""
import json
import pathlib
import sys

import pytest

# The collection, as `make collection` links it, for its version table.
sys.path.insert(0, str(pathlib.Path(__file__).parents[3] / ".cache" / "collections"))
from ansible_collections.hardened.nomad.plugins.module_utils import _versions  # noqa: E402
from testlib import NOMAD_VERSION  # noqa: E402  the test bed's release, given to the scenario as nomad_version


def test_binary_is_the_test_bed_version(host):
    assert host.run("/usr/local/bin/nomad version").stdout.splitlines()[0] == f"Nomad v{NOMAD_VERSION}"


def test_service_is_enabled_and_active(host):
    service = host.service("nomad")
    assert service.is_enabled
    assert service.is_running


def test_agent_process_runs_as_nomad(host):
    pid = host.run("systemctl show --property MainPID --value nomad").stdout.strip()
    assert pid not in ("", "0")
    assert host.run(f"ps -o user= -p {pid}").stdout.strip() == "nomad"
    assert host.run(f"ps -o comm= -p {pid}").stdout.strip() == "nomad"


def test_host_runs_the_debian_release_of_its_name(host):
    # hn-default-debian11 is Debian 11 (bullseye) and so on: a wrong image fails here.
    name = host.backend.get_hostname()
    assert host.system_info.distribution == "debian"
    assert host.file("/etc/debian_version").content_string.split(".")[0] == name.rsplit("debian", 1)[1]


def test_agent_answers_and_the_three_servers_form_one_cluster(host):
    health = host.run("curl -fsS http://127.0.0.1:4646/v1/agent/health")
    assert health.rc == 0, health.stderr
    peers = json.loads(host.run("curl -fsS http://127.0.0.1:4646/v1/status/peers").stdout)
    leader = json.loads(host.run("curl -fsS http://127.0.0.1:4646/v1/status/leader").stdout)
    assert len(peers) == 3, peers
    assert leader in peers


def test_nomad_user_has_no_login_shell(host):
    user = host.user("nomad")
    assert user.exists
    assert user.shell in ("/usr/sbin/nologin", "/sbin/nologin")
    assert user.group == "nomad"


@pytest.mark.parametrize(
    "path, owner, group, mode",
    [
        ("/usr/local/bin/nomad", "root", "root", 0o755),
        ("/etc/nomad.d", "root", "nomad", 0o750),
        ("/var/lib/nomad", "nomad", "nomad", 0o700),
        ("/etc/systemd/system/nomad.service", "root", "root", 0o644),
    ],
)
def test_owner_and_mode(host, path, owner, group, mode):
    f = host.file(path)
    assert f.exists
    assert (f.user, f.group, f.mode) == (owner, group, mode)


def test_unit_sandbox(host):
    props = dict(
        line.split("=", 1)
        for line in host.run(
            "systemctl show nomad --property Type,User,NoNewPrivileges,ProtectSystem,ProtectHome,"
            "PrivateTmp,CapabilityBoundingSet,KillSignal,ExecReload,ReadWritePaths,PrivateDevices"
        ).stdout.splitlines()
    )
    # Type=notify only where the agent implements sd_notify (the version table); exec before 1.8.0.
    assert props["Type"] == ("notify" if _versions.features(NOMAD_VERSION)["sd_notify"] else "exec")
    assert props["User"] == "nomad"
    assert props["NoNewPrivileges"] == "yes"
    assert props["ProtectSystem"] == "strict"
    assert props["ProtectHome"] == "yes"
    assert props["PrivateTmp"] == "yes"
    assert props["PrivateDevices"] == "yes"
    assert props["CapabilityBoundingSet"] == ""
    assert props["KillSignal"] == "2"  # SIGINT
    assert "argv[]=/bin/kill -HUP $MAINPID" in props["ExecReload"]
    assert props["ReadWritePaths"] == "/var/lib/nomad"


def test_agent_cannot_write_outside_its_data_dir(host):
    # ProtectSystem=strict: even a path the nomad user could write is read-only for the agent.
    pid = host.run("systemctl show --property MainPID --value nomad").stdout.strip()
    mounts = [line.split() for line in host.run(f"cat /proc/{pid}/mountinfo").stdout.splitlines()]
    root_options = [fields[5] for fields in mounts if fields[4] == "/"][-1]  # the last mount on / wins
    data_options = [fields[5] for fields in mounts if fields[4] == "/var/lib/nomad"][-1]
    assert "ro" in root_options.split(",")
    assert "rw" in data_options.split(",")


def test_systemd_analyze_security_exposure(host):
    result = host.run("systemd-analyze security nomad.service --no-pager")
    assert result.rc == 0, result.stderr
    overall = [line for line in result.stdout.splitlines() if "Overall exposure level" in line]
    print(overall[0])  # reported in the issue note
    score = float(overall[0].split(":")[1].split()[0])
    assert score < 3.0, overall[0]
