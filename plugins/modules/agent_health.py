#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: agent_health
short_description: Wait until a Nomad agent is healthy, the cluster has a leader and every server, and clients are ready
version_added: 0.2.0
description:
  - Polls C(GET /v1/agent/health) until the agent answers 200.
  - With O(servers), also polls C(GET /v1/status/peers) until that many servers are raft peers and
    C(GET /v1/status/leader) until a leader is named. After a server restart this is the point where
    the next server may restart without risking the quorum.
  - With O(nodes), also polls C(GET /v1/nodes) until a client node of each of those names is registered with
    status C(ready). This needs a O(token) with C(node:read). A converge ends only when its clients can take work
    (a client may register about 20 s after the first election).
  - Every failed call (refused connection while the agent starts, a 500 while it joins, a TLS error
    while a certificate is replaced) is retried until O(wait) runs out; the failure then names what was
    still missing and the last answer.
  - One module run for what took three C(uri) tasks, each with its own retries.
author:
  - hardened.nomad contributors (@hardened-nomad)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - hardened.nomad.connection
options:
  servers:
    description:
      - Number of servers that must be raft peers, with a leader among them. V(0) checks the agent's
        own health only (a client, or a server whose cluster is not to be checked).
    type: int
    default: 0
  nodes:
    description:
      - Names of client nodes (their Nomad C(name)) that must be registered and C(ready). On failure the
        result's RV(not_ready) lists them.
    type: list
    elements: str
    default: []
  members:
    description:
      - The servers of the inventory, as a dict of inventory host name to the address it advertises. With
        O(servers), the result's RV(leader_member) names the host the leader runs on.
    type: dict
  wait:
    description:
      - Seconds to keep polling before the task fails.
    type: int
    default: 120
  interval:
    description:
      - Seconds between two polls.
    type: float
    default: 2
attributes:
  platform:
    platforms: posix
  check_mode:
    support: none
    details: Skipped in check mode, where the agent may not run yet.
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Wait for the restarted server and its cluster
  hardened.nomad.agent_health:
    ca_file: /etc/nomad.d/tls/ca.pem
    client_cert: /etc/nomad.d/tls/agent.pem
    client_key: /etc/nomad.d/tls/agent-key.pem
    servers: 3
    wait: 120

- name: Wait until the clients are registered and ready
  hardened.nomad.agent_health:
    ca_file: /etc/nomad.d/tls/ca.pem
    client_cert: /etc/nomad.d/tls/agent.pem
    client_key: /etc/nomad.d/tls/agent-key.pem
    token: "{{ management_token }}"
    nodes: [worker-1, worker-2]
    wait: 180
"""

RETURN = r"""
leader:
  description: The leader's RPC address, when O(servers) is set.
  returned: success and O(servers) > 0
  type: str
  sample: 10.0.0.11:4647
leader_member:
  description: The inventory host of O(members) whose address is the leader's, when O(servers) and O(members) are set.
  returned: success, O(servers) > 0 and O(members) set
  type: str
  sample: server-2
peers:
  description: The raft peers' RPC addresses, when O(servers) is set.
  returned: success and O(servers) > 0
  type: list
  elements: str
  sample: [10.0.0.11:4647, 10.0.0.12:4647, 10.0.0.13:4647]
nodes:
  description: Status of each node in O(nodes), by name (C(ready) on success).
  returned: when O(nodes) is set
  type: dict
  sample: {worker-1: ready}
not_ready:
  description: The names in O(nodes) that were not registered and ready when the wait ran out.
  returned: failure, when O(nodes) is set
  type: list
  elements: str
  sample: [worker-2]
waited:
  description: Seconds spent until every check passed.
  returned: success
  type: float
  sample: 4.1
"""

import time

from ansible_collections.hardened.nomad.plugins.module_utils._api import NomadError
from ansible_collections.hardened.nomad.plugins.module_utils._module import ModuleFailure, NomadModule


def check_once(client, servers):
    """(missing, leader, peers): missing says what is not ready yet, None once every check passes."""
    try:
        client.get('/v1/agent/health')
    except NomadError as exc:
        return 'the agent is not healthy: %s' % exc.message, None, None
    if servers <= 0:
        return None, None, None
    try:
        peers = client.get('/v1/status/peers') or []
        leader = client.get('/v1/status/leader') or ''
    except NomadError as exc:
        return 'the cluster status is not available: %s' % exc.message, None, None
    if len(peers) != servers:
        return '%d of %d servers are raft peers (%s)' % (len(peers), servers, ', '.join(peers) or 'none'), None, None
    if not leader:
        return 'no leader is elected', None, None
    return None, leader, peers


def leader_member(members, leader):
    """The host of members whose address is the leader's ("10.0.0.5:4647" or "[fd00::5]:4647")."""
    address = leader.rsplit(':', 1)[0].strip('[]')
    matches = sorted(host for host, advertised in members.items() if str(advertised).strip('[]') == address)
    if len(matches) != 1:
        raise ModuleFailure('the leader %s is not the address of exactly one server of members (%s): put every server '
                            'in the inventory, with the address it advertises'
                            % (leader, ', '.join('%s=%s' % item for item in sorted(members.items()))))
    return matches[0]


def check_nodes(client, names):
    """(missing, statuses, final) for the wanted client nodes; missing is None once all are ready.

    A name counts as ready if any node of that name is (a rebuilt client may be listed twice: its
    old, down node and the new one). final is true when waiting cannot help (a token without
    node:read).
    """
    try:
        listed = client.get('/v1/nodes') or []
    except NomadError as exc:
        return ('the node list is not available: %s' % exc.message, dict((name, 'unknown') for name in names),
                exc.status == 403)
    statuses = dict((name, 'not registered') for name in names)
    for stub in listed:
        name = stub.get('Name')
        if name in statuses and statuses[name] != 'ready':
            statuses[name] = stub.get('Status') or 'unknown'
    waiting = ['%s (%s)' % (name, status) for name, status in sorted(statuses.items()) if status != 'ready']
    if waiting:
        return 'client nodes not ready: %s' % ', '.join(waiting), statuses, False
    return None, statuses, False


def wait_healthy(module):
    params = module.params
    client = module.client
    nodes = params['nodes']
    start = time.monotonic()
    deadline = start + params['wait']
    statuses = dict((name, 'not checked yet') for name in nodes)
    while True:
        final = False
        missing, leader, peers = check_once(client, params['servers'])
        if missing is None and nodes:
            missing, statuses, final = check_nodes(client, nodes)
        if missing is None:
            result = dict(changed=False, waited=round(time.monotonic() - start, 1))
            if params['servers'] > 0:
                result.update(leader=leader, peers=peers)
                if params['members']:
                    result['leader_member'] = leader_member(params['members'], leader)
            if nodes:
                result.update(nodes=statuses)
            return result
        if final or time.monotonic() >= deadline:
            extra = {}
            if nodes:
                extra = dict(nodes=statuses, not_ready=sorted(n for n, status in statuses.items() if status != 'ready'))
            raise ModuleFailure('%s is still not ready after %d seconds: %s.' % (
                client.address, params['wait'], missing), **extra)
        time.sleep(params['interval'])


def main():
    module = NomadModule(
        argument_spec=dict(
            servers=dict(type='int', default=0),
            nodes=dict(type='list', elements='str', default=[]),
            members=dict(type='dict'),
            wait=dict(type='int', default=120),
            interval=dict(type='float', default=2),
        ),
        supports_check_mode=False,
    )
    module.run(wait_healthy)


if __name__ == '__main__':
    main()
