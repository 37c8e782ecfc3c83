# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.hardened.nomad.plugins.modules import acl_token

MANAGEMENT = '3f1c2a3b-4d5e-4f60-8a9b-0c1d2e3f4a5b'


@pytest.fixture
def nomad(fake_nomad):
    fake_nomad.bootstrap_with(MANAGEMENT)
    return fake_nomad


def args(**extra):
    base = dict(token=MANAGEMENT, name='monitoring', policies=['readonly'])
    base.update(extra)
    return base


def named(nomad, name):
    return [t for t in nomad.tokens.values() if t['Name'] == name]


def test_creates_a_missing_token_and_returns_its_secret(run_module, nomad):
    result = run_module(acl_token, args(), diff=True)
    assert result['changed'] is True
    [token] = named(nomad, 'monitoring')
    assert result['accessor_id'] == token['AccessorID'] and result['secret_id'] == token['SecretID']
    assert 'SecretID' not in result['token'] and result['token']['Policies'] == ['readonly']
    assert result['diff'] == dict(before={}, after={'name': 'monitoring', 'type': 'client', 'policies': ['readonly'],
                                                    'global': False, 'expiration_ttl': None})
    assert ('POST', '/v1/acl/token', dict(Name='monitoring', Type='client', Policies=['readonly'], Global=False),
            MANAGEMENT) in nomad.calls


def test_existing_equal_token_is_unchanged_and_its_secret_is_returned(run_module, nomad):
    token = nomad.add_token('monitoring', policies=['readonly'])
    result = run_module(acl_token, args())
    assert result['changed'] is False
    assert result['secret_id'] == token['SecretID'] and result['accessor_id'] == token['AccessorID']
    assert nomad.writes() == []


def test_policy_order_does_not_matter(run_module, nomad):
    nomad.add_token('monitoring', policies=['b', 'a'])
    assert run_module(acl_token, args(policies=['a', 'b', 'a']))['changed'] is False


def test_changed_policies_are_updated_in_place(run_module, nomad):
    token = nomad.add_token('monitoring', policies=['readonly'])
    result = run_module(acl_token, args(policies=['readonly', 'metrics']), diff=True)
    assert result['changed'] is True
    assert result['accessor_id'] == token['AccessorID'] and result['secret_id'] == token['SecretID']
    assert nomad.tokens[token['AccessorID']]['Policies'] == ['readonly', 'metrics']
    assert result['diff']['before']['policies'] == ['readonly']
    assert result['diff']['after']['policies'] == ['metrics', 'readonly']
    method, path, body, token_header = nomad.writes()[0]
    assert token_header == MANAGEMENT
    assert (method, path) == ('POST', '/v1/acl/token/' + token['AccessorID'])
    assert body['AccessorID'] == token['AccessorID'] and body['Roles'] == []


def test_update_keeps_role_links(run_module, nomad):
    token = nomad.add_token('monitoring', policies=['readonly'])
    token['Roles'] = [dict(ID='role-1', Name='ops')]
    run_module(acl_token, args(policies=['metrics']))
    assert nomad.writes()[0][2]['Roles'] == [dict(ID='role-1')]


def test_update_of_a_token_with_ttl_repeats_its_expiration(run_module, nomad):
    token = nomad.add_token('monitoring', policies=['readonly'], ttl='1h0m0s',
                            expiration_time='2099-01-01T00:00:00.123Z')
    result = run_module(acl_token, args(policies=['metrics'], expiration_ttl='60m'))
    assert result['changed'] is True and result['accessor_id'] == token['AccessorID']
    body = nomad.writes()[0][2]
    assert body['ExpirationTTL'] == '1h0m0s' and body['ExpirationTime'] == '2099-01-01T00:00:00.123Z'


@pytest.mark.parametrize('existing, change, expected', [
    (dict(type='client', policies=['readonly']), dict(type='management', policies=[]),
     'type from client to management'),
    (dict(global_=True, policies=['readonly']), dict(), 'global from True to False'),
    (dict(policies=['readonly']), dict(expiration_ttl='2h'), 'expiration_ttl from None to 2h0m0s'),
    (dict(policies=['readonly'], ttl='1h0m0s', expiration_time='2099-01-01T00:00:00Z'), dict(),
     'expiration_ttl from 1h0m0s to None'),
])
def test_immutable_changes_need_recreate(run_module, nomad, existing, change, expected):
    token = nomad.add_token('monitoring', **existing)
    result = run_module(acl_token, args(**change))
    assert result['failed'] is True
    assert expected in result['msg'] and token['AccessorID'] in result['msg'] and 'recreate: true' in result['msg']
    assert token['SecretID'] not in result['msg']
    assert nomad.writes() == []


def test_recreate_deletes_and_makes_a_new_token(run_module, nomad):
    old = nomad.add_token('monitoring', policies=['readonly'])
    result = run_module(acl_token, args(type='management', policies=[], recreate=True), diff=True)
    assert result['changed'] is True
    assert old['AccessorID'] not in nomad.tokens
    [new] = named(nomad, 'monitoring')
    assert new['Type'] == 'management' and result['accessor_id'] == new['AccessorID']
    assert result['secret_id'] == new['SecretID'] != old['SecretID']
    assert result['diff']['before']['type'] == 'client' and result['diff']['after']['type'] == 'management'
    assert [w[0] for w in nomad.writes()] == ['DELETE', 'POST']


def test_expired_token_is_made_anew_without_recreate(run_module, nomad):
    old = nomad.add_token('monitoring', policies=['readonly'], ttl='1h0m0s',
                          expiration_time='2020-01-01T00:00:00.5+00:00')
    result = run_module(acl_token, args(expiration_ttl='1h'))
    assert result['changed'] is True
    assert old['AccessorID'] not in nomad.tokens and result['accessor_id'] != old['AccessorID']


def test_duplicate_names_fail_listing_accessors(run_module, nomad):
    first = nomad.add_token('monitoring', policies=['readonly'])
    second = nomad.add_token('monitoring', policies=['other'])
    result = run_module(acl_token, args())
    assert result['failed'] is True
    assert '2 tokens are named monitoring' in result['msg']
    assert first['AccessorID'] in result['msg'] and second['AccessorID'] in result['msg']
    assert first['SecretID'] not in result['msg']


def test_absent_deletes_the_token(run_module, nomad):
    token = nomad.add_token('monitoring', policies=['readonly'])
    result = run_module(acl_token, dict(token=MANAGEMENT, name='monitoring', state='absent'), diff=True)
    assert result['changed'] is True and result['accessor_id'] == token['AccessorID']
    assert 'secret_id' not in result
    assert token['AccessorID'] not in nomad.tokens
    assert result['diff']['after'] == {} and result['diff']['before']['name'] == 'monitoring'


def test_absent_when_missing_is_unchanged(run_module, nomad):
    result = run_module(acl_token, dict(token=MANAGEMENT, name='monitoring', state='absent'))
    assert result['changed'] is False and nomad.writes() == []


def test_check_mode_predicts_without_writing(run_module, nomad):
    created = run_module(acl_token, args(), check_mode=True, diff=True)
    assert created['changed'] is True and 'secret_id' not in created
    assert created['diff']['after']['name'] == 'monitoring'

    token = nomad.add_token('monitoring', policies=['readonly'])
    updated = run_module(acl_token, args(policies=['metrics']), check_mode=True, diff=True)
    assert updated['changed'] is True and updated['diff']['after']['policies'] == ['metrics']
    refused = run_module(acl_token, args(type='management', policies=[]), check_mode=True)
    assert refused['failed'] is True  # check mode predicts the same refusal

    deleted = run_module(acl_token, dict(token=MANAGEMENT, name='monitoring', state='absent'), check_mode=True)
    assert deleted['changed'] is True
    assert nomad.writes() == [] and nomad.tokens[token['AccessorID']]['Policies'] == ['readonly']


def test_management_token_without_policies(run_module, nomad):
    result = run_module(acl_token, args(name='admin', type='management', policies=[], expiration_ttl='90m'))
    assert result['changed'] is True
    [token] = named(nomad, 'admin')
    assert token['Type'] == 'management' and token['ExpirationTTL'] == '1h30m0s'
    assert nomad.writes()[0][2]['ExpirationTTL'] == '90m'


@pytest.mark.parametrize('bad, expected', [
    (dict(policies=[]), 'policies are required for a client token'),
    (dict(type='management'), 'policies must be empty for a management token'),
    (dict(expiration_ttl='30 days'), 'is not a Go duration'),
    (dict(name='  '), 'name must not be empty'),
])
def test_invalid_options_fail_before_any_call(run_module, nomad, bad, expected):
    result = run_module(acl_token, args(**bad))
    assert result['failed'] is True and expected in result['msg']
    assert nomad.calls == []


def test_check_mode_before_the_tls_files_exist_predicts_without_calling(run_module, fake_nomad, tmp_path):
    # Check mode on hosts never converged: no client certificate yet; a new cluster has no tokens.
    missing = dict(client_cert=str(tmp_path / 'tls' / 'agent.pem'), client_key=str(tmp_path / 'tls' / 'agent-key.pem'))
    created = run_module(acl_token, args(**missing), check_mode=True, diff=True)
    assert created['failed'] is False and created['changed'] is True and 'secret_id' not in created
    assert created['diff']['before'] == {} and created['diff']['after']['name'] == 'monitoring'
    removed = run_module(acl_token, dict(args(**missing), state='absent'), check_mode=True)
    assert removed['changed'] is False
    assert fake_nomad.calls == []
    # The options are still checked.
    refused = run_module(acl_token, args(policies=[], **missing), check_mode=True)
    assert refused['failed'] is True and 'policies are required' in refused['msg']
