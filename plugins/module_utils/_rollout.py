# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Rolling restarts and reloads of Nomad agents (docs/rotation.md, "Rolling restarts").

Private to the collection. Three questions, each answered here once:

* What has an agent not picked up yet? ``pending_action`` compares what runs with what is on disk:
  a file the agent reads at start that is newer than the agent's start needs a restart; a TLS file
  newer than both the start and the last reload needs a reload (SIGHUP). Nothing is kept in the
  play's memory, so a run killed between writing a file and restarting the agent is finished by the
  next run.
* In which order? ``server_order`` (servers one at a time, the leader last) and ``batch_size``
  (clients, a sliding window of that many at once).
* May this agent go now, and is it back? ``Roll`` reads autopilot's failure tolerance before a
  server stops, the servers' view of the nodes before a client stops, and waits for each agent to be
  back the same way, then reports what it saw.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import socket
import ssl
import time

from ansible_collections.hardened.nomad.plugins.module_utils._api import NomadError
from ansible_collections.hardened.nomad.plugins.module_utils._inputs import BATCH_RE

_DURATION_RE = re.compile(r'([0-9]+(?:\.[0-9]*)?)(h|ms|m|s|us|\u00b5s|\u03bcs|ns)')
# Autopilot refreshes its server health every 2 s (ServerHealthInterval); two answers further apart than
# that tell a live server from stats the leader kept.
HEALTH_INTERVAL = 2.5

RESTART = 'restart'
RELOAD = 'reload'
NOTHING = 'none'


# -- what an agent has not picked up -------------------------------------------------------------

def pending_action(active, started_at, need_daemon_reload, restart_files, reload_files, reloaded_at=None,
                   binary_deleted=False):
    """(action, reasons) for one agent.

    active: the unit is active (an agent that is not running starts with what is on disk: nothing
    to do). started_at: the agent's start, seconds since the epoch. restart_files and reload_files:
    {path: mtime or None when missing}. reloaded_at: when the agent was last reloaded (the stamp
    Roll leaves after a SIGHUP), or None. binary_deleted: the running executable was replaced.
    """
    if not active:
        return NOTHING, []
    reasons = []
    if need_daemon_reload:
        reasons.append('the systemd unit changed after the agent started')
    if binary_deleted:
        reasons.append('the running nomad binary was replaced on disk')
    for path in sorted(restart_files):
        mtime = restart_files[path]
        if mtime is not None and mtime > started_at:
            reasons.append('%s changed after the agent started' % path)
    if reasons:
        return RESTART, reasons
    loaded_at = max(started_at, reloaded_at or 0)
    for path in sorted(reload_files):
        mtime = reload_files[path]
        if mtime is not None and mtime > loaded_at:
            reasons.append('%s changed after the agent last read it' % path)
    return (RELOAD, reasons) if reasons else (NOTHING, [])


# -- order ------------------------------------------------------------------------------------

def server_order(pending, leader=''):
    """The servers of ``pending`` in the order they restart: followers as given, the leader last."""
    return [host for host in pending if host != leader] + [host for host in pending if host == leader]


def batch_size(spec, count):
    """How many of ``count`` clients change at once: ``spec`` is a count (``5``) or a percentage
    (``10%``) of ``count``, rounded up; at least 1."""
    match = BATCH_RE.match(str(spec))
    if not match:
        raise ValueError('nomad_client_rolling_batch must be a count (5) or a percentage (10%%), got %r' % (spec,))
    number = int(match.group(1))
    size = int(math.ceil(count * number / 100.0)) if match.group(2) else number
    return max(1, size)


# -- what the servers say ---------------------------------------------------------------------

def _host(address):
    """The host part of "10.0.0.5:4647", "[fd00::5]:4647" or a plain address."""
    text = str(address or '')
    if text.startswith('['):
        return text[1:].split(']', 1)[0]
    return text.rsplit(':', 1)[0] if text.count(':') == 1 else text


def autopilot_server(health, member):
    """The entry of autopilot's Servers whose address is ``member`` (the server's advertised address)."""
    for server in health.get('Servers') or []:
        if _host(server.get('Address')) == _host(member):
            return server
    return None


def go_duration(text):
    """Seconds in a Go duration string ("850µs", "1.5s", "1m3s", "2562047h47m16.854775807s"); None if unreadable."""
    units = dict(h=3600.0, m=60.0, s=1.0, ms=1e-3, us=1e-6, **{'\u00b5s': 1e-6, '\u03bcs': 1e-6}, ns=1e-9)
    parts = _DURATION_RE.findall(str(text or ''))
    if not parts or ''.join(number + unit for number, unit in parts) != str(text).lstrip('-'):
        return None
    return sum(float(number) * units[unit] for number, unit in parts)


def fresh_health(first, second):
    """Autopilot's second answer, with each server whose stats did not move between the two answers
    (taken more than one 2 s health interval apart) counted unhealthy, and the failure tolerance
    recomputed from the healthy, alive voters.

    The leader keeps a server's last stats while it cannot reach it, for about 35 s until serf marks it
    failed, so a server that stopped a moment ago still looks healthy in a single answer.
    """
    before = dict((server.get('ID'), server) for server in first.get('Servers') or [])
    servers = []
    for server in second.get('Servers') or []:
        old = before.get(server.get('ID'))
        stale = (not server.get('Leader') and old is not None
                 and all(old.get(key) == server.get(key) for key in ('LastContact', 'LastIndex', 'LastTerm')))
        healthy = bool(server.get('Healthy')) and server.get('SerfStatus', 'alive') == 'alive' and not stale
        servers.append(dict(server, Healthy=healthy, Stale=stale))
    voters = [server for server in servers if server.get('Voter')]
    healthy_voters = sum(1 for server in voters if server['Healthy'])
    tolerance = max(0, healthy_voters - (len(voters) // 2 + 1)) if voters else 0
    return dict(second, Servers=servers, FailureTolerance=tolerance)


def server_gate(health, member):
    """None when the server advertising ``member`` may stop now; else why not.

    It may when the failure tolerance is at least 1, or when that server is not healthy itself
    (stopping it costs the cluster nothing it still has), or when there are fewer than 3 voters (such
    a cluster has no tolerance to keep: it is unavailable during the restart whatever the order).
    """
    servers = health.get('Servers') or []
    if not servers:
        return 'autopilot does not know the servers yet (a new leader starts with an empty state)'
    tolerance = health.get('FailureTolerance', 0)
    target = autopilot_server(health, member)
    voters = sum(1 for s in servers if s.get('Voter'))
    if tolerance >= 1 or voters < 3 or (target is not None and not target.get('Healthy')):
        return None
    unhealthy = sorted('%s%s' % (s.get('Name', '?'), ' (stale)' if s.get('Stale') else '')
                       for s in servers if not s.get('Healthy'))
    return ('autopilot reports a failure tolerance of %d with %d voters%s: stopping this server could lose the '
            'quorum' % (tolerance, voters, (' (not healthy: %s)' % ', '.join(unhealthy)) if unhealthy else ''))


def server_back(health, member, tolerance_before):
    """None once the server advertising ``member`` is a healthy voter again and the failure tolerance is
    back to ``tolerance_before``; else what is still missing."""
    target = autopilot_server(health, member)
    if target is None:
        return 'autopilot does not list the server at %s yet' % member
    if not target.get('Healthy'):
        return 'autopilot does not count the server at %s as healthy yet' % member
    if not target.get('Voter'):
        return 'the server at %s is not a voter yet' % member
    tolerance = health.get('FailureTolerance', 0)
    if tolerance < tolerance_before:
        return 'the failure tolerance is %d, it was %d before the restart' % (tolerance, tolerance_before)
    return None


def client_brake(stubs, names, own_name, max_fail_percentage):
    """None when a client may restart; else why not: more of this rollout's clients (``names``, the
    node names) than ``max_fail_percentage`` allows are not ready at the servers."""
    statuses = {}
    for stub in stubs:
        name = stub.get('Name')
        if name in names and name != own_name and statuses.get(name) != 'ready':
            statuses[name] = stub.get('Status') or 'unknown'
    away = sorted('%s (%s)' % (name, status) for name, status in statuses.items() if status != 'ready')
    away += sorted('%s (not registered)' % name for name in names if name != own_name and name not in statuses)
    if len(away) * 100.0 > max_fail_percentage * len(names):
        return ('%d of the %d clients of this rollout are not ready at the servers (%s), more than '
                'nomad_client_max_fail_percentage (%g%%) allows: this client was not restarted'
                % (len(away), len(names), ', '.join(away), max_fail_percentage))
    return None


def newest_node(stubs, name):
    """The node stub of that name the servers know best (a rebuilt client may be listed twice: the
    old, down node and the new one): the ready one, else the most recently modified."""
    named = [stub for stub in stubs if stub.get('Name') == name]
    if not named:
        return None
    return sorted(named, key=lambda s: (s.get('Status') == 'ready', s.get('ModifyIndex', 0)))[-1]


def served_fingerprint(host, port, ca_file, client_cert, client_key, timeout=5):
    """SHA-256 of the certificate the agent serves on host:port (what it loaded, not what is on disk)."""
    context = ssl.create_default_context(cafile=ca_file)
    context.check_hostname = False
    context.load_cert_chain(client_cert, client_key)
    with socket.create_connection((host, port), timeout=timeout) as raw:
        with context.wrap_socket(raw) as tls:
            return hashlib.sha256(tls.getpeercert(binary_form=True)).hexdigest()


def pem_fingerprint(path):
    """SHA-256 of the first certificate of a PEM file."""
    with open(path) as handle:
        pem = handle.read()
    first = pem[:pem.index('-----END CERTIFICATE-----') + len('-----END CERTIFICATE-----')]
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(first)).hexdigest()


# -- the roll of one agent --------------------------------------------------------------------

class RollFailure(Exception):
    """The agent could not be rolled; ``result`` holds what was seen."""

    def __init__(self, message, **result):
        super().__init__(message)
        self.message = message
        self.result = result


class Roll:
    """Restart or reload the agent of this host, after its gate, and wait until it is back.

    client: a NomadClient for the local agent. run(argv) -> (rc, stdout, stderr). fingerprints() ->
    (served, on disk), or None when the served certificate is not checked. sleep and clock are
    time.sleep and time.monotonic, replaced in tests.
    """

    def __init__(self, client, run, params, fingerprints=None, sleep=None, clock=None):
        self.client = client
        self.run = run
        self.params = params
        self.fingerprints = fingerprints
        self.sleep = sleep or time.sleep
        self.clock = clock or time.monotonic
        self.events = []
        self.warnings = []
        self.min_tolerance = None

    # reading -----------------------------------------------------------------------------------

    def _poll(self, check, what, wait, interval=1.0):
        """Call check() until it returns None; RollFailure naming ``what`` and the last answer after ``wait`` s."""
        deadline = self.clock() + wait
        while True:
            try:
                missing = check()
            except NomadError as exc:
                if exc.status == 403:  # a token that lacks the right does not gain it by waiting
                    raise RollFailure('%s: %s' % (what, exc.message), events=self.events)
                missing = exc.message  # an agent starting, or a server reloading its RPC listener
            if missing is None:
                return
            if self.clock() >= deadline:
                raise RollFailure('%s: still not so after %d seconds (%s).' % (what, wait, missing),
                                  events=self.events)
            self.sleep(interval)

    def _autopilot(self):
        """Autopilot's answer; Nomad sends it with HTTP 429 when a server is not healthy."""
        try:
            return self.client.get('/v1/operator/autopilot/health', token=self.params.get('token')) or {}
        except NomadError as exc:
            if exc.status == 429 and exc.body:
                try:
                    return json.loads(exc.body)
                except ValueError:
                    pass
            raise

    def _health(self):
        """Two answers of autopilot, one health interval apart, as fresh_health reads them."""
        first = self._autopilot()
        self.sleep(HEALTH_INTERVAL)
        health = fresh_health(first, self._autopilot())
        if health.get('Servers'):
            tolerance = health['FailureTolerance']
            self.min_tolerance = tolerance if self.min_tolerance is None else min(self.min_tolerance, tolerance)
        return health

    def _self_stats(self):
        return (self.client.get('/v1/agent/self', token=self.params.get('token')) or {}).get('stats') or {}

    # steps --------------------------------------------------------------------------------------

    def _done_word(self):
        return 'restarted' if self.params['action'] == RESTART else 'reloaded'

    def _validate(self):
        argv = [self.params['binary'], 'config', 'validate', self.params['config_dir']]
        rc, out, err = self.run(argv)
        if rc != 0:
            raise RollFailure('nomad config validate refused %s, so the agent was not %s and keeps running with '
                              'what it loaded: %s' % (self.params['config_dir'], self._done_word(),
                                                      (err or out).strip()[-800:]), events=self.events)
        self.events.append('configuration validated')

    def _systemctl(self, *args):
        rc, out, err = self.run(['systemctl'] + list(args))
        if rc != 0:
            raise RollFailure('systemctl %s failed: %s' % (' '.join(args), (err or out).strip()[-800:]),
                              events=self.events)

    def _act(self):
        if self.params['action'] == RESTART:
            if self.params.get('need_daemon_reload'):
                self._systemctl('daemon-reload')
                self.events.append('systemd reloaded its units')
            self._systemctl('restart', self.params['unit'])
            self.events.append('agent restarted')
        else:
            # try-reload: a unit that stopped meanwhile stays stopped (whoever starts it reads the new files).
            self._systemctl('try-reload-or-restart', self.params['unit'])
            self.events.append('agent reloaded (SIGHUP)')

    def _agent_back(self):
        """The agent answers, and after a reload serves the certificate on disk; then the stamp is left."""
        wait = self.params['wait']
        self._poll(lambda: (self.client.get('/v1/agent/health'), None)[1],
                   'the agent is not healthy after it was %s' % self._done_word(), wait)
        if self.fingerprints is not None:
            def same():
                served, on_disk = self.fingerprints()
                return None if served == on_disk else 'it serves a certificate other than the one on disk'

            self._poll(same, 'the agent does not serve its new certificate', wait)
            self.events.append('serves the certificate on disk')
        if self.params['action'] == RELOAD and self.params.get('reload_stamp'):
            # Only now: a reload that failed is tried again by the next run.
            self.run(['install', '-D', '-m', '0644', '/dev/null', self.params['reload_stamp']])

    # servers ------------------------------------------------------------------------------------

    def server(self):
        params = self.params
        member, wait = params['member'], params['wait']
        token = params.get('token')
        if token:
            seen = {}

            def gate():
                seen['health'] = self._health()
                return server_gate(seen['health'], member)

            self._poll(gate, 'the cluster cannot spare the server at %s' % member, wait, 0)
            health = seen['health']
            target = autopilot_server(health, member)
            tolerance_before = health['FailureTolerance'] if target is None or target.get('Healthy') else 0
            self.events.append('gate open: failure tolerance %d' % health['FailureTolerance'])
            if sum(1 for server in health['Servers'] if server.get('Voter')) < 3:
                self.warnings.append('With fewer than 3 voting servers the cluster has no failure tolerance: it '
                                     'has no leader while this server restarts.')
            if target is not None and target.get('Leader') and params.get('leadership_transfer'):
                self._transfer_leadership(health)
        else:
            self._poll(lambda: self._peers_and_leader(params['servers']),
                       'the cluster has not all its servers and a leader', wait)
            self.events.append('gate open: all %d servers are raft peers with a leader' % params['servers'])
        self._validate()
        self._act()
        self._agent_back()
        self._poll(lambda: None if self.client.get('/v1/status/leader') else 'no leader is elected',
                   'the cluster has no leader after the server was %s' % self._done_word(), wait)
        if token:
            self._poll(self._raft_contact, 'the server at %s has no contact with the leader' % member, wait)
            self._poll(lambda: server_back(self._health(), member, tolerance_before),
                       'the server at %s is not back as a healthy voter' % member, wait, 0)
            self.events.append('back: a healthy voter in contact with the leader, failure tolerance %d'
                               % self.min_tolerance)
        else:
            self._poll(lambda: self._peers_and_leader(params['servers']),
                       'the cluster has not all its servers and a leader again', wait)
            self.events.append('back: healthy, all servers are raft peers')
        return self.result()

    def _raft_contact(self):
        """None once this server's own raft is a follower in contact with the leader, or the leader."""
        raft = self._self_stats().get('raft') or {}
        state = raft.get('state')
        if state == 'Leader':
            return None
        if state != 'Follower':
            return 'its raft is %s' % (state or 'not running')
        contact = go_duration(raft.get('last_contact'))
        if contact is None or contact > 5:
            return 'its last contact with the leader is %s' % raft.get('last_contact')
        return None

    def _peers_and_leader(self, servers):
        peers = self.client.get('/v1/status/peers') or []
        if len(peers) != servers:
            return '%d of %d servers are raft peers' % (len(peers), servers)
        return None if self.client.get('/v1/status/leader') else 'no leader is elected'

    def _transfer_leadership(self, health):
        """Hand the leadership to another healthy voter (Nomad 1.7.0+), one restarted in this roll if
        there is one; a failure only warns: the restart goes on and the servers elect a leader."""
        restarted = [_host(address) for address in self.params.get('restarted') or []]
        candidates = [s for s in health['Servers'] if s.get('Healthy') and s.get('Voter') and not s.get('Leader')]
        candidates.sort(key=lambda s: _host(s.get('Address')) not in restarted)
        if not candidates:
            self.warnings.append('No other server is a healthy voter, so the leader restarts without handing over '
                                 'its leadership (one election).')
            return
        successor = candidates[0]
        try:
            self.client.request('PUT', '/v1/operator/raft/transfer-leadership', query=dict(id=successor['ID']),
                                token=self.params.get('token'))

            def moved():
                leader = self.client.get('/v1/status/leader') or ''
                if _host(leader) != _host(successor.get('Address')):
                    return 'the leader is %s' % (leader or 'not elected')
                return server_gate(self._health(), self.params['member'])

            self._poll(moved, 'the leadership did not move to %s' % successor.get('Name'),
                       min(self.params['wait'], 30), 0.5)
            self.events.append('leadership handed to %s' % successor.get('Name'))
        except (NomadError, RollFailure) as exc:
            self.warnings.append('The leadership transfer to %s failed (%s): the leader restarts anyway, and the '
                                 'servers elect a new one.' % (successor.get('Name'), exc.message))

    # clients ------------------------------------------------------------------------------------

    def client_node(self):
        params = self.params
        name = params['node_name']
        token = params.get('token')
        wait = params['wait']
        if not token:
            self._validate()
            self._act()
            self._agent_back()
            self.events.append('back: the agent is healthy (no token yet to ask the servers)')
            return self.result()
        listed = {}

        def node_list():
            listed['stubs'] = self.client.get('/v1/nodes', token=token) or []

        self._poll(node_list, 'the servers do not answer the node list', wait, params['interval'])
        refusal = client_brake(listed['stubs'], params['rollout_nodes'] or [name], name,
                               params['max_fail_percentage'])
        if refusal:
            # Not a failure of this host: the roll stops here, and the play says so once for all clients.
            self.events.append('not %s: %s' % (self._done_word(), refusal))
            return dict(changed=False, held=True, events=self.events, msg=refusal)
        self._validate()
        self._act()
        self._agent_back()
        seen = set()

        def registered():
            if params['action'] == RESTART:
                heartbeat = go_duration(((self._self_stats().get('client') or {}).get('last_heartbeat')))
                if heartbeat is None or heartbeat > 60:
                    return 'the restarted agent has not reached the servers yet'
            node = newest_node(self.client.get('/v1/nodes', token=token) or [], name)
            if node is None:
                return 'the servers know no node named %s' % name
            seen.add(node.get('Status'))
            if node.get('Status') != 'ready':
                return 'the servers list %s as %s' % (name, node.get('Status'))
            return None

        self._poll(registered, 'the node %s is not ready at the servers' % name, wait, params['interval'])
        if seen & set(['down', 'disconnected']):
            self.warnings.append('The servers listed %s as %s during its restart: its allocations may have been '
                                 'marked lost and rescheduled.' % (name, ' then '.join(sorted(seen - set(['ready'])))))
        self.events.append('back: %s is ready at the servers' % name)
        return self.result()

    def result(self):
        result = dict(changed=True, events=self.events)
        if self.min_tolerance is not None:
            result['min_failure_tolerance'] = self.min_tolerance
        if self.warnings:
            result['warnings'] = self.warnings
        return result
