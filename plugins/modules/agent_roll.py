#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: agent_roll
short_description: Restart or reload the Nomad agent of this host when the cluster can spare it, and wait until it is back
version_added: 0.3.0
description:
  - One step of a rolling restart (docs/rotation.md). Runs on the host whose agent changes and calls that agent's
    own API.
  - B(A server) stops only when autopilot (C(GET /v1/operator/autopilot/health), O(token) with C(operator:read))
    reports a failure tolerance of at least 1, or reports this server not healthy (stopping it then costs
    nothing). Client states do not gate it. It is back when autopilot counts it a healthy voter again and
    the failure tolerance is what it was before. Without O(token) (before the ACL bootstrap) the gate and
    the wait are O(servers) raft peers and a leader.
  - Autopilot keeps a stopped server's last stats for about 35 s, so each reading is two answers 2.5 s apart, and
    a server whose stats did not move counts as not healthy, and the failure tolerance is recomputed.
    A restarted server is back when its own raft is in contact with the leader and autopilot counts it a
    healthy voter again, with the failure tolerance it had before. Clusters of fewer than 3 voters have no
    tolerance to keep, so they restart with a warning.
  - With O(leadership_transfer) (Nomad 1.7.0+, where the version table says the agent has it) a leader first
    hands its leadership to a healthy voter and waits until C(/v1/status/leader) names it. If that fails, it
    restarts anyway and says so in a warning.
  - B(A client) first reads the servers' node list and is not restarted when more of O(rollout_nodes) are not
    ready than O(max_fail_percentage) allows (the result then says RV(held), and the task does not fail). It is
    back when its restarted agent has reached the servers (its own C(last_heartbeat)) and the servers list its
    node C(ready). Without O(token) (before the ACL bootstrap) there is no brake and only the agent's own health
    is waited for.
  - Both validate the configuration first (C(nomad config validate)); a refused one fails the task and the
    agent keeps running. After a reload (O(action=reload)) the agent must serve the certificate of
    O(cert_file); only then does the stamp O(reload_stamp) record the reload for M(hardened.nomad.agent_pending).
author:
  - hardened.nomad contributors (@hardened-nomad)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - hardened.nomad.connection
options:
  action:
    description: V(restart) (the unit is restarted) or V(reload) (SIGHUP, the agent reads its TLS files again).
    type: str
    choices: [restart, reload]
    required: true
  role:
    description: Whether this host's agent is a V(server) or only a V(client).
    type: str
    choices: [server, client]
    required: true
  unit:
    description: The systemd unit of the agent.
    type: str
    default: nomad
  binary:
    description: The nomad binary, for C(nomad config validate).
    type: path
    default: /usr/local/bin/nomad
  config_dir:
    description: The agent's configuration directory, validated before the change.
    type: path
    default: /etc/nomad.d
  need_daemon_reload:
    description: Reload systemd's units before the restart (M(hardened.nomad.agent_pending) says when).
    type: bool
    default: false
  member:
    description: A server's advertised address, which identifies it in autopilot's answer.
    type: str
  servers:
    description: The number of servers, for the gate without O(token).
    type: int
    default: 0
  leadership_transfer:
    description:
      - Whether the agent can hand over its leadership (Nomad 1.7.0+, the version table's C(leadership_transfer)).
        A leader then first hands it to a healthy voter, one of O(restarted) if there is one, and restarts once
        C(/v1/status/leader) names that server. Needs a management O(token).
    type: bool
    default: false
  restarted:
    description: Advertised addresses of the servers already restarted in this roll, preferred as the new leader.
    type: list
    elements: str
    default: []
  node_name:
    description: A client's node name.
    type: str
  rollout_nodes:
    description: The node names of every client of this roll, for the brake.
    type: list
    elements: str
    default: []
  max_fail_percentage:
    description: How many of O(rollout_nodes), in percent, may be not ready at the servers before a client is no
      longer restarted.
    type: float
    default: 10
  cert_file:
    description: After a reload, the agent must serve this certificate (its C(agent.pem)).
    type: path
  reload_stamp:
    description: Touched after each reload.
    type: path
    default: /run/hardened-nomad/reloaded
  wait:
    description: Seconds each wait (the gate, the agent back) may take before the task fails.
    type: int
    default: 120
  interval:
    description: Seconds between two polls of the gate and of the node list.
    type: float
    default: 1
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
    details: In check mode nothing is asked or done; the result is the predicted change.
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Restart this server when the cluster can spare it
  hardened.nomad.agent_roll:
    action: restart
    role: server
    member: 10.0.0.11
    token: "{{ management_token }}"
    ca_file: /etc/nomad.d/tls/ca.pem
    client_cert: /etc/nomad.d/tls/agent.pem
    client_key: /etc/nomad.d/tls/agent-key.pem
"""

RETURN = r"""
events:
  description: What was done and seen, in order.
  returned: always
  type: list
  elements: str
  sample: [gate open, failure tolerance 1, configuration validated, agent restarted, back]
held:
  description: The client was not restarted because too many clients of the roll are not ready (the brake).
  returned: when the brake held the client
  type: bool
  sample: true
min_failure_tolerance:
  description: The lowest failure tolerance read (fresh, two answers apart) while this server was gated and waited for.
  returned: for a server, with O(token)
  type: int
  sample: 0
"""

from urllib.parse import urlparse

from ansible_collections.hardened.nomad.plugins.module_utils._module import ModuleFailure, NomadModule
from ansible_collections.hardened.nomad.plugins.module_utils._rollout import (
    Roll, RollFailure, pem_fingerprint, served_fingerprint)


def roll(module):
    params = module.params
    if params['role'] == 'server' and not params['member']:
        raise ModuleFailure('member (the server\'s advertised address) is required for a server')
    if params['role'] == 'client' and not params['node_name']:
        raise ModuleFailure('node_name is required for a client')
    if module.check_mode:
        return dict(changed=True, events=['check mode: the agent would be %s' % (
            'restarted' if params['action'] == 'restart' else 'reloaded')])
    fingerprints = None
    if params['action'] == 'reload' and params['cert_file']:
        url = urlparse(params['address'])

        def fingerprints():
            return (served_fingerprint(url.hostname, url.port or 4646, params['ca_file'], params['client_cert'],
                                       params['client_key']), pem_fingerprint(params['cert_file']))

    def run(argv):
        return module.run_command(argv)

    rolling = Roll(module.client, run, params, fingerprints=fingerprints)
    try:
        return rolling.server() if params['role'] == 'server' else rolling.client_node()
    except RollFailure as exc:
        raise ModuleFailure(exc.message, **exc.result)


def main():
    module = NomadModule(
        argument_spec=dict(
            action=dict(type='str', choices=['restart', 'reload'], required=True),
            role=dict(type='str', choices=['server', 'client'], required=True),
            unit=dict(type='str', default='nomad'),
            binary=dict(type='path', default='/usr/local/bin/nomad'),
            config_dir=dict(type='path', default='/etc/nomad.d'),
            need_daemon_reload=dict(type='bool', default=False),
            member=dict(type='str'),
            servers=dict(type='int', default=0),
            leadership_transfer=dict(type='bool', default=False),
            restarted=dict(type='list', elements='str', default=[]),
            node_name=dict(type='str'),
            rollout_nodes=dict(type='list', elements='str', default=[]),
            max_fail_percentage=dict(type='float', default=10),
            cert_file=dict(type='path'),
            reload_stamp=dict(type='path', default='/run/hardened-nomad/reloaded'),
            wait=dict(type='int', default=120),
            interval=dict(type='float', default=1),
        ),
        supports_check_mode=True,
    )
    module.run(roll)


if __name__ == '__main__':
    main()
