# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.hardened.nomad.plugins.modules import leader_handover

MANAGEMENT = 'mgmt-secret'
BASE = dict(address='http://127.0.0.1:4646', token=MANAGEMENT, interval=0, wait=5)


def peers(leader=1, without=(), nonvoters=()):
    """A raft configuration of s1..s3 (10.0.0.11..13), server `leader` leading (0: none)."""
    return [dict(ID='id-%d' % n, Node='s%d.global' % n, Address='10.0.0.1%d:4647' % n, Leader=n == leader,
                 Voter=n not in nonvoters) for n in (1, 2, 3) if n not in without]


@pytest.fixture
def nomad(fake_nomad):
    fake_nomad.bootstrap_with(MANAGEMENT)
    return fake_nomad


def test_a_follower_is_left_alone(run_module, nomad):
    nomad.member_tags['id'] = 'id-2'
    result = run_module(leader_handover, BASE)
    assert result['failed'] is False and result['changed'] is False and result['handed_over'] is False
    assert result['msg'] == '10.0.0.12:4647 is not the leader (the leader is 10.0.0.11:4647)'
    assert nomad.writes() == []


def test_the_leader_steps_down_and_waits_for_a_new_leader_and_its_return_as_a_voter(run_module, nomad):
    # plan, then: removed (no leader known yet), re-added as a non-voter, a voter again
    nomad.raft = [peers(), peers(leader=2, without=[1]), peers(leader=2, nonvoters=[1]), peers(leader=2)]
    nomad.leader_answers = ['', '10.0.0.11:4647']
    nomad.leader = '10.0.0.12:4647'
    result = run_module(leader_handover, BASE)
    assert result['failed'] is False and result['changed'] is True and result['handed_over'] is True
    assert result['previous_leader'] == '10.0.0.11:4647' and result['leader'] == '10.0.0.12:4647'
    assert nomad.removed_peers == ['id=id-1']
    assert [call[:2] for call in nomad.writes()] == [('DELETE', '/v1/operator/raft/peer')]
    # it polled the raft configuration until it was a voter again: all four configurations were read
    assert nomad.raft == [peers(leader=2)]
    assert result['msg'].startswith('10.0.0.11:4647 handed the leadership to 10.0.0.12:4647 and is a voter again')


def test_api_errors_while_waiting_are_retried(run_module, nomad, monkeypatch):
    nomad.raft = [peers(), peers(leader=2)]
    nomad.leader = '10.0.0.12:4647'
    answers = iter([(500, 'No cluster leader'), (500, 'No cluster leader')])
    route = nomad.route

    def flaky(method, path, body, secret):
        if path == '/v1/status/leader':
            answer = next(answers, None)
            if answer:
                return answer
        return route(method, path, body, secret)

    monkeypatch.setattr(nomad, 'route', flaky)
    result = run_module(leader_handover, BASE)
    assert result['failed'] is False and result['leader'] == '10.0.0.12:4647'


def test_no_handover_when_the_cluster_cannot_spare_a_voter(run_module, nomad):
    nomad.failure_tolerance = 0
    result = run_module(leader_handover, BASE)
    assert result['failed'] is False and result['changed'] is False and result['handed_over'] is False
    assert 'cannot spare a voter' in result['msg'] and 'failure tolerance 0' in result['msg']
    assert nomad.writes() == []


def test_check_mode_predicts_without_stepping_down(run_module, nomad):
    result = run_module(leader_handover, BASE, check_mode=True)
    assert result['failed'] is False and result['changed'] is True and result['handed_over'] is True
    assert nomad.writes() == []


def test_a_client_agent_is_refused(run_module, nomad):
    nomad.member_tags = dict(role='node')
    result = run_module(leader_handover, BASE)
    assert result['failed'] is True
    assert 'is not a Nomad server agent' in result['msg']


def test_an_agent_missing_from_the_raft_peers_is_explained(run_module, nomad):
    nomad.member_tags['id'] = 'id-9'
    result = run_module(leader_handover, BASE)
    assert result['failed'] is True
    assert 'raft ID id-9) is not a raft peer' in result['msg'] and 'list-peers' in result['msg']


def test_a_refused_removal_fails_and_says_so(run_module, nomad):
    nomad.remove_peer_error = (500, 'raft: not enough voters')
    result = run_module(leader_handover, BASE)
    assert result['failed'] is True
    assert result['msg'].startswith('10.0.0.11:4647 could not step down (removing raft peer id-1): ')
    assert 'not enough voters' in result['msg']


def test_no_new_leader_within_the_wait_fails_with_what_to_do(run_module, nomad):
    nomad.raft = [peers(), peers(leader=0, without=[1])]
    nomad.leader = ''
    result = run_module(leader_handover, dict(BASE, wait=0))
    assert result['failed'] is True
    assert result['msg'].startswith('no other server became the leader after 10.0.0.11:4647 stepped down within 0 '
                                    'seconds')
    assert 'systemctl restart nomad' in result['msg']


def test_a_server_that_does_not_come_back_as_a_voter_fails_naming_the_new_leader(run_module, nomad):
    nomad.raft = [peers(), peers(leader=2, nonvoters=[1])]
    nomad.leader = '10.0.0.12:4647'
    result = run_module(leader_handover, dict(BASE, wait=0))
    assert result['failed'] is True
    assert result['msg'].startswith('10.0.0.11:4647 stepped down (10.0.0.12:4647 leads now) but is not a voter again')
    assert 'list-peers' in result['msg']


def test_the_token_is_sent_on_every_call(run_module, nomad):
    nomad.member_tags['id'] = 'id-2'
    run_module(leader_handover, BASE)
    assert {call[3] for call in nomad.calls} == {MANAGEMENT}
