# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""acl_bootstrap state=reset: on the leader, reset file written (0600), bootstrap, file removed in any case."""

from __future__ import annotations

import os

import pytest

from ansible_collections.hardened.nomad.plugins.module_utils import _acl, _api
from ansible_collections.hardened.nomad.plugins.modules import acl_bootstrap

LOST = '11111111-2222-4333-8444-555555555555'
NEW = '6f1c2a3b-4d5e-4f60-8a9b-0c1d2e3f4a5b'


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    monkeypatch.setattr(_api.time, 'sleep', lambda seconds: None)
    monkeypatch.setattr(_acl.time, 'sleep', lambda seconds: None)


@pytest.fixture
def nomad(fake_nomad, tmp_path):
    fake_nomad.bootstrap_with(LOST)
    fake_nomad.data_dir = str(tmp_path / 'data')
    os.makedirs(os.path.join(fake_nomad.data_dir, 'server'))
    return fake_nomad


def reset_file(nomad):
    return os.path.join(nomad.data_dir, 'server', 'acl-bootstrap-reset')


def args(nomad, **extra):
    base = dict(state='reset', bootstrap_secret=NEW, data_dir=nomad.data_dir, verify_timeout=0)
    base.update(extra)
    return base


def management_secrets(nomad):
    return sorted(token['SecretID'] for token in nomad.tokens.values() if token['Type'] == 'management')


def test_reset_writes_the_index_bootstraps_and_removes_the_file(run_module, nomad):
    index = nomad.bootstrap_index
    result = run_module(acl_bootstrap, args(nomad, stored_secret='00000000-1111-4222-8333-444444444444'))
    assert result['changed'] is True and result['reset'] is True and result['failed'] is False
    assert result['secret_id'] == NEW and result['reset_index'] == index and result['leader'] == '127.0.0.1:4647'
    assert nomad.reset_files_seen == [(str(index), 0o600)]
    assert not os.path.exists(reset_file(nomad))
    assert management_secrets(nomad) == sorted([LOST, NEW])  # revoking the lost one is acl_token_rotate's
    assert ('GET', '/v1/acl/token/self', None, NEW) in nomad.calls  # verified


def test_reset_file_belongs_to_the_owner_of_the_server_dir(run_module, nomad, monkeypatch):
    owners = []
    real_chown = os.chown
    monkeypatch.setattr(os, 'chown', lambda path, uid, gid: owners.append((uid, gid)) or real_chown(path, uid, gid))
    run_module(acl_bootstrap, args(nomad))
    server_dir = os.stat(os.path.join(nomad.data_dir, 'server'))
    assert owners == [(server_dir.st_uid, server_dir.st_gid)]


def test_nothing_is_done_while_the_stored_token_works(run_module, nomad):
    result = run_module(acl_bootstrap, args(nomad, stored_secret=LOST))
    assert result['changed'] is False and result['reset'] is False and 'secret_id' not in result
    assert nomad.writes() == [] and nomad.reset_files_seen == []


def test_force_resets_although_the_stored_token_works(run_module, nomad):
    result = run_module(acl_bootstrap, args(nomad, stored_secret=LOST, force=True))
    assert result['changed'] is True and result['reset'] is True
    assert NEW in management_secrets(nomad) and not os.path.exists(reset_file(nomad))


def test_resume_with_the_pending_secret_that_already_works(run_module, nomad):
    # A run killed after the bootstrap, before storing: the next run returns that token, nothing new.
    run_module(acl_bootstrap, args(nomad))
    writes = len(nomad.writes())
    result = run_module(acl_bootstrap, args(nomad, stored_secret=LOST))
    assert result['changed'] is True and result['reset'] is False and result['secret_id'] == NEW
    assert len(nomad.writes()) == writes
    # once it is stored, the same call changes nothing
    stored = run_module(acl_bootstrap, args(nomad, stored_secret=NEW))
    assert stored['changed'] is False


def test_a_failed_bootstrap_still_removes_the_reset_file(run_module, nomad, monkeypatch):
    original = nomad.route
    answers = []

    def route(method, path, body, secret):
        if path == '/v1/acl/bootstrap':
            answers.append(path)
            if len(answers) == 2:  # the bootstrap after the reset file: the leader changed meanwhile
                return 400, 'ACL bootstrap already done (reset index: 99)'
        return original(method, path, body, secret)

    monkeypatch.setattr(nomad, 'route', route)
    result = run_module(acl_bootstrap, args(nomad))
    assert result['failed'] is True
    assert 'the bootstrap failed although the reset file' in result['msg'] and 'the file was removed' in result['msg']
    assert not os.path.exists(reset_file(nomad))
    assert NEW not in result['msg']


def test_a_transport_failure_during_the_bootstrap_still_removes_the_reset_file(run_module, nomad, monkeypatch):
    import urllib.error
    original = nomad.route
    calls = []

    def route(method, path, body, secret):
        if path == '/v1/acl/bootstrap':
            calls.append(path)
            if len(calls) == 2:
                assert os.path.exists(reset_file(nomad))
                raise urllib.error.URLError(ConnectionRefusedError(111, 'refused'))
        return original(method, path, body, secret)

    monkeypatch.setattr(nomad, 'route', route)
    result = run_module(acl_bootstrap, args(nomad))
    assert result['failed'] is True and 'connection refused' in result['msg']
    assert not os.path.exists(reset_file(nomad))


def test_a_cluster_never_bootstrapped_is_bootstrapped_with_the_new_secret(run_module, fake_nomad, tmp_path):
    result = run_module(acl_bootstrap, dict(state='reset', bootstrap_secret=NEW, data_dir=str(tmp_path)))
    assert result['changed'] is True and result['secret_id'] == NEW and 'reset_index' not in result
    assert fake_nomad.reset_files_seen == []


def test_the_leader_must_not_have_changed(run_module, nomad):
    result = run_module(acl_bootstrap, args(nomad, leader='10.0.0.12:4647'))
    assert result['failed'] is True
    assert 'the leader changed from 10.0.0.12:4647 to 127.0.0.1:4647' in result['msg']
    assert nomad.writes() == [] and not os.path.exists(reset_file(nomad))


def test_not_the_leader_or_wrong_data_dir_is_explained(run_module, nomad, tmp_path):
    result = run_module(acl_bootstrap, args(nomad, data_dir=str(tmp_path / 'elsewhere')))
    assert result['failed'] is True and 'is this the leader, and is data_dir' in result['msg']


def test_new_secret_that_does_not_work_fails(run_module, nomad, monkeypatch):
    original = nomad.route
    monkeypatch.setattr(nomad, 'route', lambda method, path, body, secret: (
        (404, 'ACL token not found') if path == '/v1/acl/token/self' and secret == NEW and
        nomad.reset_files_seen else original(method, path, body, secret)))
    result = run_module(acl_bootstrap, args(nomad))
    assert result['failed'] is True and 'not a working management token after 0 seconds' in result['msg']


@pytest.mark.parametrize('missing, expected', [
    (dict(bootstrap_secret=None), 'bootstrap_secret is required with state=reset'),
    (dict(data_dir=None), 'data_dir is required with state=reset'),
])
def test_required_options(run_module, nomad, missing, expected):
    result = run_module(acl_bootstrap, dict((k, v) for k, v in args(nomad, **missing).items() if v is not None))
    assert result['failed'] is True and expected in result['msg']
    assert nomad.writes() == []


def test_check_mode_says_whether_a_reset_is_needed(run_module, nomad):
    needed = run_module(acl_bootstrap, dict(state='reset', stored_secret=''), check_mode=True)
    assert needed['changed'] is True and needed['reset'] is True
    fine = run_module(acl_bootstrap, dict(state='reset', stored_secret=LOST), check_mode=True)
    assert fine['changed'] is False and fine['accessor_id']
    assert nomad.writes() == [] and nomad.reset_files_seen == []
    run_module(acl_bootstrap, args(nomad))
    pending = run_module(acl_bootstrap, dict(state='reset', stored_secret=LOST, bootstrap_secret=NEW), check_mode=True)
    assert pending['changed'] is True and pending['reset'] is False and 'secret_id' not in pending


def test_acls_disabled_is_explained(run_module, nomad):
    nomad.acl_enabled = False
    result = run_module(acl_bootstrap, args(nomad, stored_secret=LOST))
    assert result['failed'] is True and 'ACLs are disabled' in result['msg']
