# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The rolling restart's plan (roles/common/tasks/roll.yml); the rules are in module_utils/_rollout.py."""

from __future__ import annotations

from ansible_collections.hardened.nomad.plugins.module_utils import _rollout


def nomad_roll_plan(pending, servers, leader='', batch='10%', check_mode=False):
    """Who changes and in which order, from each host's hardened.nomad.agent_pending result.

    ``pending`` maps the play's hosts to that result ({} for a host that did not read it). Returns
    ``servers``: the servers to change, one at a time, the leader last; ``clients``: the other hosts
    to change; ``batch``: how many clients change at once; ``action``: host -> restart or reload. In
    check mode the files were not written, so a running agent whose handler was notified is
    predicted to restart.
    """
    action = {}
    for host, result in (pending or {}).items():
        if not result or not result.get('active'):
            continue
        wanted = result.get('action', _rollout.NOTHING)
        if wanted == _rollout.NOTHING and check_mode:
            wanted = _rollout.RESTART
        if wanted != _rollout.NOTHING:
            action[host] = wanted
    server_hosts = [host for host in pending if host in action and host in servers]
    clients = [host for host in pending if host in action and host not in servers]
    return dict(servers=_rollout.server_order(server_hosts, leader), clients=clients,
                batch=_rollout.batch_size(batch, len(clients)), action=action)


def nomad_batch_size(spec, count):
    """How many of ``count`` clients change at once for nomad_client_rolling_batch ``spec``."""
    return _rollout.batch_size(spec, int(count))


class FilterModule:
    def filters(self):
        return {'nomad_roll_plan': nomad_roll_plan, 'nomad_batch_size': nomad_batch_size}
