# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""acl_token_rotate: rename, make and verify (rotated); delete and check refused (finished); resume."""

from __future__ import annotations

import pytest

from ansible_collections.hardened.nomad.plugins.module_utils import _acl
from ansible_collections.hardened.nomad.plugins.modules import acl_token_rotate

MANAGEMENT = '3f1c2a3b-4d5e-4f60-8a9b-0c1d2e3f4a5b'
TOKENS = [dict(name='readonly', policies=['readonly']), dict(name='operator', policies=['operator']),
          dict(name='gone', policies=['readonly'], state='absent')]


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    monkeypatch.setattr(_acl.time, 'sleep', lambda seconds: None)


@pytest.fixture
def nomad(fake_nomad):
    fake_nomad.bootstrap_with(MANAGEMENT)
    fake_nomad.add_policy('readonly', 'node { policy = "read" }')
    fake_nomad.add_policy('operator', 'node { policy = "write" }')
    fake_nomad.old = dict((name, fake_nomad.add_token(name, policies=[name])) for name in ('readonly', 'operator'))
    return fake_nomad


def args(**extra):
    base = dict(token=MANAGEMENT, tokens=TOKENS, verify_timeout=0)
    base.update(extra)
    return base


def named(nomad, name):
    return [token for token in nomad.tokens.values() if token['Name'] == name]


def works(nomad, secret):
    return nomad._by_secret(secret) is not None


def test_rotated_renames_the_old_tokens_and_makes_and_checks_new_ones(run_module, nomad):
    result = run_module(acl_token_rotate, args())
    assert result['changed'] is True and result['failed'] is False
    assert [entry['name'] for entry in result['tokens']] == ['readonly', 'operator']  # absent entries are skipped
    for entry in result['tokens']:
        old = nomad.old[entry['name']]
        [retiring] = named(nomad, entry['name'] + '.retiring')
        [new] = named(nomad, entry['name'])
        # renamed, with its secret kept: its holders notice nothing yet
        assert retiring['AccessorID'] == old['AccessorID'] == entry['old_accessor_id']
        assert retiring['SecretID'] == old['SecretID'] and works(nomad, old['SecretID'])
        assert entry['accessor_id'] == new['AccessorID'] and entry['secret_id'] == new['SecretID'] != old['SecretID']
        assert new['Policies'] == [entry['name']] and entry['changed'] is True
        # verified with the new secret
        assert ('GET', '/v1/acl/token/self', None, new['SecretID']) in nomad.calls
    assert 'management' not in result


def test_finished_deletes_the_retiring_tokens_and_checks_the_old_secrets_are_refused(run_module, nomad):
    rotated = run_module(acl_token_rotate, args())
    result = run_module(acl_token_rotate, args(state='finished'))
    assert result['changed'] is True
    assert sorted(entry['name'] for entry in result['deleted']) == ['operator.retiring', 'readonly.retiring']
    for entry in rotated['tokens']:
        old = nomad.old[entry['name']]
        assert not named(nomad, entry['name'] + '.retiring') and not works(nomad, old['SecretID'])
        assert ('GET', '/v1/acl/token/self', None, old['SecretID']) == [
            call for call in nomad.calls if call[3] == old['SecretID']][-1]
        assert works(nomad, entry['secret_id'])
    again = run_module(acl_token_rotate, args(state='finished'))
    assert again['changed'] is False and again['deleted'] == []


def test_finished_fails_when_the_old_secret_is_still_accepted(run_module, nomad, monkeypatch):
    run_module(acl_token_rotate, args(names=['readonly']))
    old = nomad.old['readonly']
    original = nomad.route

    def route(method, path, body, secret):
        if method == 'DELETE':
            return 200, ''  # acknowledged, but the token stays (a replication lag that never ends)
        return original(method, path, body, secret)

    monkeypatch.setattr(nomad, 'route', route)
    result = run_module(acl_token_rotate, args(state='finished', names=['readonly']))
    assert result['failed'] is True
    assert 'old secret of readonly still works' in result['msg'] and old['AccessorID'] in result['msg']
    assert old['SecretID'] not in result['msg']


def test_names_narrow_the_rotation_and_accept_a_comma_separated_string(run_module, nomad):
    result = run_module(acl_token_rotate, args(names='operator , '))
    assert [entry['name'] for entry in result['tokens']] == ['operator']
    assert named(nomad, 'readonly')[0]['AccessorID'] == nomad.old['readonly']['AccessorID']
    assert run_module(acl_token_rotate, args(names=''))['tokens'] == []


def test_unknown_names_fail_before_any_change(run_module, nomad):
    result = run_module(acl_token_rotate, args(names=['readonly', 'ci', 'gone']))
    assert result['failed'] is True
    assert 'names lists ci, gone, which are not among the present tokens of tokens (readonly, operator' in result['msg']
    assert nomad.writes() == []


def test_a_stored_token_that_is_not_management_fails_before_any_change(run_module, nomad):
    for token in (nomad.old['readonly']['SecretID'], '00000000-1111-4222-8333-444444444444', ''):
        result = run_module(acl_token_rotate, args(token=token, management=True))
        assert result['failed'] is True
        assert 'playbooks/acl_bootstrap_reset.yml' in result['msg']
        assert not token or token not in result['msg']
    assert nomad.writes() == []


def test_duplicate_names_and_missing_policies_fail_before_any_change(run_module, nomad):
    twin = nomad.add_token('operator.retiring', policies=['operator'])
    nomad.add_token('operator.retiring', policies=['operator'])
    result = run_module(acl_token_rotate, args(management=True))
    assert result['failed'] is True and 'several tokens in Nomad are named operator or operator.retiring' in result['msg']
    assert twin['AccessorID'] in result['msg']
    result = run_module(acl_token_rotate, args(tokens=[dict(name='ci', policies=['deploy'])], management=True))
    assert result['failed'] is True
    assert 'token ci names the policy deploy, which Nomad does not have' in result['msg']
    result = run_module(acl_token_rotate, args(tokens=[dict(name='ci')]))
    assert result['failed'] is True and 'token ci of tokens: policies are required' in result['msg']
    assert nomad.writes() == []


def test_resume_after_the_rename(run_module, nomad):
    # A run killed between the rename and the new token: only readonly.retiring exists.
    old = nomad.old['readonly']
    old['Name'] = 'readonly.retiring'
    result = run_module(acl_token_rotate, args(names=['readonly']))
    [entry] = result['tokens']
    assert entry['changed'] is True and entry['old_accessor_id'] == old['AccessorID']
    [new] = named(nomad, 'readonly')
    assert new['SecretID'] == entry['secret_id'] != old['SecretID']
    assert [call[:2] for call in nomad.writes()] == [('POST', '/v1/acl/token')]  # no second rename


def test_resume_after_the_new_token_was_made_keeps_it(run_module, nomad):
    # A run killed after making the new token, before storing it: the next run stores that one.
    first = run_module(acl_token_rotate, args(names=['readonly']))
    writes = len(nomad.writes())
    again = run_module(acl_token_rotate, args(names=['readonly']))
    assert again['changed'] is False and len(nomad.writes()) == writes
    assert again['tokens'][0]['secret_id'] == first['tokens'][0]['secret_id']
    assert again['tokens'][0]['old_accessor_id'] == nomad.old['readonly']['AccessorID']


def test_resume_after_storing_finishes(run_module, nomad):
    # A run killed after storing: the next run keeps the stored token and deletes the retiring one.
    first = run_module(acl_token_rotate, args(names=['readonly']))
    again = run_module(acl_token_rotate, args(names=['readonly']))
    assert again['tokens'][0]['secret_id'] == first['tokens'][0]['secret_id']
    finished = run_module(acl_token_rotate, args(names=['readonly'], state='finished'))
    assert finished['deleted'] == [dict(name='readonly.retiring', accessor_id=nomad.old['readonly']['AccessorID'])]
    assert works(nomad, first['tokens'][0]['secret_id']) and not works(nomad, nomad.old['readonly']['SecretID'])


def test_finished_keeps_a_retiring_token_without_its_new_one(run_module, nomad):
    nomad.old['readonly']['Name'] = 'readonly.retiring'
    result = run_module(acl_token_rotate, args(names=['readonly'], state='finished'))
    assert result['failed'] is True and 'readonly.retiring is kept' in result['msg']
    assert nomad.writes() == []


def test_a_new_token_that_does_not_work_fails_and_keeps_the_old_one(run_module, nomad, monkeypatch):
    original = nomad.route
    monkeypatch.setattr(nomad, 'route', lambda method, path, body, secret: (
        (403, 'ACL token not found') if path == '/v1/acl/token/self' and secret not in (
            MANAGEMENT, nomad.old['readonly']['SecretID']) else original(method, path, body, secret)))
    result = run_module(acl_token_rotate, args(names=['readonly']))
    assert result['failed'] is True
    assert 'the new token readonly' in result['msg'] and 'kept as readonly.retiring' in result['msg']
    assert works(nomad, nomad.old['readonly']['SecretID'])


def test_management_rotation_makes_a_checked_new_token_and_uses_it(run_module, nomad):
    nomad.tokens[[t for t in nomad.tokens.values() if t['SecretID'] == MANAGEMENT][0]['AccessorID']]['Global'] = True
    result = run_module(acl_token_rotate, args(management=True, names=['readonly']))
    management = result['management']
    [new] = named(nomad, management['name'])
    assert _acl.COLLECTION_MANAGEMENT_NAME_RE.match(management['name'])
    assert new['Type'] == 'management' and new['Global'] is True
    assert management['secret_id'] == new['SecretID'] and management['accessor_id'] == new['AccessorID']
    assert management['old_accessor_id'] == named(nomad, 'Bootstrap Token')[0]['AccessorID']
    assert works(nomad, MANAGEMENT)  # the old one still works until finished
    # the other tokens are made with the new management token
    [made] = [call for call in nomad.writes() if call[:2] == ('POST', '/v1/acl/token') and call[2]['Name'] == 'readonly']
    assert made[3] == new['SecretID']


def test_management_name_taken_fails_without_change(run_module, nomad, monkeypatch):
    monkeypatch.setattr(_acl, 'management_token_name', lambda: 'management-20260822T101530Z')
    waits = []
    monkeypatch.setattr(_acl.time, 'sleep', waits.append)
    nomad.add_token('management-20260822T101530Z', type='management')
    writes = len(nomad.writes())
    result = run_module(acl_token_rotate, args(management=True))
    assert result['failed'] is True and 'run again in a second' in result['msg']
    assert len(nomad.writes()) == writes
    assert len(waits) == 2 and all(0 < wait <= 1.01 for wait in waits)


def test_a_second_rotation_within_the_same_second_waits_for_a_free_name(run_module, nomad, monkeypatch):
    names = iter(['management-20260822T101530Z', 'management-20260822T101531Z'])
    monkeypatch.setattr(_acl, 'management_token_name', lambda: next(names))
    waits = []
    monkeypatch.setattr(_acl.time, 'sleep', waits.append)
    nomad.add_token('management-20260822T101530Z', type='management')
    result = run_module(acl_token_rotate, args(management=True))
    assert result['failed'] is False and result['management']['name'] == 'management-20260822T101531Z', result
    assert len(waits) == 1


def test_management_finish_deletes_the_collections_earlier_management_tokens(run_module, nomad):
    leftover = nomad.add_token('management-20200101T000000Z', type='management')  # of an interrupted run
    mine = nomad.add_token('my-admin', type='management')
    rotated = run_module(acl_token_rotate, args(management=True, names=''))
    new = rotated['management']['secret_id']
    result = run_module(acl_token_rotate, args(state='finished', management=True, names='', token=new,
                                               old_secret=MANAGEMENT))
    assert result['changed'] is True
    assert sorted(entry['name'] for entry in result['deleted']) == ['Bootstrap Token', 'management-20200101T000000Z']
    assert leftover['AccessorID'] not in nomad.tokens and mine['AccessorID'] in nomad.tokens
    assert not works(nomad, MANAGEMENT) and works(nomad, new)
    assert nomad.calls[-1] == ('GET', '/v1/acl/token/self', None, MANAGEMENT)  # checked refused


def test_management_finish_deletes_an_old_token_of_another_name(run_module, nomad):
    custom = nomad.add_token('my-admin', type='management')
    rotated = run_module(acl_token_rotate, args(management=True, names='', token=custom['SecretID']))
    new = rotated['management']['secret_id']
    result = run_module(acl_token_rotate, args(state='finished', management=True, names='', token=new,
                                               old_secret=custom['SecretID']))
    assert 'my-admin' in [entry['name'] for entry in result['deleted']]
    assert not works(nomad, custom['SecretID']) and works(nomad, new)


def test_management_finish_fails_when_the_old_secret_still_works(run_module, nomad, monkeypatch):
    rotated = run_module(acl_token_rotate, args(management=True, names=''))
    original = nomad.route
    monkeypatch.setattr(nomad, 'route', lambda method, path, body, secret: (
        (200, '') if method == 'DELETE' else original(method, path, body, secret)))
    result = run_module(acl_token_rotate, args(state='finished', management=True, names='',
                                               token=rotated['management']['secret_id'], old_secret=MANAGEMENT))
    assert result['failed'] is True and 'the old management token still works' in result['msg']
    assert MANAGEMENT not in result['msg']


def test_finish_never_deletes_its_own_token(run_module, nomad):
    # The reset's revocation: no old secret, the caller is the new "Bootstrap Token".
    result = run_module(acl_token_rotate, args(state='finished', management=True, names=''))
    assert result['changed'] is False and works(nomad, MANAGEMENT)


def test_check_mode_checks_and_predicts_without_writing_or_secrets(run_module, nomad):
    rotated = run_module(acl_token_rotate, args(management=True), check_mode=True)
    assert rotated['changed'] is True and nomad.writes() == []
    assert 'secret_id' not in rotated['management'] and all('secret_id' not in entry for entry in rotated['tokens'])
    assert [entry['changed'] for entry in rotated['tokens']] == [True, True]
    bad = run_module(acl_token_rotate, args(names=['ci']), check_mode=True)
    assert bad['failed'] is True  # the same checks as the real run

    run_module(acl_token_rotate, args())
    writes = len(nomad.writes())
    finished = run_module(acl_token_rotate, args(state='finished', management=True), check_mode=True)
    assert finished['changed'] is True and len(nomad.writes()) == writes
    assert sorted(entry['name'] for entry in finished['deleted']) == ['operator.retiring', 'readonly.retiring']
    assert named(nomad, 'readonly.retiring')
