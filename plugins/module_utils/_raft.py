# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Raft leadership of a Nomad server: hand it over before the server stops.

Private to the collection. Nomad 1.7 added a leadership transfer (``nomad operator raft
transfer-leadership``); Nomad 1.6 has none, so a stopped leader leaves the followers forwarding
requests to a dead address until their raft heartbeat times out (HTTP 500 ``failed to get conn``).
What 1.6 offers instead, and what its own code expects (nomad/operator_endpoint.go,
``RaftRemovePeerByID``: a peer still in the gossip pool "will come back when the leader does a
reconcile pass"):

1. the leader removes itself from the raft peers (``DELETE /v1/operator/raft/peer?id=``);
   Nomad runs raft with ``ShutdownOnRemove = false``, so it steps down and keeps serving,
   holding the requests it gets until a leader is known again (``RPCHoldTimeout``, 5 s);
2. the other servers elect a leader among themselves;
3. the new leader adds the server, still alive in the gossip pool, back as a non-voter, and
   autopilot makes it a voter after ``server_stabilization_time`` (10 s).

The server is then an ordinary follower, and stopping it costs no election. ``LeaderHandover``
does these steps and waits for each; it refuses to start when the cluster could not lose a
voter (autopilot's failure tolerance is 0), since the removal needs the other voters to commit.
"""

from __future__ import annotations

import time

from ansible_collections.hardened.nomad.plugins.module_utils._api import NomadError


class HandoverError(Exception):
    """The handover failed; the message says where and what to do."""


class LeaderHandover:
    """Hand the raft leadership of the agent behind ``client`` to another server, if it leads."""

    def __init__(self, client, wait=120, interval=1.0, clock=time.monotonic, sleep=time.sleep):
        self.client = client
        self.wait = wait
        self.interval = interval
        self.clock = clock
        self.sleep = sleep

    # -- reading --------------------------------------------------------------------------

    def own_id(self):
        """The raft ID of the agent (its node ID, the gossip tag ``id``); fails on a client agent."""
        member = (self.client.get('/v1/agent/self') or {}).get('member') or {}
        tags = member.get('Tags') or {}
        if tags.get('role') != 'nomad' or not tags.get('id'):
            raise HandoverError('%s is not a Nomad server agent (its gossip member has no server tags): '
                                'only a server can hold the raft leadership' % self.client.address)
        return tags['id']

    def peers(self):
        """The raft configuration's servers: dicts with ID, Node, Address, Leader, Voter."""
        return (self.client.get('/v1/operator/raft/configuration') or {}).get('Servers') or []

    def autopilot(self):
        return self.client.get('/v1/operator/autopilot/health') or {}

    # -- the handover ---------------------------------------------------------------------

    def plan(self):
        """(own peer entry or None, reason): the entry when this agent leads and may hand over."""
        own_id = self.own_id()
        peers = self.peers()
        own = next((peer for peer in peers if peer.get('ID') == own_id), None)
        if own is None:
            raise HandoverError('%s (raft ID %s) is not a raft peer: see `nomad operator raft list-peers`'
                                % (self.client.address, own_id))
        if not own.get('Leader'):
            leader = next((peer.get('Address') for peer in peers if peer.get('Leader')), 'none')
            return None, '%s is not the leader (the leader is %s)' % (own.get('Address'), leader)
        health = self.autopilot()
        tolerance = health.get('FailureTolerance') or 0
        if not health.get('Healthy') or tolerance < 1:
            reason = ('the cluster cannot spare a voter (autopilot: healthy %s, failure tolerance %d), so %s keeps '
                      'the leadership until it stops')
            return None, reason % (health.get('Healthy'), tolerance, own.get('Address'))
        return own, None

    def hand_over(self, own):
        """Remove the leader from the peers, wait for a new leader and for its return as a voter."""
        start = self.clock()
        deadline = start + self.wait
        try:
            self.client.request('DELETE', '/v1/operator/raft/peer', query={'id': own['ID']})
        except NomadError as exc:
            raise HandoverError('%s could not step down (removing raft peer %s): %s'
                                % (own['Address'], own['ID'], exc.message))
        leader = self._until(deadline, lambda: self._new_leader(own),
                             'no other server became the leader after %s stepped down' % own['Address'])
        self._until(deadline, lambda: self._voter_again(own),
                    '%s stepped down (%s leads now) but is not a voter again' % (own['Address'], leader))
        return leader, round(self.clock() - start, 1)

    def _new_leader(self, own):
        leader = self.client.get('/v1/status/leader') or ''
        return leader if leader and leader != own['Address'] else None

    def _voter_again(self, own):
        back = any(peer.get('ID') == own['ID'] and peer.get('Voter') for peer in self.peers())
        return back and self.autopilot().get('Healthy')

    def _until(self, deadline, probe, failure):
        """Call probe until it returns something true (API errors count as not yet) or the deadline."""
        last = 'no answer yet'
        while True:
            try:
                found = probe()
                if found:
                    return found
                last = 'not yet'
            except NomadError as exc:
                last = exc.message
            if self.clock() >= deadline:
                raise HandoverError(
                    '%s within %d seconds (last answer: %s). The server rejoins the raft when its agent restarts '
                    '(systemctl restart nomad on it); check with `nomad operator raft list-peers`.'
                    % (failure, self.wait, last))
            self.sleep(self.interval)
