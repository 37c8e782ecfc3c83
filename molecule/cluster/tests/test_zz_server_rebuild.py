"""The cluster after its servers are rebuilt with the secrets kept.

Runs last (the file name): it wipes the servers' state. The servers' data dirs are
emptied while their agents are stopped, as if the hosts had been rebuilt; the
client keeps running with a node secret the new servers do not know.

site.yml rebuilds the servers' cluster, then refuses to restart the client by
itself: it fails naming the client and the two ways out (a snapshot restore, or
nomad_client_rejoin). With nomad_client_rejoin the client's agent is restarted,
validated, and site.yml ends when the client is registered and ready again.
"""
import time

from conftest import CLIENT, CLUSTER, SERVERS, api, converge, node
from testlib import assert_succeeded, recap


def agent_pid(name):
    return node(name).run("systemctl show --property MainPID --value nomad").stdout.strip()


def test_site_yml_refuses_to_restart_an_unknown_client_unless_asked(server1, management_token):
    client_pid = agent_pid(CLIENT)
    for name in SERVERS:
        host = node(name)
        assert host.run("systemctl stop nomad && rm -rf /var/lib/nomad/* && systemctl is-active nomad").rc != 0
    since = int(time.time())

    refused = converge()
    output = refused.stdout + refused.stderr  # failures go to stderr where display_failed_stderr is set
    fatal = " ".join(" ".join(line.split()) for line in output.splitlines() if line.startswith("fatal:"))
    assert refused.returncode != 0, refused.stdout[-3000:]
    counts = recap(refused)
    assert counts[CLIENT]["failed"] == 1 and not any(counts[name]["failed"] for name in SERVERS), (counts, fatal)
    flat = " ".join(output.split())
    assert f"The servers have no node named {CLIENT}, while its agent runs" in flat, fatal
    assert "Restoring the servers' last snapshot brings the client back with its allocations" in flat
    assert "nomad_client_rejoin: true" in flat
    assert agent_pid(CLIENT) == client_pid  # not restarted by the heal
    # the client's agent says why: the new servers refuse its heartbeats
    log = node(CLIENT).run(f"journalctl -u nomad --no-pager -o cat --since @{since}").stdout
    assert "Permission denied" in log or "node secret ID does not match" in log or "not found" in log, log[-3000:]

    started = time.monotonic()
    run = converge("-e", "nomad_client_rejoin=true")
    seconds = time.monotonic() - started
    assert_succeeded(run, CLUSTER)
    print(f"\nSERVER REBUILD: site.yml with nomad_client_rejoin until the client is ready: {seconds:.1f} s")
    status, nodes = api(server1, "/v1/nodes", token=management_token)
    assert status == "200" and [n["Status"] for n in nodes if n["Name"] == CLIENT] == ["ready"], nodes
    task = run.stdout.split("Register again the clients the servers do not know (nomad_client_rejoin)", 1)
    assert len(task) == 2, run.stdout[-3000:]
    assert f"changed: [{CLIENT}]" in task[1].split("TASK [", 1)[0], task[1][:800]
    assert agent_pid(CLIENT) != client_pid
