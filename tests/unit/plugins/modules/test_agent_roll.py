# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible.module_utils import basic

from ansible_collections.hardened.nomad.plugins.module_utils import _rollout
from ansible_collections.hardened.nomad.plugins.modules import agent_roll

MANAGEMENT = '11111111-2222-3333-4444-555555555555'
SERVER = dict(address='http://127.0.0.1:4646', action='restart', role='server', member='10.0.0.12',
              servers=3, token=MANAGEMENT, wait=5, interval=0)


class Host:
    """The host's commands: systemctl and nomad config validate, recorded; what a restart does to the fake."""

    def __init__(self, fake_nomad):
        self.fake = fake_nomad
        self.commands = []
        self.validate_rc = 0
        self.on_restart = []

    def run_command(self, module, argv, **kwargs):
        self.commands.append(' '.join(argv))
        if argv[1:3] == ['config', 'validate']:
            return self.validate_rc, '', 'nomad.hcl: unexpected keys bogus' if self.validate_rc else ''
        if argv[:2] == ['systemctl', 'restart']:
            for change in self.on_restart:
                change()
        return 0, '', ''


@pytest.fixture
def host(monkeypatch, fake_nomad):
    fake_nomad.bootstrap_with(MANAGEMENT)
    fake_nomad.autopilot = [[
        dict(ID='id-%d' % n, Name='s%d.global' % n, Address='10.0.0.1%d:4647' % n, Healthy=True, Voter=True,
             Leader=n == 1) for n in (1, 2, 3)]]
    fake_nomad.leader = '10.0.0.11:4647'
    recorder = Host(fake_nomad)
    monkeypatch.setattr(basic.AnsibleModule, 'run_command', lambda module, argv, **kw: recorder.run_command(module, argv))
    monkeypatch.setattr(_rollout.time, 'sleep', lambda seconds: None)
    return recorder


def paths(fake_nomad):
    return [path for _method, path in ((call[0], call[1]) for call in fake_nomad.calls)]


def autopilot_paths(fake_nomad):
    return paths(fake_nomad).count('/v1/operator/autopilot/health')


def test_a_server_restarts_after_the_gate_and_waits_until_it_is_a_healthy_voter(run_module, fake_nomad, host):
    result = run_module(agent_roll, SERVER)
    assert result['failed'] is False and result['changed'] is True
    assert host.commands == ['/usr/local/bin/nomad config validate /etc/nomad.d', 'systemctl restart nomad']
    assert result['events'] == ['gate open: failure tolerance 1', 'configuration validated', 'agent restarted',
                                'back: a healthy voter in contact with the leader, failure tolerance 1']
    assert result['min_failure_tolerance'] == 1
    # each reading is two answers of autopilot, one health interval apart
    assert autopilot_paths(fake_nomad) == 4
    assert '/v1/agent/self' in paths(fake_nomad)
    assert fake_nomad.transfers == [] and fake_nomad.writes() == []


@pytest.mark.parametrize('third, detail', [
    # answered with HTTP 429, as Nomad does
    (dict(Healthy=False), 's3.global'),
    # the leader keeps a stopped server's last stats: autopilot still says it is healthy
    (dict(Frozen=True), 's3.global (stale)'),
])
def test_a_server_is_not_stopped_while_the_cluster_cannot_spare_it(run_module, fake_nomad, host, third, detail):
    fake_nomad.autopilot[0][2].update(third)
    result = run_module(agent_roll, dict(SERVER, wait=0))
    assert result['failed'] is True
    assert result['msg'] == (
        'the cluster cannot spare the server at 10.0.0.12: still not so after 0 seconds (autopilot reports a failure '
        'tolerance of 0 with 3 voters (not healthy: %s): stopping this server could lose the quorum).' % detail)
    assert host.commands == []


def test_a_server_waits_for_the_tolerance_and_reports_the_lowest_seen(run_module, fake_nomad, host):
    servers = fake_nomad.autopilot[0]
    down = [dict(server, Healthy=server['Name'] != 's3.global') for server in servers]
    fake_nomad.autopilot = [down, down, servers]
    result = run_module(agent_roll, SERVER)
    assert result['failed'] is False
    assert result['min_failure_tolerance'] == 0
    assert result['events'][0] == 'gate open: failure tolerance 1'


def test_an_empty_autopilot_state_is_not_a_verdict(run_module, fake_nomad, host):
    fake_nomad.autopilot = [[], [], fake_nomad.autopilot[0]]
    result = run_module(agent_roll, SERVER)
    assert result['failed'] is False


def test_an_unhealthy_server_restarts_even_at_zero_tolerance(run_module, fake_nomad, host):
    fake_nomad.autopilot[0][1]['Healthy'] = False
    host.on_restart.append(lambda: fake_nomad.autopilot[0][1].update(Healthy=True))
    result = run_module(agent_roll, SERVER)
    assert result['failed'] is False and 'systemctl restart nomad' in host.commands


def test_a_cluster_of_fewer_than_three_voters_restarts_with_a_warning(run_module, fake_nomad, host):
    fake_nomad.autopilot[0].pop()
    result = run_module(agent_roll, SERVER)
    assert result['failed'] is False and 'systemctl restart nomad' in host.commands
    assert 'fewer than 3 voting servers' in result['warnings'][0]


def test_a_server_is_back_only_in_contact_with_the_leader(run_module, fake_nomad, host):
    fake_nomad.self_stats['raft'] = dict(state='Follower', last_contact='never')
    result = run_module(agent_roll, dict(SERVER, wait=0))
    assert result['failed'] is True
    assert result['msg'] == ('the server at 10.0.0.12 has no contact with the leader: still not so after 0 seconds '
                             '(its last contact with the leader is never).')


def test_a_refused_configuration_leaves_the_agent_running(run_module, fake_nomad, host):
    host.validate_rc = 1
    result = run_module(agent_roll, SERVER)
    assert result['failed'] is True
    assert result['msg'] == ('nomad config validate refused /etc/nomad.d, so the agent was not restarted and keeps '
                             'running with what it loaded: nomad.hcl: unexpected keys bogus')
    assert host.commands == ['/usr/local/bin/nomad config validate /etc/nomad.d']


def test_a_server_that_does_not_come_back_names_what_is_missing(run_module, fake_nomad, host):
    host.on_restart.append(lambda: fake_nomad.autopilot[0][1].update(Voter=False))
    result = run_module(agent_roll, dict(SERVER, wait=0))
    assert result['failed'] is True
    assert result['msg'].startswith('the server at 10.0.0.12 is not back as a healthy voter: still not so after 0 '
                                    'seconds (the server at 10.0.0.12 is not a voter yet)')
    assert result['events'][-1] == 'agent restarted'


def test_before_the_acl_bootstrap_the_gate_is_every_server_a_peer_with_a_leader(run_module, fake_nomad, host):
    fake_nomad.peers = ['10.0.0.11:4647', '10.0.0.12:4647']
    result = run_module(agent_roll, dict(SERVER, token=None, wait=0))
    assert result['failed'] is True and '2 of 3 servers are raft peers' in result['msg']
    fake_nomad.peers.append('10.0.0.13:4647')
    result = run_module(agent_roll, dict(SERVER, token=None))
    assert result['failed'] is False and '/v1/operator/autopilot/health' not in paths(fake_nomad)


LEADER = dict(SERVER, member='10.0.0.11', leadership_transfer=True, restarted=['10.0.0.13'])


def test_a_leader_hands_over_to_a_restarted_server_then_restarts(run_module, fake_nomad, host):
    result = run_module(agent_roll, LEADER)
    assert result['failed'] is False
    assert fake_nomad.transfers == ['id-3']  # a server restarted before it, not just any
    assert ('PUT', '/v1/operator/raft/transfer-leadership') in [call[:2] for call in fake_nomad.calls]
    assert fake_nomad.urls[[call[:2] for call in fake_nomad.calls].index(
        ('PUT', '/v1/operator/raft/transfer-leadership'))].endswith('?id=id-3')
    assert result['events'][:3] == ['gate open: failure tolerance 1', 'leadership handed to s3.global',
                                    'configuration validated']
    transfer_at = paths(fake_nomad).index('/v1/operator/raft/transfer-leadership')
    assert '/v1/status/leader' in paths(fake_nomad)[transfer_at:]
    assert 'warnings' not in result


def test_a_failed_transfer_warns_and_the_leader_restarts_anyway(run_module, fake_nomad, host):
    fake_nomad.transfer_error = (500, 'cannot transfer leadership: not a voter')
    result = run_module(agent_roll, LEADER)
    assert result['failed'] is False and 'systemctl restart nomad' in host.commands
    assert result['warnings'][0].startswith('The leadership transfer to s3.global failed (')
    assert 'cannot transfer leadership: not a voter' in result['warnings'][0]
    assert result['warnings'][0].endswith('the leader restarts anyway, and the servers elect a new one.')


def test_a_leader_without_a_restarted_server_hands_over_to_another_healthy_voter(run_module, fake_nomad, host):
    result = run_module(agent_roll, dict(LEADER, restarted=[]))
    assert result['failed'] is False and fake_nomad.transfers == ['id-2']


def test_a_leader_without_another_healthy_voter_restarts_without_a_handover(run_module, fake_nomad, host):
    for server in fake_nomad.autopilot[0][1:]:
        server['Voter'] = False
    result = run_module(agent_roll, LEADER)
    assert result['failed'] is False and fake_nomad.transfers == []
    assert any('without handing over' in warning for warning in result['warnings'])


def test_without_leadership_transfer_the_leader_just_restarts(run_module, fake_nomad, host):
    result = run_module(agent_roll, dict(LEADER, leadership_transfer=False))
    assert result['failed'] is False and fake_nomad.transfers == [] and 'warnings' not in result


def test_a_follower_never_transfers(run_module, fake_nomad, host):
    result = run_module(agent_roll, dict(SERVER, leadership_transfer=True, restarted=['10.0.0.13']))
    assert result['failed'] is False and fake_nomad.transfers == []


CLIENT = dict(address='http://127.0.0.1:4646', action='restart', role='client', node_name='c1',
              rollout_nodes=['c1', 'c2'], token=MANAGEMENT, wait=5, interval=0)


def test_a_client_restarts_and_is_back_once_its_agent_reached_the_servers(run_module, fake_nomad, host, monkeypatch):
    ready = [dict(Name='c1', Status='ready', ModifyIndex=40), dict(Name='c2', Status='ready', ModifyIndex=41)]
    fake_nomad.node_lists = [ready]
    heartbeats = iter(['2562047h47m16.854775807s', '2562047h47m16.854775807s', '800ms'])  # never, then 0.8 s
    route = type(fake_nomad).route

    def answer(self, method, path, body, secret):
        if path == '/v1/agent/self':
            self.self_stats['client'] = dict(last_heartbeat=next(heartbeats, '800ms'))
        return route(self, method, path, body, secret)

    monkeypatch.setattr(type(fake_nomad), 'route', answer)
    result = run_module(agent_roll, CLIENT)
    assert result['failed'] is False
    assert host.commands == ['/usr/local/bin/nomad config validate /etc/nomad.d', 'systemctl restart nomad']
    assert paths(fake_nomad).count('/v1/agent/self') == 3
    assert result['events'][-1] == 'back: c1 is ready at the servers' and 'warnings' not in result


def test_a_client_listed_down_during_its_restart_is_reported(run_module, fake_nomad, host):
    fake_nomad.node_lists = [[dict(Name='c1', Status='ready'), dict(Name='c2', Status='ready')],
                             [dict(Name='c1', Status='down'), dict(Name='c2', Status='ready')],
                             [dict(Name='c1', Status='ready'), dict(Name='c2', Status='ready')]]
    result = run_module(agent_roll, CLIENT)
    assert result['failed'] is False
    assert result['warnings'] == ['The servers listed c1 as down during its restart: its allocations may have been '
                                  'marked lost and rescheduled.']


def test_a_client_is_held_while_too_many_of_the_rollout_are_away(run_module, fake_nomad, host):
    fake_nomad.node_lists = [[dict(Name='c1', Status='ready', ModifyIndex=40), dict(Name='c2', Status='down')]]
    result = run_module(agent_roll, dict(CLIENT, max_fail_percentage=0))
    assert result['failed'] is False and result['changed'] is False and result['held'] is True
    assert result['msg'].startswith('1 of the 2 clients of this rollout')
    assert host.commands == []


def test_before_the_acl_bootstrap_a_client_only_waits_for_its_agent(run_module, fake_nomad, host):
    result = run_module(agent_roll, dict(CLIENT, token=None))
    assert result['failed'] is False
    assert paths(fake_nomad) == ['/v1/agent/health']


def test_a_client_reload_checks_the_served_certificate(run_module, fake_nomad, host, monkeypatch):
    served = iter(['old', 'new'])
    monkeypatch.setattr(agent_roll, 'served_fingerprint', lambda *args: next(served, 'new'))
    monkeypatch.setattr(agent_roll, 'pem_fingerprint', lambda path: 'new')
    fake_nomad.node_lists = [[dict(Name='c1', Status='ready', ModifyIndex=40)]]
    stamp = '/nonexistent-dir/reloaded'
    result = run_module(agent_roll, dict(CLIENT, action='reload', cert_file='/etc/nomad.d/tls/agent.pem',
                                         rollout_nodes=['c1'], reload_stamp=stamp))
    assert result['failed'] is False
    # the stamp only once the new certificate is served
    assert host.commands[1:] == ['systemctl try-reload-or-restart nomad', 'install -D -m 0644 /dev/null ' + stamp]
    assert result['events'][-2:] == ['serves the certificate on disk', 'back: c1 is ready at the servers']


def test_a_reload_whose_certificate_is_not_served_leaves_no_stamp(run_module, fake_nomad, host, monkeypatch):
    monkeypatch.setattr(agent_roll, 'served_fingerprint', lambda *args: 'old')
    monkeypatch.setattr(agent_roll, 'pem_fingerprint', lambda path: 'new')
    fake_nomad.node_lists = [[dict(Name='c1', Status='ready')]]
    result = run_module(agent_roll, dict(CLIENT, action='reload', cert_file='/etc/nomad.d/tls/agent.pem',
                                         rollout_nodes=['c1'], wait=0))
    assert result['failed'] is True and 'does not serve its new certificate' in result['msg']
    assert not [command for command in host.commands if command.startswith('install')]


def test_check_mode_asks_and_does_nothing(run_module, fake_nomad, host):
    result = run_module(agent_roll, SERVER, check_mode=True)
    assert result['changed'] is True and host.commands == [] and fake_nomad.calls == []


def test_a_client_waits_while_the_servers_cannot_answer_the_node_list(run_module, fake_nomad, host, monkeypatch):
    """A server that just reloaded resets its RPC listener: the client's agent answers 500 for a moment."""
    fake_nomad.node_lists = [[dict(Name='c1', Status='ready'), dict(Name='c2', Status='ready')]]
    route = type(fake_nomad).route
    answers = iter([(500, 'rpc error: failed to get conn: dial tcp 10.0.0.12:4647: connect: connection refused')])

    def answer(self, method, path, body, secret):
        failure = next(answers, None) if path == '/v1/nodes' else None
        return failure or route(self, method, path, body, secret)

    monkeypatch.setattr(type(fake_nomad), 'route', answer)
    result = run_module(agent_roll, CLIENT)
    assert result['failed'] is False and 'systemctl restart nomad' in host.commands


def test_a_token_without_the_right_fails_at_once(run_module, fake_nomad, host):
    result = run_module(agent_roll, dict(CLIENT, token='00000000-0000-4000-8000-000000000000', wait=60))
    assert result['failed'] is True and 'Permission denied' in result['msg'] and host.commands == []
