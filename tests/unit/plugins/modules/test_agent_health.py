# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import urllib.error

from ansible_collections.hardened.nomad.plugins.modules import agent_health

BASE = dict(address='http://127.0.0.1:4646', interval=0)


def paths(fake_nomad):
    return [call[1] for call in fake_nomad.calls]


def test_a_healthy_client_needs_one_call(run_module, fake_nomad):
    result = run_module(agent_health, dict(BASE, wait=0))
    assert result['failed'] is False and result['changed'] is False
    assert paths(fake_nomad) == ['/v1/agent/health']
    assert 'leader' not in result


def test_a_server_waits_for_all_peers_and_a_leader(run_module, fake_nomad):
    result = run_module(agent_health, dict(BASE, servers=3, wait=0))
    assert result['failed'] is False
    assert result['leader'] == '127.0.0.1:4647' and len(result['peers']) == 3
    assert paths(fake_nomad) == ['/v1/agent/health', '/v1/status/peers', '/v1/status/leader']


def test_a_starting_agent_is_polled_until_healthy(run_module, fake_nomad):
    fake_nomad.unhealthy_answers = 3
    result = run_module(agent_health, dict(BASE, servers=3, wait=30))
    assert result['failed'] is False
    assert paths(fake_nomad).count('/v1/agent/health') == 4


def test_a_missing_peer_fails_after_the_wait_and_says_so(run_module, fake_nomad):
    fake_nomad.peers = ['10.0.0.11:4647', '10.0.0.12:4647']
    result = run_module(agent_health, dict(BASE, servers=3, wait=0))
    assert result['failed'] is True
    assert result['msg'] == ('http://127.0.0.1:4646 is still not ready after 0 seconds: 2 of 3 servers are raft '
                             'peers (10.0.0.11:4647, 10.0.0.12:4647).')


def test_no_leader_fails_after_the_wait_and_says_so(run_module, fake_nomad):
    fake_nomad.leader = ''
    result = run_module(agent_health, dict(BASE, servers=3, wait=0))
    assert result['failed'] is True and result['msg'].endswith(': no leader is elected.')


def test_an_unreachable_agent_fails_with_the_reason(run_module, fake_nomad):
    fake_nomad.transport_errors[('GET', '/v1/agent/health')] = urllib.error.URLError(ConnectionRefusedError(111, 'refused'))
    result = run_module(agent_health, dict(BASE, wait=0))
    assert result['failed'] is True
    assert 'the agent is not healthy' in result['msg'] and 'refused' in result['msg'].lower()


def test_an_unhealthy_agent_fails_with_nomads_answer(run_module, fake_nomad):
    fake_nomad.unhealthy_answers = 1000
    result = run_module(agent_health, dict(BASE, wait=0))
    assert result['failed'] is True
    assert 'the agent is not healthy' in result['msg'] and 'server not ready' in result['msg']


# -- client nodes ------------------------------------------------------------------------------

MANAGEMENT = '00000000-0000-4000-8000-000000000001'


def with_token(fake_nomad):
    fake_nomad.bootstrap_with(MANAGEMENT)
    return dict(BASE, token=MANAGEMENT)


def node(name, status='ready'):
    return dict(ID=name + '-id', Name=name, Status=status)


def test_clients_are_waited_for_until_registered_and_ready(run_module, fake_nomad):
    fake_nomad.node_lists = [[], [node('worker-1', 'initializing')], [node('worker-1'), node('worker-2')]]
    result = run_module(agent_health, dict(with_token(fake_nomad), nodes=['worker-1', 'worker-2'], wait=30))
    assert result['failed'] is False
    assert result['nodes'] == {'worker-1': 'ready', 'worker-2': 'ready'}
    assert paths(fake_nomad).count('/v1/nodes') == 3
    assert all(call[3] == MANAGEMENT for call in fake_nomad.calls if call[1] == '/v1/nodes')


def test_a_client_that_never_comes_fails_naming_it(run_module, fake_nomad):
    fake_nomad.node_lists = [[node('worker-1'), node('worker-2', 'down')]]
    result = run_module(agent_health, dict(with_token(fake_nomad), nodes=['worker-1', 'worker-2', 'worker-3'], wait=0))
    assert result['failed'] is True
    assert result['msg'] == ('http://127.0.0.1:4646 is still not ready after 0 seconds: client nodes not ready: '
                             'worker-2 (down), worker-3 (not registered).')
    assert result['not_ready'] == ['worker-2', 'worker-3']
    assert result['nodes']['worker-1'] == 'ready'


def test_a_rebuilt_client_listed_twice_counts_when_one_is_ready(run_module, fake_nomad):
    fake_nomad.node_lists = [[node('worker-1', 'down'), node('worker-1')]]
    result = run_module(agent_health, dict(with_token(fake_nomad), nodes=['worker-1'], wait=0))
    assert result['failed'] is False and result['nodes'] == {'worker-1': 'ready'}


def test_a_token_that_may_not_read_nodes_fails_at_once(run_module, fake_nomad):
    result = run_module(agent_health, dict(BASE, token='not-a-token', nodes=['worker-1'], wait=600))
    assert result['failed'] is True
    assert 'the node list is not available' in result['msg'] and 'HTTP 403' in result['msg']
    assert paths(fake_nomad).count('/v1/nodes') == 1


def test_no_nodes_means_no_node_call(run_module, fake_nomad):
    result = run_module(agent_health, dict(BASE, servers=3, wait=0))
    assert '/v1/nodes' not in paths(fake_nomad) and 'nodes' not in result


def test_the_leader_is_matched_to_its_inventory_host(run_module, fake_nomad):
    fake_nomad.leader = '10.0.0.12:4647'
    members = {'s1': '10.0.0.11', 's2': '10.0.0.12', 's3': '10.0.0.13'}
    result = run_module(agent_health, dict(BASE, servers=3, wait=0, members=members))
    assert result['failed'] is False and result['leader_member'] == 's2'


def test_an_ipv6_leader_is_matched(run_module, fake_nomad):
    fake_nomad.leader = '[fd00::2]:4647'
    result = run_module(agent_health, dict(BASE, servers=3, wait=0, members={'a': 'fd00::1', 'b': 'fd00::2'}))
    assert result['leader_member'] == 'b'


def test_a_leader_outside_the_inventory_fails_naming_the_members(run_module, fake_nomad):
    fake_nomad.leader = '10.0.0.99:4647'
    result = run_module(agent_health, dict(BASE, servers=3, wait=0, members={'s1': '10.0.0.11'}))
    assert result['failed'] is True
    assert 'the leader 10.0.0.99:4647 is not the address of exactly one server of members (s1=10.0.0.11)' in result['msg']
