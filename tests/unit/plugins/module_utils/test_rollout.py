# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.hardened.nomad.plugins.filter.rollout import nomad_roll_plan
from ansible_collections.hardened.nomad.plugins.module_utils import _rollout
from ansible_collections.hardened.nomad.plugins.module_utils._inputs import rolling_problems

STARTED = 1000.0


def pending(restart=None, reload=None, **kwargs):
    args = dict(active=True, started_at=STARTED, need_daemon_reload=False, restart_files=restart or {},
                reload_files=reload or {})
    args.update(kwargs)
    return _rollout.pending_action(**args)


def test_an_agent_that_does_not_run_needs_nothing():
    assert pending(restart={'/etc/nomad.d/nomad.hcl': 2000.0}, active=False) == ('none', [])


def test_a_config_file_newer_than_the_agent_needs_a_restart():
    action, reasons = pending(restart={'/etc/nomad.d/nomad.hcl': 1000.5, '/usr/local/bin/nomad': 900.0})
    assert action == 'restart'
    assert reasons == ['/etc/nomad.d/nomad.hcl changed after the agent started']


def test_files_older_than_the_agent_need_nothing():
    assert pending(restart={'/etc/nomad.d/nomad.hcl': 999.0, '/gone': None},
                   reload={'/etc/nomad.d/tls/agent.pem': 999.9}) == ('none', [])


def test_a_unit_change_or_a_replaced_binary_needs_a_restart():
    assert pending(need_daemon_reload=True)[0] == 'restart'
    action, reasons = pending(binary_deleted=True)
    assert action == 'restart' and reasons == ['the running nomad binary was replaced on disk']


def test_a_tls_file_newer_than_the_start_and_the_last_reload_needs_a_reload():
    files = {'/etc/nomad.d/tls/agent.pem': 1500.0}
    assert pending(reload=files) == ('reload', ['/etc/nomad.d/tls/agent.pem changed after the agent last read it'])
    assert pending(reload=files, reloaded_at=1400.0)[0] == 'reload'
    assert pending(reload=files, reloaded_at=1600.0) == ('none', [])


def test_a_restart_covers_the_reload():
    action, reasons = pending(restart={'/etc/nomad.d/nomad.hcl': 1200.0}, reload={'/etc/nomad.d/tls/ca.pem': 1300.0})
    assert action == 'restart' and len(reasons) == 1


def test_servers_follow_in_the_given_order_with_the_leader_last():
    assert _rollout.server_order(['s1', 's2', 's3'], 's1') == ['s2', 's3', 's1']
    assert _rollout.server_order(['s1', 's2'], 's5') == ['s1', 's2']
    assert _rollout.server_order([], 's1') == []


@pytest.mark.parametrize('spec, count, size', [
    ('10%', 500, 50), ('10%', 12, 2), ('10%', 1, 1), ('10%', 0, 1), ('100%', 7, 7), ('1%', 3, 1),
    ('5', 12, 5), (5, 3, 5), (' 25 % ', 8, 2),
])
def test_batch_size(spec, count, size):
    assert _rollout.batch_size(spec, count) == size


@pytest.mark.parametrize('spec', ['ten', '10.5%', '-1', ''])
def test_a_batch_that_is_no_count_or_percentage_raises(spec):
    with pytest.raises(ValueError, match='nomad_client_rolling_batch'):
        _rollout.batch_size(spec, 10)


@pytest.mark.parametrize('batch, max_fail, bad', [
    ('10%', 10, []), ('1', 0, []), ('100%', 100, []), ('3', '25', []),
    ('0', 10, ['nomad_client_rolling_batch']), ('0%', 10, ['nomad_client_rolling_batch']),
    ('101%', 10, ['nomad_client_rolling_batch']), ('all', 10, ['nomad_client_rolling_batch']),
    ('10%', 101, ['nomad_client_max_fail_percentage']), ('10%', -1, ['nomad_client_max_fail_percentage']),
    ('10%', 'many', ['nomad_client_max_fail_percentage']), ('10%', True, ['nomad_client_max_fail_percentage']),
])
def test_rolling_problems_name_the_variable(batch, max_fail, bad):
    problems = rolling_problems(batch, max_fail)
    assert [problem.split(' ', 1)[0] for problem in problems] == bad


def health(tolerance, *servers):
    return dict(FailureTolerance=tolerance, Servers=[
        dict(ID='id-%d' % n, Name='s%d.global' % n, Address='10.0.0.1%d:4647' % n, Healthy=healthy, Voter=voter,
             Leader=n == 1) for n, healthy, voter in servers])


ALL_HEALTHY = health(1, (1, True, True), (2, True, True), (3, True, True))


def test_a_server_may_stop_when_the_tolerance_is_at_least_one():
    assert _rollout.server_gate(ALL_HEALTHY, '10.0.0.12') is None
    five_one_dead = health(1, (1, True, True), (2, True, True), (3, True, True), (4, True, True), (5, False, True))
    assert _rollout.server_gate(five_one_dead, '10.0.0.12') is None


def test_a_server_may_not_stop_when_the_tolerance_is_zero():
    one_dead = health(0, (1, True, True), (2, True, True), (3, False, True))
    assert _rollout.server_gate(one_dead, '10.0.0.12') == (
        'autopilot reports a failure tolerance of 0 with 3 voters (not healthy: s3.global): stopping this server '
        'could lose the quorum')


def test_an_unhealthy_server_may_stop_whatever_the_tolerance():
    one_dead = health(0, (1, True, True), (2, True, True), (3, False, True))
    assert _rollout.server_gate(one_dead, '10.0.0.13') is None


def test_a_server_is_back_as_a_healthy_voter_with_the_tolerance_it_had():
    assert _rollout.server_back(ALL_HEALTHY, '10.0.0.12', 1) is None
    assert 'not count' in _rollout.server_back(health(0, (1, True, True), (2, False, True)), '10.0.0.12', 1)
    assert 'not a voter' in _rollout.server_back(health(1, (2, True, False)), '10.0.0.12', 1)
    assert _rollout.server_back(health(0, (2, True, True)), '10.0.0.12', 1) == (
        'the failure tolerance is 0, it was 1 before the restart')
    assert 'does not list' in _rollout.server_back(ALL_HEALTHY, '10.0.0.19', 1)


def test_ipv6_addresses_are_matched():
    answer = dict(FailureTolerance=1, Servers=[dict(Address='[fd00::5]:4647', Healthy=True, Voter=True)])
    assert _rollout.autopilot_server(answer, 'fd00::5') is answer['Servers'][0]


def stubs(**statuses):
    return [dict(Name=name, Status=status, ModifyIndex=10) for name, status in statuses.items()]


def test_the_brake_lets_a_client_go_while_few_are_away():
    names = ['c%d' % n for n in range(10)]
    listed = stubs(**dict((name, 'ready') for name in names))
    listed[1]['Status'] = 'initializing'
    assert _rollout.client_brake(listed, names, 'c0', 10) is None


def test_the_brake_stops_a_client_when_too_many_are_away():
    names = ['c%d' % n for n in range(10)]
    listed = stubs(**dict((name, 'ready') for name in names[:8]))
    listed[1]['Status'] = 'down'
    assert _rollout.client_brake(listed, names, 'c0', 10) == (
        '3 of the 10 clients of this rollout are not ready at the servers (c1 (down), c8 (not registered), '
        'c9 (not registered)), more than nomad_client_max_fail_percentage (10%) allows: this client was not restarted')
    assert _rollout.client_brake(listed, names, 'c0', 30) is None
    assert _rollout.client_brake(stubs(c0='ready', c1='down'), ['c0', 'c1'], 'c0', 0).startswith('1 of the 2')


def test_a_rebuilt_client_counts_by_its_ready_node():
    listed = stubs(c1='down') + stubs(c1='ready')
    assert _rollout.client_brake(listed, ['c0', 'c1'], 'c0', 0) is None
    assert _rollout.newest_node(listed, 'c1')['Status'] == 'ready'
    assert _rollout.newest_node(listed, 'c9') is None


def test_the_plan_orders_servers_and_batches_clients():
    results = {
        's1': dict(active=True, action='restart'), 's2': dict(active=True, action='reload'),
        's3': dict(active=True, action='none'), 'c1': dict(active=True, action='reload'),
        'c2': dict(active=False, action='none'), 'c3': {},
    }
    plan = nomad_roll_plan(results, ['s1', 's2', 's3'], 's1', '50%')
    assert plan == dict(servers=['s2', 's1'], clients=['c1'], batch=1,
                        action=dict(s1='restart', s2='reload', c1='reload'))


def test_in_check_mode_a_notified_running_agent_is_predicted_to_restart():
    results = {'s1': dict(active=True, action='none'), 'c1': dict(active=False, action='none')}
    assert nomad_roll_plan(results, ['s1'], '', '10%', True)['action'] == dict(s1='restart')


@pytest.mark.parametrize('text, seconds', [
    ('850\u00b5s', 0.00085), ('1.5s', 1.5), ('1m3s', 63.0), ('12ms', 0.012), ('0s', 0.0), ('2h', 7200.0),
    ('never', None), ('', None), (None, None), ('5 s', None),
])
def test_go_duration(text, seconds):
    assert _rollout.go_duration(text) == (pytest.approx(seconds) if seconds is not None else None)


def test_a_server_whose_stats_did_not_move_is_stale_and_not_counted():
    def answer(index_of_s3):
        return dict(FailureTolerance=1, Servers=[
            dict(ID='id-1', Name='s1', Leader=True, Healthy=True, Voter=True, LastIndex=50, LastContact='0s'),
            dict(ID='id-2', Name='s2', Healthy=True, Voter=True, LastIndex=50 + index_of_s3, LastContact='3ms'),
            dict(ID='id-3', Name='s3', Healthy=True, Voter=True, LastIndex=40, LastContact='12ms')])
    health = _rollout.fresh_health(answer(0), answer(5))
    assert [s['Healthy'] for s in health['Servers']] == [True, True, False]
    assert health['Servers'][2]['Stale'] is True and health['FailureTolerance'] == 0


def test_the_leader_is_never_stale_and_serf_must_say_alive():
    first = dict(Servers=[dict(ID='id-1', Leader=True, Healthy=True, Voter=True, LastIndex=1),
                          dict(ID='id-2', Healthy=True, Voter=True, LastIndex=1, SerfStatus='failed'),
                          dict(ID='id-3', Healthy=True, Voter=True, LastIndex=1)])
    second = dict(Servers=[dict(server, LastIndex=2 if server['ID'] != 'id-1' else 1) for server in first['Servers']])
    health = _rollout.fresh_health(first, second)
    assert [s['Healthy'] for s in health['Servers']] == [True, False, True]
    assert health['FailureTolerance'] == 0
    five = dict(Servers=[dict(ID='id-%d' % n, Healthy=True, Voter=True, LastIndex=n) for n in range(5)])
    assert _rollout.fresh_health(dict(Servers=[]), five)['FailureTolerance'] == 2


def test_an_empty_state_or_a_small_cluster_at_the_gate():
    assert 'does not know the servers yet' in _rollout.server_gate(dict(FailureTolerance=0, Servers=[]), '10.0.0.12')
    two = health(0, (1, True, True), (2, True, True))
    assert _rollout.server_gate(two, '10.0.0.12') is None
