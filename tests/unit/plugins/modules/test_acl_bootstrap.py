# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import urllib.error

import pytest

from ansible_collections.hardened.nomad.plugins.module_utils import _acl, _api
from ansible_collections.hardened.nomad.plugins.modules import acl_bootstrap

SECRET = '3f1c2a3b-4d5e-4f60-8a9b-0c1d2e3f4a5b'


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    # wait_for_leader sleeps between polls; the tests must not.
    monkeypatch.setattr(_api.time, 'sleep', lambda seconds: None)


def posts(fake):
    return [call for call in fake.calls if call[0] == 'POST']


def test_bootstrap_with_given_secret(run_module, fake_nomad):
    result = run_module(acl_bootstrap, dict(bootstrap_secret=SECRET))
    assert result['changed'] is True
    assert result['secret_id'] == SECRET
    assert result['accessor_id'] == fake_nomad.tokens[result['accessor_id']]['AccessorID']
    assert result['reset_index'] == fake_nomad.bootstrap_index
    assert result['leader'] == '127.0.0.1:4647'
    assert posts(fake_nomad) == [('POST', '/v1/acl/bootstrap', {'BootstrapSecret': SECRET}, None)]


def test_bootstrap_without_secret_generates_a_uuid4(run_module, fake_nomad):
    result = run_module(acl_bootstrap, {})
    assert result['changed'] is True
    sent = posts(fake_nomad)[0][2]['BootstrapSecret']
    assert _acl.UUID_RE.match(sent) and sent[14] == '4'
    assert result['secret_id'] == sent


def test_already_done_with_valid_management_secret_is_unchanged(run_module, fake_nomad):
    fake_nomad.bootstrap_with(SECRET)
    result = run_module(acl_bootstrap, dict(bootstrap_secret=SECRET))
    assert result['changed'] is False and result['failed'] is False
    assert result['secret_id'] == SECRET
    assert posts(fake_nomad) == []  # the token check answers it, nothing is written


def test_already_done_answer_with_our_secret_is_unchanged(run_module, fake_nomad, monkeypatch):
    # A race: another run bootstrapped with the same secret between our check and our POST.
    original = fake_nomad.route
    checks = []

    def route(method, path, body, secret):
        if path == '/v1/acl/token/self':
            checks.append(secret)
            if len(checks) == 1:
                return 403, 'Permission denied'
        if path == '/v1/acl/bootstrap' and fake_nomad.bootstrap_index is None:
            fake_nomad.bootstrap_with(SECRET)
        return original(method, path, body, secret)

    monkeypatch.setattr(fake_nomad, 'route', route)
    result = run_module(acl_bootstrap, dict(bootstrap_secret=SECRET))
    assert result['changed'] is False and result['failed'] is False
    assert result['reset_index'] == fake_nomad.bootstrap_index


def test_already_done_with_another_secret_fails_with_reset_index(run_module, fake_nomad):
    fake_nomad.bootstrap_with('11111111-2222-4333-8444-555555555555')
    result = run_module(acl_bootstrap, dict(bootstrap_secret=SECRET, data_dir='/opt/nomad/data'))
    index = fake_nomad.bootstrap_index
    assert result['failed'] is True
    assert 'already done (reset index: %d)' % index in result['msg']
    assert 'the given bootstrap_secret is not a valid management token' in result['msg']
    assert 'write %d to /opt/nomad/data/server/acl-bootstrap-reset on the leader' % index in result['msg']
    assert SECRET not in result['msg']


def test_client_token_secret_is_not_accepted_as_proof(run_module, fake_nomad):
    fake_nomad.bootstrap_with('11111111-2222-4333-8444-555555555555')
    fake_nomad.add_token('ci', policies=['x'], secret=SECRET)
    result = run_module(acl_bootstrap, dict(bootstrap_secret=SECRET))
    assert result['failed'] is True and 'reset index' in result['msg']
    assert '<data_dir>/server/acl-bootstrap-reset' in result['msg']


def test_already_done_without_secret_fails_with_reset_index(run_module, fake_nomad):
    fake_nomad.bootstrap_with('11111111-2222-4333-8444-555555555555')
    result = run_module(acl_bootstrap, {})
    assert result['failed'] is True
    assert 'reset index: %d' % fake_nomad.bootstrap_index in result['msg']
    assert 'no bootstrap_secret was given' in result['msg']


def test_wrong_index_in_reset_file_is_explained(run_module, fake_nomad, monkeypatch):
    monkeypatch.setattr(fake_nomad, 'route', lambda method, path, body, secret: (
        (200, 'x:1') if path == '/v1/status/leader' else
        (403, 'Permission denied') if path == '/v1/acl/token/self' else
        (400, 'Invalid bootstrap reset index (specified 7, reset index: 11)')))
    result = run_module(acl_bootstrap, dict(bootstrap_secret=SECRET))
    assert result['failed'] is True
    assert 'acl-bootstrap-reset file on the leader holds the wrong index' in result['msg']
    assert 'write 11 to' in result['msg']


def test_acls_disabled_is_explained(run_module, fake_nomad):
    fake_nomad.acl_enabled = False
    for args in ({}, dict(bootstrap_secret=SECRET)):
        result = run_module(acl_bootstrap, args)
        assert result['failed'] is True
        assert 'ACLs are disabled' in result['msg'] and 'acl { enabled = true }' in result['msg']


def test_no_leader_times_out_clearly(run_module, fake_nomad, monkeypatch):
    fake_nomad.leader = ''
    clock = iter(range(0, 1000, 5))
    monkeypatch.setattr(_api.time, 'monotonic', lambda: next(clock))
    result = run_module(acl_bootstrap, dict(bootstrap_secret=SECRET, leader_timeout=20))
    assert result['failed'] is True
    assert 'no Nomad cluster leader at https://127.0.0.1:4646 within 20 seconds' in result['msg']
    assert 'no leader elected' in result['msg']
    assert posts(fake_nomad) == []


def test_leader_wait_retries_until_a_leader_appears(run_module, fake_nomad, monkeypatch):
    answers = iter([(500, 'No cluster leader'), (200, ''), (200, '127.0.0.1:4647')])
    original = fake_nomad.route
    monkeypatch.setattr(fake_nomad, 'route', lambda method, path, body, secret: (
        next(answers) if path == '/v1/status/leader' else original(method, path, body, secret)))
    result = run_module(acl_bootstrap, dict(bootstrap_secret=SECRET))
    assert result['changed'] is True
    assert [c[1] for c in fake_nomad.calls].count('/v1/status/leader') == 3


def test_check_mode_predicts_bootstrap_without_posting(run_module, fake_nomad):
    result = run_module(acl_bootstrap, dict(bootstrap_secret=SECRET), check_mode=True)
    assert result['changed'] is True and 'secret_id' not in result
    assert posts(fake_nomad) == [] and fake_nomad.bootstrap_index is None


def test_check_mode_without_secret_predicts_bootstrap(run_module, fake_nomad):
    result = run_module(acl_bootstrap, {}, check_mode=True)
    assert result['changed'] is True and posts(fake_nomad) == []


def test_check_mode_when_secret_already_works_is_unchanged(run_module, fake_nomad):
    fake_nomad.bootstrap_with(SECRET)
    result = run_module(acl_bootstrap, dict(bootstrap_secret=SECRET), check_mode=True)
    assert result['changed'] is False


@pytest.mark.parametrize('bad', ['not-a-uuid', SECRET + 'x', SECRET.replace('-', '')])
def test_secret_must_be_a_uuid_and_is_not_echoed(run_module, fake_nomad, bad):
    result = run_module(acl_bootstrap, dict(bootstrap_secret=bad))
    assert result['failed'] is True and 'must be a UUID' in result['msg']
    assert bad not in result['msg']
    assert fake_nomad.calls == []


def test_transport_errors_are_reported(run_module, fake_nomad):
    fake_nomad.transport_errors[('GET', '/v1/status/leader')] = urllib.error.URLError(ConnectionRefusedError(111, 'x'))
    result = run_module(acl_bootstrap, dict(bootstrap_secret=SECRET, leader_timeout=0))
    assert result['failed'] is True
    assert 'cannot connect to Nomad at https://127.0.0.1:4646: connection refused' in result['msg']


def test_other_http_errors_are_reported_with_status_and_text(run_module, fake_nomad, monkeypatch):
    original = fake_nomad.route
    monkeypatch.setattr(fake_nomad, 'route', lambda method, path, body, secret: (
        (500, 'raft apply failed: timeout') if path == '/v1/acl/bootstrap' else original(method, path, body, secret)))
    result = run_module(acl_bootstrap, {})
    assert result['failed'] is True
    assert result['msg'] == 'Nomad answered HTTP 500 to POST /v1/acl/bootstrap: raft apply failed: timeout'


def test_connection_options_come_from_the_environment(run_module, fake_nomad, monkeypatch):
    monkeypatch.setenv('NOMAD_ADDR', 'https://nomad.example:4646')
    result = run_module(acl_bootstrap, dict(bootstrap_secret=SECRET, timeout=3))
    assert result['changed'] is True
    assert fake_nomad.urls[0] == 'https://nomad.example:4646/v1/status/leader'
    assert fake_nomad.requests_seen[0]['timeout'] == 3


def test_check_mode_before_the_tls_files_exist_predicts_without_calling(run_module, fake_nomad, tmp_path):
    # Check mode on hosts never converged: no CA file, and no secret file yet (an empty secret).
    missing = dict(ca_file=str(tmp_path / 'tls' / 'ca.pem'))
    for secret in ('', SECRET):
        result = run_module(acl_bootstrap, dict(missing, bootstrap_secret=secret), check_mode=True)
        assert result['failed'] is False and result['changed'] is True and 'secret_id' not in result
        assert str(tmp_path / 'tls' / 'ca.pem') in result['msg']
    assert fake_nomad.calls == []
    # A secret that is given is still checked, and outside check mode nothing is predicted.
    bad = run_module(acl_bootstrap, dict(missing, bootstrap_secret='not-a-uuid'), check_mode=True)
    assert bad['failed'] is True and 'must be a UUID' in bad['msg']
    real = run_module(acl_bootstrap, dict(missing, bootstrap_secret=''))
    assert real['failed'] is True and 'must be a UUID' in real['msg']
    real = run_module(acl_bootstrap, dict(missing, bootstrap_secret=SECRET))
    assert real['failed'] is True and 'does not exist' in real['msg']
