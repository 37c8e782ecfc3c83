"""Every credential of the live cluster is rotated while a probe calls the API.

Runs on the converged cluster after the checks and the workloads (the order is
conftest.py's MODULE_ORDER), and leaves it hardened as site.yml made it. Each rotation runs as the operator would run it (ansible-playbook on the
controller). Meanwhile a probe thread calls GET /v1/jobs over mTLS every 0.5 s,
round-robin on the three servers, with the stored management token; it re-reads
the operator's CA bundle, certificate, key and token files on every call, as any
tool that the operator points at those files would. The tests run in order and
each prints its duration and the probe's failed/total calls.
"""
from __future__ import annotations

import http.client
import json
import shutil
import socket
import ssl
import threading
import time

import pytest
import testlib
from conftest import CLIENT, SERVERS
from conftest import CLUSTER as NODES
from testlib import PLAYBOOKS, SECRETS, TLS_DIR, assert_succeeded, assert_unchanged, node, run_playbook, secret


def server_addresses():
    return [testlib.address(name) for name in SERVERS]


def call(address, path, token, cert=None, key=None):
    """One API call as the operator: files read now, the server name checked."""
    context = ssl.create_default_context(cafile=str(SECRETS / "operator" / "ca-bundle.pem"))
    context.load_cert_chain(cert or SECRETS / "operator" / "cli.pem", key or SECRETS / "operator" / "cli-key.pem")
    with socket.create_connection((address, 4646), timeout=5) as raw:
        # The certificates name server.global.nomad, whatever address we dial.
        with context.wrap_socket(raw, server_hostname="server.global.nomad") as tls:
            tls.sendall(f"GET {path} HTTP/1.1\r\nHost: {address}:4646\r\nX-Nomad-Token: {token}\r\n"
                        "Connection: close\r\n\r\n".encode())
            response = http.client.HTTPResponse(tls)
            response.begin()
            return response.status, response.read().decode()


class Probe(threading.Thread):
    """Calls GET /v1/jobs every 0.5 s, round-robin on the servers, until stopped."""

    def __init__(self, addresses):
        super().__init__(daemon=True)
        self.addresses = addresses
        self.calls = 0
        self.failures = []
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            address = self.addresses[self.calls % len(self.addresses)]
            self.calls += 1
            try:
                status, body = call(address, "/v1/jobs", secret("tokens/management.token"))
                if status != 200:
                    self.failures.append(f"{address}: HTTP {status} {body[:120]}")
            except Exception as error:  # every failure counts, whatever its kind
                self.failures.append(f"{address}: {type(error).__name__}: {error}")
            self.stopping.wait(0.5)

    def stop(self):
        self.stopping.set()
        self.join()
        return self.failures, self.calls


def playbook(name, *extra_args):
    """Runs one of the collection's playbooks against the scenario, as the operator would."""
    return run_playbook(PLAYBOOKS / name, *extra_args)


def rotate(playbook_name, *extra_args):
    """Runs a playbook under the probe; returns (run, seconds, failures, calls)."""
    probe = Probe(server_addresses())
    probe.start()
    time.sleep(2)  # a few calls before the rotation starts
    started = time.monotonic()
    run = playbook(playbook_name, *extra_args)
    seconds = time.monotonic() - started
    time.sleep(2)  # and a few after
    failures, calls = probe.stop()
    print(f"\nROTATION {playbook_name} {' '.join(extra_args)}: {seconds:.1f} s, probe failed/total = {len(failures)}/{calls}")
    for failure in failures[:10]:
        print("  probe failure:", failure)
    return run, seconds, failures, calls


def agent_pids():
    return {name: node(name).run("systemctl show --property MainPID --value nomad").stdout.strip() for name in NODES}


def serials():
    return {name: node(name).run(f"openssl x509 -in {TLS_DIR}/agent.pem -noout -serial").stdout.strip()
            for name in NODES}


def issuers_fingerprint():
    return {name: node(name).run(f"openssl x509 -in {TLS_DIR}/agent.pem -noout -issuer -ext authorityKeyIdentifier")
            .stdout.strip() for name in NODES}


# ---------------------------------------------------------------- certificates


def test_site_renews_certificates_near_expiry_with_reload_only():
    """site.yml renews certificates within nomad_tls_renew_before_days; agents reload, PIDs stay."""
    pids, before = agent_pids(), serials()
    # 400 days before expiry covers the whole 365-day validity: every cert is due
    # (and the new ones, valid 401 days, are not).
    run, _seconds, failures, calls = rotate("site.yml", "-e", "nomad_tls_renew_before_days=400",
                                            "-e", "nomad_tls_cert_valid_days=401")
    assert_succeeded(run)
    after = serials()
    assert all(after[name] != before[name] for name in NODES), (before, after)
    assert agent_pids() == pids
    assert failures == [] and calls > 10


def test_rotate_certificates_without_restart_or_failed_call():
    pids, before = agent_pids(), serials()
    operator_cert_before = (SECRETS / "operator" / "cli.pem").read_text()
    key_before = node(SERVERS[0]).run(f"sha256sum {TLS_DIR}/agent-key.pem").stdout
    run, _seconds, failures, calls = rotate("rotate_certificates.yml")
    assert_succeeded(run)
    assert failures == [], failures
    assert calls > 10
    after = serials()
    assert all(after[name] != before[name] for name in NODES)
    assert agent_pids() == pids
    assert node(SERVERS[0]).run(f"sha256sum {TLS_DIR}/agent-key.pem").stdout != key_before  # new key
    assert (SECRETS / "operator" / "cli.pem").read_text() != operator_cert_before


def test_rotate_ca_without_restart_or_failed_call(tmp_path):
    pids, issuers_before = agent_pids(), issuers_fingerprint()
    ca_before = secret("ca/ca.pem")
    archived_before = len(list((SECRETS / "ca-archive").glob("*/ca.pem")))
    # keep the operator's certificate from the old CA, to try it afterwards
    for name in ("cli.pem", "cli-key.pem"):
        shutil.copy(SECRETS / "operator" / name, tmp_path / name)
    run, _seconds, failures, calls = rotate("rotate_ca.yml")
    assert_succeeded(run)
    assert failures == [], failures
    assert calls > 10
    assert secret("ca/ca.pem") != ca_before
    issuers_after = issuers_fingerprint()
    assert all(issuers_after[name] != issuers_before[name] for name in NODES)
    assert agent_pids() == pids
    # the old CA: key gone, certificate archived, trusted nowhere any more
    assert not (SECRETS / "ca-previous").exists() and not (SECRETS / "ca-next").exists()
    archived = list((SECRETS / "ca-archive").glob("*/ca.pem"))
    assert len(archived) == archived_before + 1 and not list((SECRETS / "ca-archive").glob("*/ca-key.pem"))
    old_ca_line = ca_before.splitlines()[3]
    for name in NODES:
        assert old_ca_line not in node(name).run(f"cat {TLS_DIR}/ca.pem").stdout
    assert old_ca_line not in (SECRETS / "operator" / "ca-bundle.pem").read_text()
    # a client certificate from the old CA is refused now; the new one works
    with pytest.raises((ssl.SSLError, ConnectionResetError)):
        call(server_addresses()[0], "/v1/jobs", secret("tokens/management.token"),
             cert=tmp_path / "cli.pem", key=tmp_path / "cli-key.pem")
    assert call(server_addresses()[0], "/v1/jobs", secret("tokens/management.token"))[0] == 200


def test_cluster_healthy_after_tls_rotations():
    status, body = call(server_addresses()[0], "/v1/operator/raft/configuration", secret("tokens/management.token"))
    assert status == 200
    assert len(json.loads(body)["Servers"]) == 3
    status, body = call(server_addresses()[0], "/v1/nodes", secret("tokens/management.token"))
    assert [(n["Name"], n["Status"]) for n in json.loads(body)] == [(CLIENT, "ready")]


# ---------------------------------------------------------------- gossip key


def keyrings():
    """The gossip keys each server reports for itself."""
    token = secret("tokens/management.token")
    result = {}
    for address in server_addresses():
        status, body = call(address, "/v1/agent/keyring/list", token)
        assert status == 200, body
        result[address] = json.loads(body)["Keys"]
    return result


def test_rotate_gossip_key_refuses_to_leave_a_server_out():
    before, old_key = keyrings(), secret("gossip.key")
    run = playbook("rotate_gossip_key.yml", "-e", "nomad_gossip_rotate=true", "--limit", SERVERS[0])
    output = run.stdout + run.stderr  # ansible-core 2.19 prints the failure on stderr
    assert run.returncode != 0, output[-3000:]
    assert "are not in this run" in output and SERVERS[1] in output, output[-3000:]
    assert keyrings() == before and secret("gossip.key") == old_key
    assert not (SECRETS / "gossip.key.next").exists()


def test_rotate_gossip_key_without_restart_or_failed_call():
    pids, old_key = agent_pids(), secret("gossip.key")
    assert all(list(keys) == [old_key] for keys in keyrings().values())
    run, _seconds, failures, calls = rotate("rotate_gossip_key.yml", "-e", "nomad_gossip_rotate=true")
    assert_succeeded(run)
    assert failures == [], failures
    assert calls > 5
    new_key = secret("gossip.key")
    assert new_key != old_key
    for address, keys in keyrings().items():
        assert list(keys) == [new_key], f"{address} still holds other keys"  # the old key is gone everywhere
    assert agent_pids() == pids
    for name in SERVERS:  # servers added later start with the new key
        assert new_key in node(name).run("cat /etc/nomad.d/gossip.hcl").stdout
    # re-running with no new key changes nothing
    assert_unchanged(playbook("rotate_gossip_key.yml"))


# ---------------------------------------------------------------- tokens


def assert_token_replaced(old, new):
    """The old secret is refused, the new one works: returns the new token as Nomad shows it."""
    assert new != old
    address = server_addresses()[0]
    # Nomad 1.11 answers an unknown secret on token/self with 403, 1.6 with 404; both say why,
    # and both refuse it (403) on every protected endpoint.
    status, body = call(address, "/v1/acl/token/self", old)
    assert status in (403, 404) and "ACL token not found" in body, (status, body)
    assert call(address, "/v1/jobs", old)[0] == 403
    status, body = call(address, "/v1/acl/token/self", new)
    assert status == 200, body
    return json.loads(body)


def test_rotate_persona_tokens():
    old = {name: secret(f"tokens/{name}.token") for name in ("readonly", "operator")}
    run, _seconds, failures, calls = rotate("rotate_tokens.yml")
    assert_succeeded(run)
    print(f"  (management token untouched: probe failed/total = {len(failures)}/{calls})")
    for name, old_secret in old.items():
        assert assert_token_replaced(old_secret, secret(f"tokens/{name}.token"))["Name"] == name
        assert oct((SECRETS / "tokens" / f"{name}.token").stat().st_mode & 0o777) == "0o600"


def test_rotate_management_token_never_leaves_the_cluster_without_one():
    old = secret("tokens/management.token")
    run, _seconds, failures, calls = rotate("rotate_tokens.yml", "-e", "nomad_acl_rotate_management=true")
    assert_succeeded(run)
    # the probe reads the stored token on every call: it must never hold a dead one
    assert failures == [], failures
    assert assert_token_replaced(old, secret("tokens/management.token"))["Type"] == "management"


# ---------------------------------------------------------------- ACL bootstrap recovery


def test_acl_bootstrap_reset_after_a_lost_management_token(tmp_path):
    lost = secret("tokens/management.token")
    # the operator lost the token: it is gone from the secrets dir
    for name in ("tokens/management.token", "acl-bootstrap.secret"):
        shutil.move(SECRETS / name, tmp_path / name.replace("/", "-"))
    started = time.monotonic()
    run = playbook("acl_bootstrap_reset.yml")
    print(f"\nROTATION acl_bootstrap_reset.yml: {time.monotonic() - started:.1f} s (no probe: the token was lost)")
    assert_succeeded(run)
    assert assert_token_replaced(lost, secret("tokens/management.token"))["Type"] == "management"
    for name in SERVERS:  # the reset file is gone again
        assert node(name).run("ls /var/lib/nomad/server/acl-bootstrap-reset").rc != 0


# ---------------------------------------------------------------- afterwards


# ---------------------------------------------------------------- version change


class RestartProbe(Probe):
    """The Probe, keeping (time, address, ok, detail) of every call."""

    def __init__(self, addresses):
        super().__init__(addresses)
        self.log = []

    def run(self):
        while not self.stopping.is_set():
            address = self.addresses[self.calls % len(self.addresses)]
            self.calls += 1
            moment = time.time()
            try:
                status, body = call(address, "/v1/jobs", secret("tokens/management.token"))
                self.log.append((moment, address, status == 200, f"HTTP {status} {body[:120]}"))
            except Exception as error:  # every failure counts, whatever its kind
                self.log.append((moment, address, False, f"{type(error).__name__}: {error}"))
            self.stopping.wait(0.5)


def stops_since(name, since):
    """Epoch times at which systemd began stopping the agent on that node."""
    out = node(name).run(f"journalctl -u nomad --no-pager -o short-unix --since @{int(since)} "
                         "| grep -E 'Stopping (nomad|HashiCorp Nomad)'").stdout
    return [float(line.split()[0]) for line in out.splitlines() if line.strip()]


def to_restarting_server(entry, stops, log):
    """True when the call went to a server that had stopped and had not answered since."""
    moment, address, _ok, _detail = entry
    stopped = [t for t in stops.get(address, []) if t <= moment]
    if not stopped:
        return False
    return not any(ok and a == address and stopped[-1] < m < moment for m, a, ok, _d in log)


class QuorumProbe(threading.Thread):
    """Reads autopilot's failure tolerance (fresh, as hardened.nomad.agent_roll reads it) and the raft voters
    every 0.5 s from any server that answers."""

    def __init__(self, addresses):
        super().__init__(daemon=True)
        self.addresses = addresses
        self.readings = []  # (time, failure tolerance, voters); None where no server answered
        self.stopping = threading.Event()

    def read(self, path):
        for address in self.addresses:
            try:
                status, body = call(address, path, secret("tokens/management.token"))
            except Exception:  # a stopped server: ask the next one
                continue
            if status in (200, 429):  # autopilot answers 429, with its report, while a server is unhealthy
                return json.loads(body)
        return None

    @staticmethod
    def fresh_tolerance(earlier, health):
        """The failure tolerance with each non-leader server whose stats did not move since an answer
        more than 2.5 s earlier counted as not healthy: the leader keeps a stopped server's last stats
        for about 35 s, so autopilot's own figure stays up while a server restarts."""
        before = {server["ID"]: server for server in earlier["Servers"]}
        voters = [server for server in health["Servers"] if server["Voter"]]
        healthy = 0
        for server in voters:
            old = before.get(server["ID"])
            stale = not server["Leader"] and old is not None and all(
                old.get(key) == server.get(key) for key in ("LastContact", "LastIndex", "LastTerm"))
            healthy += bool(server["Healthy"] and server.get("SerfStatus", "alive") == "alive" and not stale)
        return max(0, healthy - (len(voters) // 2 + 1))

    def run(self):
        answers = []
        while not self.stopping.is_set():
            health = self.read("/v1/operator/autopilot/health")
            raft = self.read("/v1/operator/raft/configuration")
            now = time.time()
            voters = sum(1 for peer in raft["Servers"] if peer["Voter"]) if raft else None
            tolerance = None
            if health and health.get("Servers"):
                earlier = [answer for moment, answer in answers if moment <= now - 2.5]
                if earlier:
                    tolerance = self.fresh_tolerance(earlier[-1], health)
                answers.append((now, health))
            self.readings.append((now, tolerance, voters))
            self.stopping.wait(0.5)

    def stop(self):
        self.stopping.set()
        self.join()
        return self.readings


def change_version(version):
    """site.yml with another nomad_version under the probes; returns (run, log, stops by address, readings)."""
    probe = RestartProbe(server_addresses())
    quorum = QuorumProbe(server_addresses())
    started = time.time()
    probe.start()
    quorum.start()
    time.sleep(2)
    run = playbook("site.yml", "-e", f"nomad_version={version}")
    time.sleep(2)
    probe.stop()
    readings = quorum.stop()
    stops = {testlib.address(name): stops_since(name, started) for name in SERVERS}
    return run, probe.log, stops, readings


def running_version(name):
    """The version of a server's running agent, as its API says (not the binary on disk)."""
    status, body = call(testlib.address(name), "/v1/agent/self", secret("tokens/management.token"))
    assert status == 200, body
    return json.loads(body)["config"]["Version"]["Version"]


def changed_hosts(run, task):
    """The hosts a task of the run reported changed."""
    part = run.stdout.split(f"{task}]", 1)
    assert len(part) == 2, run.stdout[-3000:]
    section = part[1].split("\nTASK [", 1)[0]
    return sorted(line.split("[", 1)[1].split("]", 1)[0] for line in section.splitlines()
                  if line.startswith("changed: ["))


FOUND_PENDING = "Find the agent running older files than those on disk"


def test_an_interrupted_config_change_restarts_exactly_the_agent_it_changed():
    meta = json.dumps({"nomad_client_meta": {"hn_interrupted": "yes"}})
    pids = agent_pids()
    # killed (kill -9) once every nomad.hcl is written, before any restart
    killed = run_playbook(PLAYBOOKS / "site.yml", "-e", meta, kill_at_task="Write gossip.hcl (servers)")
    assert killed.returncode != 0 and "PLAY RECAP" not in killed.stdout, killed.stdout[-2000:]
    assert "hn_interrupted" in node(CLIENT).run("cat /etc/nomad.d/nomad.hcl").stdout
    assert agent_pids() == pids  # the agent runs the old configuration
    run = playbook("site.yml", "-e", meta)
    assert_succeeded(run, NODES)
    assert changed_hosts(run, FOUND_PENDING) == [CLIENT]
    after = agent_pids()
    assert [name for name in NODES if after[name] != pids[name]] == [CLIENT], (pids, after)
    assert_unchanged(playbook("site.yml", "-e", meta), NODES)


def assert_rolled(run, log, stops, readings, leader):
    """The servers restarted once each, the leader last, no call failed to a server that was not restarting
    outside the election, and 3 voters at every reading of the quorum probe."""
    assert_succeeded(run)
    failed = [entry for entry in log if not entry[2]]
    to_others = [entry for entry in failed if not to_restarting_server(entry, stops, log)]
    # Nomad 1.6 cannot transfer leadership and no server leaves the raft peers: from the leader's stop until
    # another server answers again, a follower may still forward to the stopped leader. That election
    # window is measured and printed; a failed call to another server outside it fails the test.
    leader_stop = stops[leader][0]
    answered = [m for m, a, ok, _d in log if ok and a != leader and m > leader_stop]
    window_end = min(answered) if answered else float("inf")
    in_window = [entry for entry in to_others if leader_stop <= entry[0] <= window_end]
    tolerances = [t for _m, t, _v in readings if t is not None]
    voters = [v for _m, _t, v in readings if v is not None]
    print(f"probe failed/total = {len(failed)}/{len(log)} round-robin "
          f"(as through a load balancer without health checks); {len(to_others)} failed calls to servers not "
          f"being restarted, {len(in_window)} of them in the election window "
          f"({min(window_end, time.time()) - leader_stop:.1f} s from the leader's stop); failure tolerance read "
          f"{len(tolerances)} times of {len(readings)} (0.5 s apart), lowest {min(tolerances)}, highest "
          f"{max(tolerances)}; voters {sorted(set(voters))} at {len(voters)} readings")
    for entry in failed[:12]:
        print(f"  {entry[0]:.1f} {entry[1]}: {entry[3]}")
    assert all(len(times) == 1 for times in stops.values()), stops  # each server restarted once
    order = sorted(stops, key=lambda address: stops[address][0])
    assert order[-1] == leader, (order, leader)  # the leader last
    assert [entry for entry in to_others if entry not in in_window] == [], to_others
    assert "/v1/operator/raft/peer" not in run.stdout  # restarted in place, never removed from the peers
    assert voters and set(voters) == {3}, readings


def leader_address():
    leader = json.loads(call(server_addresses()[0], "/v1/status/leader", secret("tokens/management.token"))[1])
    return leader.rsplit(":", 1)[0]


def test_an_interrupted_version_change_with_a_stopped_client_is_finished_by_the_next_run():
    version = testlib.NOMAD_PREVIOUS_VERSION
    current = running_version(SERVERS[0])
    # A stopped client (its node goes down at the servers) does not hold the servers back.
    assert node(CLIENT).run("systemctl stop nomad").rc == 0
    killed = run_playbook(PLAYBOOKS / "site.yml", "-e", f"nomad_version={version}",
                          kill_at_task="Install the verified nomad binary (predicted, the release is not fetched)")
    assert killed.returncode != 0 and "PLAY RECAP" not in killed.stdout, killed.stdout[-2000:]
    for name in NODES:
        assert node(name).run("nomad version").stdout.startswith(f"Nomad v{version}"), name
    for name in SERVERS:
        assert running_version(name) == current, name  # the binary is replaced, the agent not restarted
    leader = leader_address()
    run, log, stops, readings = change_version(version)
    print(f"\nINTERRUPTED VERSION CHANGE to {version}, finished by the next run: ", end="")
    assert_rolled(run, log, stops, readings, leader)
    assert changed_hosts(run, FOUND_PENDING) == sorted(SERVERS)
    for name in SERVERS:
        assert running_version(name) == version, name
    assert node(CLIENT).run("systemctl is-active nomad").stdout.strip() == "active"  # started with the new binary
    assert_unchanged(playbook("site.yml", "-e", f"nomad_version={version}"), NODES)


def test_version_change_restarts_in_place_leader_last_and_fails_no_call_to_the_other_servers_outside_the_election():
    version = testlib.NOMAD_VERSION
    leader = leader_address()
    run, log, stops, readings = change_version(version)
    print(f"\nVERSION CHANGE to {version}: ", end="")
    assert_rolled(run, log, stops, readings, leader)
    for name in NODES:
        assert node(name).run("nomad version").stdout.startswith(f"Nomad v{version}")
        assert node(name).run("systemctl is-failed nomad").stdout.strip() == "active"
        result = node(name).run("systemctl show -p Result --value nomad").stdout.strip()
        assert result == "success", (name, result)


def test_site_yml_after_all_rotations_changes_nothing():
    pids = agent_pids()
    assert_unchanged(playbook("site.yml"), NODES)
    assert agent_pids() == pids


@pytest.fixture(autouse=True)
def _show_duration(request):
    started = time.monotonic()
    yield
    print(f"\n{request.node.name}: {time.monotonic() - started:.1f} s")
