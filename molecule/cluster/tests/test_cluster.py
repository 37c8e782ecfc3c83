"""The hardened cluster, proven from inside the containers and by attacking it.

Tests that do not take testinfra's `host` fixture run once; the helpers in
conftest.py pick the nodes they act on.
"""
import contextlib
import json
import re
import subprocess
import time

import pytest
from conftest import (CLIENT, CLUSTER, OUTSIDER, SECRETS, SERVERS, TLS_DIR, address, api, converge, curl, node, operator_cli,
                      secret)
from testlib import assert_unchanged

# ---------------------------------------------------------------- the cluster


def test_three_raft_peers_with_a_leader(server1, management_token):
    status, config = api(server1, "/v1/operator/raft/configuration", token=management_token)
    assert status == "200"
    peers = {server["Node"]: server for server in config["Servers"]}
    assert sorted(peers) == sorted(f"{name}.global" for name in SERVERS)
    assert len([name for name, server in peers.items() if server["Leader"]]) == 1, peers
    assert all(server["Voter"] for server in peers.values())


def test_client_node_is_ready(server1, management_token):
    status, nodes = api(server1, "/v1/nodes", token=management_token)
    assert status == "200"
    assert [(n["Name"], n["Status"]) for n in nodes] == [(CLIENT, "ready")]


@pytest.mark.parametrize("server", SERVERS)
def test_gossip_keyring_holds_exactly_one_key(server, management_token):
    status, rings = api(node(server), "/v1/agent/keyring/list", token=management_token)
    assert status == "200"
    assert len(rings["Keys"]) == 1, rings
    (count,) = rings["Keys"].values()
    assert count == rings["NumNodes"] == len(SERVERS)
    # and it is the key site.yml made and kept in the secrets dir
    assert list(rings["Keys"]) == [secret("gossip.key")]


def test_operator_env_file_carries_the_operator_token_and_the_verified_cli():
    which = subprocess.run(["env", "-i", "PATH=/usr/bin:/bin", "bash", "-c",
                            f". {SECRETS / 'operator' / 'nomad.env'} && command -v nomad"],
                           capture_output=True, text=True, check=False)
    assert which.returncode == 0 and "/releases/" in which.stdout, which  # the release cache's binary
    me = operator_cli("acl", "token", "self")
    assert me.returncode == 0 and re.search(r"^Name\s*=\s*operator$", me.stdout, re.M), me.stdout + me.stderr
    assert "management" not in me.stdout
    refused = operator_cli("acl", "token", "list")
    assert refused.returncode != 0 and "Permission denied" in refused.stderr, refused
    admin = operator_cli("acl", "token", "self", env_file="nomad-management.env")
    assert admin.returncode == 0 and re.search(r"^Type\s*=\s*management$", admin.stdout, re.M), admin.stdout


def test_site_yml_warns_when_the_env_file_cannot_reach_the_cluster():
    outsider = address(OUTSIDER)  # no Nomad there: as unreachable as a firewalled server
    run = converge("--check", "-e", f"nomad_tls_operator_address=https://{outsider}:4646")
    assert run.returncode == 0, run.stdout[-3000:]
    flat = " ".join(run.stdout.split())
    assert f"WARNING: https://{outsider}:4646 (NOMAD_ADDR in" in flat and "nomad_firewall_http_extra_cidrs" in flat


def test_check_mode_after_converge_reports_no_change_and_no_warning():
    quiet = converge("--check")
    assert_unchanged(quiet, CLUSTER)
    assert "WARNING: https://" not in " ".join(quiet.stdout.split())


def test_operator_cli_over_mtls_with_the_operator_token():
    members = operator_cli("server", "members")
    assert members.returncode == 0, members.stderr
    assert sum(line.split()[4] == "true" for line in members.stdout.splitlines()[1:]) == 1  # one leader
    assert all(f"{name}.global" in members.stdout for name in SERVERS)
    nodes = operator_cli("node", "status")
    assert nodes.returncode == 0, nodes.stderr
    assert re.search(rf"{CLIENT}\s+\S+\s+false\s+eligible\s+ready", nodes.stdout), nodes.stdout


# ---------------------------------------------------------------- refused


def test_https_without_client_certificate_is_refused(server1):
    rc, status, _body, stderr = curl(server1, "https://127.0.0.1:4646/v1/agent/health", cert=False)
    assert rc != 0 and status == "000", (rc, status)
    assert re.search(r"certificate required|handshake|alert", stderr), stderr


def test_client_certificate_from_a_foreign_ca_is_refused(server1):
    # A CA and a client certificate with the right name, but not from the cluster CA.
    server1.run("rm -rf /tmp/foreign && mkdir /tmp/foreign")
    script = (
        "cd /tmp/foreign && "
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=Foreign "
        "-keyout ca.key -out ca.pem 2>/dev/null && "
        "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=cli.global.nomad "
        "-keyout cli.key -out cli.csr 2>/dev/null && "
        "openssl x509 -req -in cli.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -out cli.pem 2>/dev/null"
    )
    assert server1.run(script).rc == 0
    rc, status, _body, stderr = curl(server1, "https://127.0.0.1:4646/v1/agent/health",
                                     "--cert", "/tmp/foreign/cli.pem", "--key", "/tmp/foreign/cli.key", cert=False)
    server1.run("rm -rf /tmp/foreign")
    assert rc != 0 and status == "000", (rc, status)
    assert re.search(r"bad certificate|unknown ca|alert|handshake", stderr), stderr


def test_plain_http_is_refused(server1):
    result = server1.run("curl -sS --max-time 10 -o /tmp/plain -w '%{http_code}' http://127.0.0.1:4646/v1/agent/health")
    body = server1.run("cat /tmp/plain; rm -f /tmp/plain").stdout
    assert result.stdout.strip() == "400", result.stdout  # Go: "Client sent an HTTP request to an HTTPS server."
    assert "HTTPS server" in body
    assert '"server"' not in body and '"client"' not in body  # no health data leaked


def test_tls_1_1_is_refused_and_tls_1_2_accepted(server1):
    def handshake(version):
        return server1.run(
            f"echo | openssl s_client -connect 127.0.0.1:4646 -{version} -cipher 'DEFAULT:@SECLEVEL=0' "
            f"-CAfile {TLS_DIR}/ca.pem -cert {TLS_DIR}/agent.pem -key {TLS_DIR}/agent-key.pem 2>&1"
        )

    old = handshake("tls1_1")
    # the server answers a TLS 1.1 hello with alert 70 (protocol_version): no session
    assert "tlsv1 alert protocol version" in old.stdout, old.stdout
    assert "Cipher is (NONE)" in old.stdout and "no peer certificate available" in old.stdout
    modern = handshake("tls1_2")
    assert "Protocol  : TLSv1.2" in modern.stdout, modern.stdout
    cipher = re.search(r"Cipher is (\S+)", modern.stdout).group(1)
    assert cipher.startswith("ECDHE-ECDSA-") and ("GCM" in cipher or "CHACHA20" in cipher), cipher


@pytest.mark.parametrize("path", ["/v1/jobs", "/v1/nodes", "/v1/agent/self", "/v1/acl/tokens"])
def test_calls_without_a_token_get_403(server1, path):
    status, body = api(server1, path)
    assert status == "403", (status, body)
    assert "Permission denied" in body


def test_no_policy_is_named_anonymous(server1, management_token):
    status, policies = api(server1, "/v1/acl/policies", token=management_token)
    assert status == "200"
    assert "anonymous" not in [p["Name"] for p in policies]


def test_read_only_token_cannot_submit_a_job(server1):
    # A valid job: Nomad validates a job before its ACL check, so an invalid one
    # would be refused for the wrong reason (500 "Missing job task groups").
    job = ('{"Job":{"ID":"intruder","Name":"intruder","Type":"batch","Datacenters":["dc1"],'
           '"TaskGroups":[{"Name":"g","Count":1,"Tasks":[{"Name":"t","Driver":"docker",'
           '"Config":{"image":"busybox"}}]}]}}')
    server1.run(f"printf '%s' '{job}' > /tmp/job.json")

    def submit(token, path="/v1/jobs"):
        rc, status, body, stderr = curl(server1, f"https://127.0.0.1:4646{path}", "-X", "POST",
                                        "--data-binary", "@/tmp/job.json", token=token)
        assert rc == 0, stderr
        return status, body

    status, body = submit(secret("tokens/readonly.token"))
    assert status == "403" and "Permission denied" in body, (status, body)
    # the same token may read; the operator persona may plan the same job (a dry run)
    assert api(server1, "/v1/jobs", token=secret("tokens/readonly.token"))[0] == "200"
    status, body = submit(secret("tokens/operator.token"), "/v1/job/intruder/plan")
    assert status == "200", (status, body)
    assert api(server1, "/v1/job/intruder", token=secret("tokens/operator.token"))[0] == "404"  # never registered
    server1.run("rm -f /tmp/job.json")


@contextlib.contextmanager
def rogue_server(with_gossip_key):
    """A server agent on the spare node with a stolen client certificate.

    The firewall is opened for the spare node while it runs, so that only
    mutual TLS (and, without the key, gossip encryption) stand in its way.
    Yields the rogue's address; afterwards the cluster is back to 3 voters.
    """
    spare = node(OUTSIDER)
    spare_ip = address(OUTSIDER)
    server_ips = [address(name) for name in SERVERS]
    # The client node's own certificate and key: what a compromised client holds.
    subprocess.run(f"docker cp {CLIENT}:{TLS_DIR} /tmp/hn-stolen-tls && docker cp /tmp/hn-stolen-tls {OUTSIDER}:/etc/rogue-tls"
                   f" && rm -rf /tmp/hn-stolen-tls && docker cp {SERVERS[0]}:/usr/local/bin/nomad /tmp/hn-nomad"
                   f" && docker cp /tmp/hn-nomad {OUTSIDER}:/usr/local/bin/nomad && rm -f /tmp/hn-nomad",
                   shell=True, check=True)
    encrypt = f'encrypt = "{secret("gossip.key")}"' if with_gossip_key else ""
    config = f"""
data_dir  = "/var/lib/rogue"
bind_addr = "{spare_ip}"
advertise {{
  http = "{spare_ip}"
  rpc  = "{spare_ip}"
  serf = "{spare_ip}"
}}
server {{
  enabled          = true
  bootstrap_expect = 3
  {encrypt}
  server_join {{
    retry_join     = {json.dumps(server_ips)}
    retry_interval = "5s"
  }}
}}
tls {{
  http = true
  rpc  = true
  ca_file   = "/etc/rogue-tls/ca.pem"
  cert_file = "/etc/rogue-tls/agent.pem"
  key_file  = "/etc/rogue-tls/agent-key.pem"
  verify_server_hostname = true
  verify_https_client    = true
}}
"""
    spare.run("mkdir -p /etc/rogue /var/lib/rogue")
    spare.run(f"cat > /etc/rogue/rogue.hcl <<'EOF'\n{config}\nEOF")
    for name in SERVERS:
        assert node(name).run(f"nft add element inet hardened_nomad servers_v4 {{ {spare_ip} }} && "
                              f"nft add element inet hardened_nomad members_v4 {{ {spare_ip} }}").rc == 0
    started = spare.run("systemd-run --unit rogue-nomad /usr/local/bin/nomad agent -config /etc/rogue")
    assert started.rc == 0, started.stderr
    try:
        yield spare_ip
    finally:
        spare.run("systemctl stop rogue-nomad; systemctl reset-failed rogue-nomad;"
                  " rm -rf /etc/rogue /etc/rogue-tls /var/lib/rogue /usr/local/bin/nomad")
        for name in SERVERS:
            node(name).run("systemctl reload nomad-firewall")  # back to the declared sets
        operator_cli("server", "force-leave", "-prune", "hn-outsider.global")
        for _attempt in range(60):  # autopilot drops the dead entry; remove it by hand if it lingers
            peers = raft_peers()
            if len(peers) == 3:
                break
            for peer in peers:
                if peer["Address"].startswith(spare_ip + ":"):
                    operator_cli("operator", "raft", "remove-peer", f"-peer-id={peer['ID']}")
            time.sleep(2)
        assert len(raft_peers()) == 3


def raft_peers():
    status, config = api(node(SERVERS[0]), "/v1/operator/raft/configuration", token=secret("tokens/management.token"))
    assert status == "200"
    return config["Servers"]


def test_server_with_a_client_certificate_never_becomes_a_raft_peer():
    """A compromised client node (client certificate, no gossip key) cannot join as a server."""
    with rogue_server(with_gossip_key=False) as rogue_ip:
        for _round in range(12):  # 24 s: many serf and raft rounds
            time.sleep(2)
            addresses = [peer["Address"] for peer in raft_peers()]
            assert len(addresses) == 3 and not [a for a in addresses if a.startswith(rogue_ip + ":")], addresses
        members = operator_cli("server", "members")
        assert members.returncode == 0 and "hn-outsider" not in members.stdout, members.stdout + members.stderr


def test_rogue_server_with_the_gossip_key_never_gets_a_vote_or_the_log():
    """Even with the servers' gossip key too, mTLS keeps the rogue out of raft.

    Serf then lets it in and autopilot adds it as a NON-voter, but every raft
    connection between it and the servers fails verify_server_hostname: it is
    never promoted and never receives a log entry. (Autopilot reports the
    cluster unhealthy meanwhile: the gossip key is a membership secret, kept on
    servers and the controller only, and rotated with rotate_gossip_key.yml.)
    """
    with rogue_server(with_gossip_key=True) as rogue_ip:
        # At least 24 s (many serf and raft rounds), and until autopilot lists the rogue (its join is
        # retried every 5 s), at most 90 s; never a voter at any poll.
        for _round in range(45):
            time.sleep(2)
            rogue = [peer for peer in raft_peers() if peer["Address"].startswith(rogue_ip + ":")]
            assert all(not peer["Voter"] for peer in rogue), rogue  # listed (as a non-voter) or not at all
            status, health = curl(node(SERVERS[0]), "https://127.0.0.1:4646/v1/operator/autopilot/health",
                                  token=secret("tokens/management.token"))[1:3]
            health = json.loads(health)
            rogue_health = [s for s in health["Servers"] if s["Address"].startswith(rogue_ip + ":")]
            if rogue_health and _round >= 11:
                break
        assert rogue_health, health  # autopilot knows the rogue (serf let it in), and it is kept out:
        assert all(s["LastIndex"] == 0 and not s["Voter"] and not s["Healthy"] for s in rogue_health), rogue_health
        # Autopilot's voters, from each server's Voter flag (1.6 has no top-level "Voters" list).
        voters = [s["ID"] for s in health["Servers"] if s["Voter"]]
        assert sorted(voters) == sorted(p["ID"] for p in raft_peers() if p["Voter"])
        assert len(voters) == 3
        log = node(OUTSIDER).run("journalctl -u rogue-nomad --no-pager").stdout
        assert "tls: bad certificate" in log, log[-2000:]


# ---------------------------------------------------------------- the outsider


@pytest.mark.parametrize("port", [4646, 4647, 4648])
def test_outsider_cannot_reach_tcp_ports(port):
    outsider = node(OUTSIDER)
    for server_ip in [address(name) for name in SERVERS]:
        probe = outsider.run(f"nc -z -w 3 {server_ip} {port}")
        assert probe.rc != 0, f"{server_ip}:{port} answered the outsider"


def test_outsider_udp_gossip_is_dropped():
    outsider = node(OUTSIDER)
    for name in SERVERS:
        server = node(name)

        def dropped_packets():
            rules = server.run("nft list chain inet hardened_nomad input").stdout
            line = next(line for line in rules.splitlines() if "4648" in line and "drop" in line)
            return int(re.search(r"packets (\d+)", line).group(1))

        before = dropped_packets()
        outsider.run(f"for i in 1 2 3 4 5; do echo probe | nc -u -w 1 {address(name)} 4648; done")
        assert dropped_packets() >= before + 5


def test_members_still_reach_what_they_need():
    # the client reaches the servers' RPC port; the outsider does not (above)
    client = node(CLIENT)
    for server_ip in [address(name) for name in SERVERS]:
        assert client.run(f"nc -z -w 3 {server_ip} 4647").rc == 0
        assert client.run(f"nc -z -w 3 {server_ip} 4648").rc != 0  # gossip is for servers only


# ---------------------------------------------------------------- firewall


@pytest.mark.parametrize("name", SERVERS + [CLIENT])
def test_firewall_table_survives_an_nftables_restart(name):
    host = node(name)
    assert host.run("systemctl restart nftables").rc == 0
    # systemctl waits for nftables' own job; the firewall unit's restart (PartOf=) runs just after it.
    for _attempt in range(20):
        table = host.run("nft list table inet hardened_nomad")
        if table.rc == 0:
            break
        time.sleep(0.25)
    assert table.rc == 0, table.stderr
    assert "tcp dport 4647" in table.stdout


def test_firewall_touches_only_nomad_ports(server1):
    table = server1.run("nft list table inet hardened_nomad").stdout
    assert "policy accept" in table
    ports = set(re.findall(r"dport (\d+)", table))
    assert ports == {"4646", "4647", "4648"}
    # Every rule of the chain is about one of those ports: other traffic passes untouched.
    rules = re.search(r"chain input \{\n\s*type filter hook input[^\n]*\n(.*?)\n\s*\}", table, re.S).group(1)
    rules = [rule.strip() for rule in rules.splitlines() if rule.strip()]
    assert rules and all(re.search(r"dport (4646|4647|4648) ", rule) for rule in rules), rules


def test_firewall_can_be_switched_off_and_on_again():
    client = node(CLIENT)
    off = converge("--tags", "firewall", "--limit", CLIENT, "-e", "nomad_firewall_enabled=false")
    assert off.returncode == 0, off.stdout[-3000:]
    assert client.run("nft list table inet hardened_nomad").rc != 0  # the table is gone
    assert not client.file("/etc/systemd/system/nomad-firewall.service").exists
    assert not client.file("/etc/nftables.hardened-nomad.nft").exists
    on = converge("--tags", "firewall")
    assert on.returncode == 0, on.stdout[-3000:]
    assert "tcp dport 4647" in client.run("nft list table inet hardened_nomad").stdout
    assert client.service("nomad-firewall").is_enabled


# ---------------------------------------------------------------- least privilege on the hosts


@pytest.mark.parametrize("name, user", [(n, "nomad") for n in SERVERS] + [(CLIENT, "root")])
def test_agent_user(name, user):
    host = node(name)
    pid = host.run("systemctl show --property MainPID --value nomad").stdout.strip()
    assert host.run(f"ps -o user= -p {pid}").stdout.strip() == user


@pytest.mark.parametrize("name", SERVERS + [CLIENT])
def test_no_ca_key_on_any_node(name):
    # The second PEM line: the first starts with the ASN.1 header all P-256 keys share.
    ca_key_line = unique_key_line(secret("ca/ca-key.pem"))
    host = node(name)
    search = "grep -rlsF '{}' /etc /var/lib/nomad /root /tmp /home /opt /srv"
    found = host.run(search.format(ca_key_line))
    assert found.stdout.strip() == "", found.stdout
    # the same search finds the node's own key, so an empty answer is not a search that read nothing
    own_key_line = unique_key_line(host.file(f"{TLS_DIR}/agent-key.pem").content_string)
    assert f"{TLS_DIR}/agent-key.pem" in host.run(search.format(own_key_line)).stdout.splitlines()
    assert host.run("find / -xdev -name 'ca-key.pem' 2>/dev/null").stdout.strip() == ""


@pytest.mark.parametrize("name, user", [(n, "nomad") for n in SERVERS] + [(CLIENT, "root")])
def test_files_owners_and_modes(name, user):
    host = node(name)
    expected = {
        f"{TLS_DIR}/agent-key.pem": (user, 0o600),
        "/etc/nomad.d/nomad.hcl": ("root", 0o640),
        "/var/lib/nomad": (user, 0o700),
        "/etc/nomad.d": ("root", 0o750),
    }
    if name in SERVERS:
        expected["/etc/nomad.d/gossip.hcl"] = ("root", 0o640)
    for path, (owner, mode) in expected.items():
        f = host.file(path)
        assert (f.user, f.mode) == (owner, mode), path
    assert host.file("/etc/nomad.d/nomad.hcl").group == "nomad"


@pytest.mark.parametrize("name", SERVERS + [CLIENT])
def test_certificate_names_are_bound_to_role_and_region(name):
    host = node(name)
    text = host.run(f"openssl x509 -in {TLS_DIR}/agent.pem -noout -subject -ext subjectAltName").stdout
    role = "server" if name in SERVERS else "client"
    other = "client" if role == "server" else "server"
    # OpenSSL 3.0 (Debian 11, 12) prints "CN = x", 3.5 (Debian 13) "CN=x"
    assert f"CN={role}.global.nomad" in text.replace(" = ", "="), text
    assert f"DNS:{role}.global.nomad" in text and "DNS:localhost" in text and "IP Address:127.0.0.1" in text
    assert f"IP Address:{address(name)}" in text
    assert f"{other}.global.nomad" not in text


# ---------------------------------------------------------------- the playbook itself


def unique_key_line(pem):
    """A PEM line only this key has (the first holds the header every P-256 key shares)."""
    return pem.strip().splitlines()[2]


def test_no_secret_in_verbose_output():
    run = converge("-vvv")
    assert run.returncode == 0, run.stdout[-3000:]
    output = run.stdout + run.stderr
    secrets = {
        "gossip key": secret("gossip.key"),
        "ACL bootstrap secret": secret("acl-bootstrap.secret"),
        "readonly token": secret("tokens/readonly.token"),
        "operator token": secret("tokens/operator.token"),
        "CA private key": unique_key_line(secret("ca/ca-key.pem")),
        "operator private key": unique_key_line(secret("operator/cli-key.pem")),
    }
    for name in SERVERS + [CLIENT]:
        secrets[f"{name} private key"] = unique_key_line(node(name).run(f"cat {TLS_DIR}/agent-key.pem").stdout)
    leaked = [what for what, value in secrets.items() if value and value in output]
    assert leaked == [], f"secrets in -vvv output: {leaked}"
    # the run did real work at -vvv (module invocations were printed)
    assert "Using module file " in output and "/plugins/modules/acl_bootstrap.py" in output
