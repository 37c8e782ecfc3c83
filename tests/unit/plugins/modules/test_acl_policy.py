# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.hardened.nomad.plugins.modules import acl_policy

MANAGEMENT = '3f1c2a3b-4d5e-4f60-8a9b-0c1d2e3f4a5b'
RULES = 'node {\n  policy = "read"\n}\n'


@pytest.fixture
def nomad(fake_nomad):
    fake_nomad.bootstrap_with(MANAGEMENT)
    return fake_nomad


def args(**extra):
    base = dict(token=MANAGEMENT, name='readonly', description='read only', rules=RULES)
    base.update(extra)
    return base


def test_creates_a_missing_policy(run_module, nomad):
    result = run_module(acl_policy, args(), diff=True)
    assert result['changed'] is True
    assert nomad.policies['readonly']['Rules'] == RULES
    assert nomad.policies['readonly']['Description'] == 'read only'
    assert result['policy']['Name'] == 'readonly'
    assert result['diff'] == dict(before={}, after=dict(name='readonly', description='read only',
                                                        rules=RULES.rstrip()))
    assert ('POST', '/v1/acl/policy/readonly', dict(Name='readonly', Description='read only', Rules=RULES),
            MANAGEMENT) in nomad.calls


def test_equal_policy_is_not_written(run_module, nomad):
    nomad.add_policy('readonly', RULES, 'read only')
    # Trailing white space on lines and at the end is no difference.
    result = run_module(acl_policy, args(rules='node {  \n  policy = "read"\n}\n\n\n'))
    assert result['changed'] is False
    assert nomad.writes() == []
    assert result['policy']['Rules'] == RULES


def test_changed_rules_are_updated_with_diff(run_module, nomad):
    nomad.add_policy('readonly', RULES, 'read only')
    new_rules = 'node {\n  policy = "write"\n}'
    result = run_module(acl_policy, args(rules=new_rules), diff=True)
    assert result['changed'] is True
    assert nomad.policies['readonly']['Rules'] == new_rules
    assert result['diff']['before']['rules'] == RULES.rstrip()
    assert result['diff']['after']['rules'] == new_rules
    assert result['policy']['Rules'] == new_rules


def test_changed_description_alone_is_an_update(run_module, nomad):
    nomad.add_policy('readonly', RULES, 'old words')
    result = run_module(acl_policy, args())
    assert result['changed'] is True and nomad.policies['readonly']['Description'] == 'read only'


def test_absent_deletes_an_existing_policy(run_module, nomad):
    nomad.add_policy('readonly', RULES)
    result = run_module(acl_policy, dict(token=MANAGEMENT, name='readonly', state='absent'), diff=True)
    assert result['changed'] is True
    assert 'readonly' not in nomad.policies
    assert result['diff']['after'] == {} and result['diff']['before']['name'] == 'readonly'
    assert 'policy' not in result


def test_absent_when_missing_is_unchanged(run_module, nomad):
    result = run_module(acl_policy, dict(token=MANAGEMENT, name='readonly', state='absent'))
    assert result['changed'] is False and nomad.writes() == []


def test_check_mode_predicts_create_update_delete_without_writing(run_module, nomad):
    created = run_module(acl_policy, args(), check_mode=True, diff=True)
    assert created['changed'] is True and 'policy' not in created
    assert created['diff']['after']['name'] == 'readonly'

    nomad.add_policy('readonly', RULES, 'old words')
    updated = run_module(acl_policy, args(), check_mode=True, diff=True)
    assert updated['changed'] is True
    assert updated['diff']['before']['description'] == 'old words'
    assert updated['diff']['after']['description'] == 'read only'

    deleted = run_module(acl_policy, dict(token=MANAGEMENT, name='readonly', state='absent'), check_mode=True)
    assert deleted['changed'] is True
    assert nomad.writes() == [] and nomad.policies['readonly']['Description'] == 'old words'


def test_missing_rules_fail_before_any_call(run_module, nomad):
    result = run_module(acl_policy, dict(token=MANAGEMENT, name='readonly'))
    assert result['failed'] is True and 'rules are required' in result['msg']
    assert nomad.calls == []


def test_bad_name_fails_before_any_call(run_module, nomad):
    result = run_module(acl_policy, args(name='read only!'))
    assert result['failed'] is True and 'not a valid policy name' in result['msg']
    assert nomad.calls == []


def test_permission_denied_names_status_and_message(run_module, nomad):
    result = run_module(acl_policy, args(token='99999999-2222-4333-8444-555555555555'))
    assert result['failed'] is True
    assert result['msg'].startswith('Nomad answered HTTP 403 to GET /v1/acl/policy/readonly: Permission denied')


def test_nomads_rule_errors_are_passed_on(run_module, nomad, monkeypatch):
    original = nomad.route
    monkeypatch.setattr(nomad, 'route', lambda method, path, body, secret: (
        (400, 'policy 0 invalid: 1 error occurred:\n\t* failed to parse rules') if method == 'POST'
        else original(method, path, body, secret)))
    result = run_module(acl_policy, args(rules='nod { }'))
    assert result['failed'] is True and 'HTTP 400' in result['msg'] and 'failed to parse rules' in result['msg']


def test_check_mode_before_the_tls_files_exist_predicts_without_calling(run_module, fake_nomad, tmp_path):
    # Check mode on hosts never converged: no CA file yet, no agent; a new cluster has no policies.
    missing = dict(ca_file=str(tmp_path / 'tls' / 'ca.pem'))
    created = run_module(acl_policy, args(**missing), check_mode=True, diff=True)
    assert created['failed'] is False and created['changed'] is True
    assert created['diff'] == dict(before={}, after=dict(name='readonly', description='read only', rules=RULES.rstrip()))
    assert str(tmp_path / 'tls' / 'ca.pem') in created['msg']
    removed = run_module(acl_policy, dict(args(**missing), name='anonymous', state='absent'), check_mode=True)
    assert removed['failed'] is False and removed['changed'] is False
    assert fake_nomad.calls == []
    # Outside check mode the missing file is an error.
    failed = run_module(acl_policy, args(**missing))
    assert failed['failed'] is True and 'does not exist' in failed['msg']


def test_check_mode_with_the_tls_files_in_place_asks_nomad(run_module, nomad, ca):
    nomad.add_policy('readonly', RULES, 'read only')
    result = run_module(acl_policy, args(ca_file=str(ca.cert_path)), check_mode=True)
    assert result['changed'] is False and 'msg' not in result
    assert nomad.calls
