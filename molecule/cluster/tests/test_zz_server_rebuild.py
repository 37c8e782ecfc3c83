"""The cluster heals after its servers are rebuilt with the secrets kept.

Runs last (the file name): it wipes the servers' state. The servers' data dirs are
emptied while their agents are stopped, as if the hosts had been rebuilt; the
client keeps running with a node secret the new servers do not know. site.yml must
end only when the client is registered and ready again.
"""
import time

from conftest import CLIENT, CLUSTER, SERVERS, api, converge, node
from testlib import assert_succeeded


def test_site_yml_brings_the_clients_back_after_a_server_rebuild(server1, management_token):
    for name in SERVERS:
        host = node(name)
        assert host.run("systemctl stop nomad && rm -rf /var/lib/nomad/* && systemctl is-active nomad").rc != 0
    started = time.monotonic()
    since = int(time.time())
    run = converge()
    seconds = time.monotonic() - started
    assert_succeeded(run, CLUSTER)
    print(f"\nSERVER REBUILD: site.yml after the rebuild until every client is ready: {seconds:.1f} s")
    status, nodes = api(server1, "/v1/nodes", token=management_token)
    assert status == "200" and [n["Status"] for n in nodes if n["Name"] == CLIENT] == ["ready"], nodes
    # the heal was needed: the client had been refused by the new servers, and its agent was restarted
    log = node(CLIENT).run(f"journalctl -u nomad --no-pager -o cat --since @{since}").stdout
    assert "Permission denied" in log or "node secret ID does not match" in log or "not found" in log, log[-3000:]
    task = run.stdout.split("Restart, once, the agent of each client that is not ready", 1)
    assert len(task) == 2, run.stdout[-3000:]
    restarted = [line for line in task[1].splitlines()[1:4] if line.startswith("changed:")]
    assert restarted and f"(item={CLIENT})" in restarted[0], task[1][:500]
