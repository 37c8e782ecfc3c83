#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: leader_handover
short_description: Hand the raft leadership of a Nomad server over to another server before it stops
version_added: 0.2.0
description:
  - Run against a server agent just before it restarts. When that server is the raft leader, it hands the leadership
    over, so the restart costs no election and the followers never forward a request to a stopped leader (HTTP 500
    C(failed to get conn ... connection refused)). A server that is not the leader is left alone (RV(handed_over=false)).
  - 'Nomad 1.6 has no leadership transfer (C(nomad operator raft transfer-leadership) came with 1.7), so the module
    does what 1.6 offers: the leader removes itself from the raft peers (C(DELETE /v1/operator/raft/peer)), keeps
    running and steps down; the other servers elect a leader; the new leader adds the server, still in the gossip
    pool, back as a non-voter, and autopilot makes it a voter again after C(server_stabilization_time) (10 s by
    default). The module waits for each step and returns once the server is a voter and autopilot reports the
    cluster healthy.'
  - Requests that reach the stepping-down server while no leader is known are held by Nomad for up to 5 s
    (C(RPCHoldTimeout)) and answered once the new leader is elected.
  - The handover is skipped (not failed) when autopilot says the cluster cannot lose a voter (a failure tolerance of
    0, for example one or two servers, or one of three unhealthy), because the removal needs the other voters to
    commit.
author:
  - hardened.nomad contributors (@hardened-nomad)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - hardened.nomad.connection
options:
  wait:
    description:
      - Seconds to wait, in all, for a new leader and for the server's return as a voter.
    type: int
    default: 120
  interval:
    description:
      - Seconds between two polls.
    type: float
    default: 1
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
    details: Reads the cluster and predicts whether the leadership would be handed over; changes nothing.
  diff_mode:
    support: none
notes:
  - The O(token) needs C(agent:read) and C(operator:write), in practice a management token.
  - While the server is out of the raft peers (about 10 to 25 s) the cluster cannot lose another voter, as during
    any server restart.
seealso:
  - module: hardened.nomad.agent_health
"""

EXAMPLES = r"""
- name: Hand the leadership over before restarting this server
  hardened.nomad.leader_handover:
    ca_file: /etc/nomad.d/tls/ca.pem
    client_cert: /etc/nomad.d/tls/agent.pem
    client_key: /etc/nomad.d/tls/agent-key.pem
    token: "{{ management_token }}"
  no_log: false
"""

RETURN = r"""
handed_over:
  description: Whether the server was the leader and handed the leadership over (in check mode, whether it would).
  returned: success
  type: bool
  sample: true
previous_leader:
  description: The RPC address of the server that stepped down.
  returned: when RV(handed_over) is true
  type: str
  sample: 10.0.0.11:4647
leader:
  description: The RPC address of the new leader.
  returned: when RV(handed_over) is true and not in check mode
  type: str
  sample: 10.0.0.12:4647
waited:
  description: Seconds from the step-down until the server was a voter again.
  returned: when RV(handed_over) is true and not in check mode
  type: float
  sample: 14.2
"""

from ansible_collections.hardened.nomad.plugins.module_utils._module import ModuleFailure, NomadModule
from ansible_collections.hardened.nomad.plugins.module_utils._raft import HandoverError, LeaderHandover


def hand_over(module):
    handover = LeaderHandover(module.client, wait=module.params['wait'], interval=module.params['interval'])
    try:
        own, reason = handover.plan()
        if own is None:
            return dict(changed=False, handed_over=False, msg=reason)
        if module.check_mode:
            return dict(changed=True, handed_over=True, previous_leader=own['Address'],
                        msg='%s leads and would hand the leadership over' % own['Address'])
        leader, waited = handover.hand_over(own)
    except HandoverError as exc:
        raise ModuleFailure(str(exc))
    return dict(changed=True, handed_over=True, previous_leader=own['Address'], leader=leader, waited=waited,
                msg='%s handed the leadership to %s and is a voter again after %.1f s'
                    % (own['Address'], leader, waited))


def main():
    module = NomadModule(
        argument_spec=dict(
            wait=dict(type='int', default=120),
            interval=dict(type='float', default=1),
        ),
        supports_check_mode=True,
    )
    module.run(hand_over)


if __name__ == '__main__':
    main()
