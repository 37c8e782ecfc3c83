# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import base64
import json
import os
import stat

import pytest

from ansible_collections.hardened.nomad.plugins.modules import gossip_key

KEY_32 = base64.b64encode(bytes(range(32))).decode()
OTHER_32 = base64.b64encode(b'\xfb' * 32).decode()  # "+/v7...": uses both + and /


def file_mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_generates_a_32_byte_standard_base64_key_and_keeps_it(run_module, tmp_path):
    path = tmp_path / 'gossip.key'
    result = run_module(gossip_key, dict(path=str(path), return_key=True))
    assert result['changed'] is True and result['created'] is True
    key = result['key']
    assert len(key) == 44 and key.endswith('=')
    assert len(base64.b64decode(key, validate=True)) == 32
    assert result['key_bytes'] == 32
    assert path.read_text() == key + '\n'
    assert file_mode(path) == 0o600


def test_rerun_reuses_the_stored_key_unchanged(run_module, tmp_path):
    path = tmp_path / 'gossip.key'
    first = run_module(gossip_key, dict(path=str(path), return_key=True))
    second = run_module(gossip_key, dict(path=str(path), return_key=True))
    assert second['changed'] is False and second['created'] is False
    assert second['key'] == first['key']


def test_key_is_not_returned_by_default(run_module, tmp_path):
    result = run_module(gossip_key, dict(path=str(tmp_path / 'k')))
    assert 'key' not in result
    assert result['changed'] is True


def test_given_key_is_stored(run_module, tmp_path):
    path = tmp_path / 'gossip.key'
    result = run_module(gossip_key, dict(path=str(path), key=OTHER_32))
    assert result['changed'] is True
    assert path.read_text().strip() == OTHER_32


def test_given_key_equal_to_stored_is_unchanged(run_module, tmp_path):
    path = tmp_path / 'gossip.key'
    path.write_text(OTHER_32 + '\n')
    os.chmod(path, 0o600)
    result = run_module(gossip_key, dict(path=str(path), key=OTHER_32))
    assert result['changed'] is False


def test_different_given_key_is_refused_without_force_and_not_echoed(run_module, tmp_path):
    path = tmp_path / 'gossip.key'
    path.write_text(KEY_32 + '\n')
    os.chmod(path, 0o600)
    result = run_module(gossip_key, dict(path=str(path), key=OTHER_32))
    assert result['failed'] is True
    assert 'refusing to replace the cluster key' in result['msg'] and 'force' in result['msg']
    assert OTHER_32 not in result['msg'] and KEY_32 not in result['msg']
    assert path.read_text().strip() == KEY_32


def test_force_replaces_the_stored_key(run_module, tmp_path):
    path = tmp_path / 'gossip.key'
    path.write_text(KEY_32 + '\n')
    result = run_module(gossip_key, dict(path=str(path), key=OTHER_32, force=True))
    assert result['changed'] is True
    assert path.read_text().strip() == OTHER_32
    assert file_mode(path) == 0o600


def test_loose_mode_of_existing_file_is_fixed(run_module, tmp_path):
    path = tmp_path / 'gossip.key'
    path.write_text(KEY_32 + '\n')
    os.chmod(path, 0o644)
    result = run_module(gossip_key, dict(path=str(path)))
    assert result['changed'] is True
    assert file_mode(path) == 0o600


@pytest.mark.parametrize('key_bytes', [16, 24, 32])
def test_accepts_16_24_32_byte_keys(run_module, key_bytes):
    key = base64.b64encode(os.urandom(key_bytes)).decode()
    result = run_module(gossip_key, dict(key=key, return_key=True))
    assert result['failed'] is False and result['changed'] is False
    assert result['key_bytes'] == key_bytes and result['key'] == key


@pytest.mark.parametrize('bad_key, expected', [
    # URL-safe alphabet ("-" and "_") is what a careless generator makes; Nomad refuses it.
    (base64.urlsafe_b64encode(b'\xfb' * 32).decode(), 'not valid standard base64'),
    (OTHER_32.rstrip('='), 'not valid standard base64'),          # missing padding
    (' ' + OTHER_32, 'not valid standard base64'),                 # whitespace
    (OTHER_32[:-2] + 'R=', 'not canonical'),                       # non-zero trailing bits
    (base64.b64encode(b'x' * 31).decode(), 'decodes to 31 bytes'),
    (base64.b64encode(b'x' * 8).decode(), 'decodes to 8 bytes'),
    ('not base64 at all!', 'not valid standard base64'),
])
def test_bad_keys_fail_clearly_without_echoing(run_module, tmp_path, bad_key, expected):
    result = run_module(gossip_key, dict(key=bad_key, path=str(tmp_path / 'k')))
    assert result['failed'] is True
    assert expected in result['msg']
    assert bad_key.strip() not in result['msg']
    assert not (tmp_path / 'k').exists()


def test_corrupt_stored_key_fails_naming_the_file(run_module, tmp_path):
    path = tmp_path / 'gossip.key'
    path.write_text('c2hvcnQ=\n')  # 5 bytes
    result = run_module(gossip_key, dict(path=str(path)))
    assert result['failed'] is True
    assert str(path) in result['msg'] and 'decodes to 5 bytes' in result['msg']
    assert 'c2hvcnQ' not in result['msg']


def test_missing_parent_directory_fails(run_module, tmp_path):
    path = tmp_path / 'nope' / 'gossip.key'
    result = run_module(gossip_key, dict(path=str(path)))
    assert result['failed'] is True and 'does not exist' in result['msg']


def test_path_that_is_a_directory_fails(run_module, tmp_path):
    result = run_module(gossip_key, dict(path=str(tmp_path)))
    assert result['failed'] is True and 'is a directory' in result['msg']


def test_check_mode_predicts_creation_without_writing(run_module, tmp_path):
    path = tmp_path / 'gossip.key'
    result = run_module(gossip_key, dict(path=str(path)), check_mode=True)
    assert result['changed'] is True
    assert not path.exists()


def test_check_mode_predicts_creation_in_a_directory_not_made_yet(run_module, tmp_path):
    # Check mode on a new controller: the secrets directory is only predicted too.
    path = tmp_path / 'secrets' / 'gossip.key'
    result = run_module(gossip_key, dict(path=str(path)), check_mode=True)
    assert result['failed'] is False and result['changed'] is True
    assert os.listdir(tmp_path) == []


def test_check_mode_predicts_forced_replacement_without_writing(run_module, tmp_path):
    path = tmp_path / 'gossip.key'
    path.write_text(KEY_32 + '\n')
    os.chmod(path, 0o600)
    result = run_module(gossip_key, dict(path=str(path), key=OTHER_32, force=True), check_mode=True)
    assert result['changed'] is True
    assert path.read_text().strip() == KEY_32


def test_without_path_generation_changes_nothing(run_module):
    result = run_module(gossip_key, dict(return_key=True))
    assert result['changed'] is False
    assert len(base64.b64decode(result['key'], validate=True)) == 32


def test_real_module_run_masks_a_given_key(module_process, tmp_path):
    # Through AnsibleModule's real exit_json: the key option is no_log, so Ansible masks it.
    result = module_process('gossip_key', dict(key=OTHER_32, return_key=True))
    assert result['key'] == 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'
    assert OTHER_32 not in json.dumps(result)


# -- state=next: the key a rotation rolls out ----------------------------------------------------

KEY_16 = base64.b64encode(bytes(range(100, 116))).decode()
ALL = (KEY_32, OTHER_32, KEY_16)


def store(path, key):
    path.write_text(key + '\n')
    os.chmod(path, 0o600)


@pytest.fixture
def files(tmp_path):
    """The cluster key file (KEY_32) and the path of its .next file."""
    current = tmp_path / 'gossip.key'
    store(current, KEY_32)
    return current, tmp_path / 'gossip.key.next'


def no_key_in(result):
    """Apart from the key asked for with return_key, no result carries a key."""
    text = json.dumps(dict((name, value) for name, value in result.items() if name != 'key'))
    for key in ALL:
        assert key not in text, text
    return result


def next_key(run_module, check_mode=False, **args):
    args.setdefault('return_key', True)
    return no_key_in(run_module(gossip_key, dict(args, state='next'), check_mode=check_mode))


def fp(key):
    return gossip_key.fingerprint(key)


def test_next_resumes_the_key_of_an_interrupted_run(run_module, files):
    current, pending = files
    store(pending, OTHER_32)
    result = next_key(run_module, path=str(current), rotate=True)  # no second new key
    assert result['failed'] is False and result['changed'] is False
    assert result['rotate'] is True and result['source'] == 'pending'
    assert result['key'] == OTHER_32 and result['fingerprint'] == fp(OTHER_32)
    assert result['current_fingerprint'] == fp(KEY_32) and result['next_path'] == str(pending)
    assert pending.read_text() == OTHER_32 + '\n' and current.read_text() == KEY_32 + '\n'


def test_next_resumes_even_without_a_request(run_module, files):
    current, pending = files
    store(pending, OTHER_32)
    result = next_key(run_module, path=str(current))
    assert result['source'] == 'pending' and result['key'] == OTHER_32


def test_next_refuses_a_given_key_other_than_the_pending_one(run_module, files):
    current, pending = files
    store(pending, OTHER_32)
    result = next_key(run_module, path=str(current), new_key=KEY_16)
    assert result['failed'] is True
    assert result['msg'].startswith('the key file of an interrupted rotation holds key %s, but new_key is key %s'
                                    % (fp(OTHER_32), fp(KEY_16)))
    assert 'Run once without new_key' in result['msg']
    assert pending.read_text() == OTHER_32 + '\n'


def test_next_given_equal_to_pending_resumes(run_module, files):
    current, pending = files
    store(pending, OTHER_32)
    assert next_key(run_module, path=str(current), new_key=OTHER_32)['source'] == 'pending'


def test_next_keeps_a_given_key_in_the_next_file_first(run_module, files):
    current, pending = files
    result = next_key(run_module, path=str(current), new_key=OTHER_32)
    assert result['changed'] is True and result['created'] is True
    assert result['source'] == 'given' and result['key'] == OTHER_32 and result['fingerprint'] == fp(OTHER_32)
    assert pending.read_text() == OTHER_32 + '\n' and file_mode(pending) == 0o600
    assert current.read_text() == KEY_32 + '\n'


def test_next_makes_a_new_key_and_keeps_it_first(run_module, files):
    current, pending = files
    result = next_key(run_module, path=str(current), rotate=True)
    assert result['changed'] is True and result['source'] == 'new' and result['rotate'] is True
    assert result['key'] not in (KEY_32,) and len(base64.b64decode(result['key'], validate=True)) == 32
    assert pending.read_text() == result['key'] + '\n' and file_mode(pending) == 0o600
    assert result['fingerprint'] == fp(result['key']) and result['key_bytes'] == 32
    # Run again (the rotation was interrupted): the same key, no other one.
    again = next_key(run_module, path=str(current), rotate=True)
    assert again['source'] == 'pending' and again['key'] == result['key'] and again['changed'] is False


@pytest.mark.parametrize('args', [dict(), dict(rotate=False), dict(new_key=KEY_32), dict(new_key='')])
def test_next_without_a_key_to_roll_out_changes_nothing(run_module, files, args):
    current, pending = files
    result = next_key(run_module, path=str(current), **args)
    assert result['failed'] is False and result['changed'] is False
    assert result['rotate'] is False and result['source'] is None and 'next_path' not in result
    assert result['key'] == KEY_32 and result['fingerprint'] == result['current_fingerprint'] == fp(KEY_32)
    assert not pending.exists()


@pytest.mark.parametrize('args', [dict(rotate=True), dict(new_key=OTHER_32)])
def test_next_refuses_to_leave_a_server_out_before_any_change(run_module, files, args):
    current, pending = files
    result = next_key(run_module, path=str(current), left_out=['server-2', 'server-3'], **args)
    assert result['failed'] is True
    assert result['msg'].startswith('The gossip key is rotated on the whole cluster, but server-2, server-3 are not '
                                    'in this run')
    assert 'Nothing was changed' in result['msg']
    assert not pending.exists() and current.read_text() == KEY_32 + '\n'


def test_next_refuses_to_leave_a_server_out_of_a_resumed_rotation(run_module, files):
    current, pending = files
    store(pending, OTHER_32)
    result = next_key(run_module, path=str(current), left_out=['server-2'])
    assert result['failed'] is True and 'server-2 are not in this run' in result['msg']


def test_next_without_a_rotation_allows_servers_left_out(run_module, files):
    current, _pending = files
    result = next_key(run_module, path=str(current), left_out=['server-2'])
    assert result['failed'] is False and result['rotate'] is False


def test_next_check_mode_predicts_without_writing(run_module, files):
    current, pending = files
    result = next_key(run_module, check_mode=True, path=str(current), rotate=True)
    assert result['changed'] is True and result['source'] == 'new'
    assert not pending.exists()


def test_next_without_a_current_key_fails(run_module, tmp_path):
    result = next_key(run_module, path=str(tmp_path / 'gossip.key'), rotate=True)
    assert result['failed'] is True
    assert result['msg'].startswith('No current gossip key: %s is missing' % (tmp_path / 'gossip.key'))
    assert 'playbooks/site.yml' in result['msg']
    assert not (tmp_path / 'gossip.key.next').exists()


def test_next_with_an_invalid_new_key_fails_naming_it(run_module, files):
    current, pending = files
    bad = OTHER_32.replace('+', '-')
    result = next_key(run_module, path=str(current), new_key=bad)
    assert result['failed'] is True and result['msg'].startswith('new_key is not valid standard base64')
    assert bad not in result['msg'] and not pending.exists()


def test_next_with_a_corrupt_pending_key_fails_naming_the_file(run_module, files):
    current, pending = files
    pending.write_text('c2hvcnQ=\n')
    result = next_key(run_module, path=str(current))
    assert result['failed'] is True and str(pending) in result['msg'] and 'decodes to 5 bytes' in result['msg']


def test_next_with_the_current_key_given_writes_no_file(run_module, files):
    # A key from a vault: the files are not read (a stale .next is ignored) and nothing is written.
    current, pending = files
    store(pending, KEY_16)
    result = next_key(run_module, path=str(current), key=OTHER_32, new_key=KEY_32)
    assert result['failed'] is False and result['changed'] is False
    assert result['source'] == 'given' and result['key'] == KEY_32
    assert result['current_fingerprint'] == fp(OTHER_32) and 'next_path' not in result and 'path' not in result
    assert pending.read_text() == KEY_16 + '\n'


def test_next_with_the_current_key_given_refuses_to_make_a_key(run_module, files):
    current, _pending = files
    result = next_key(run_module, path=str(current), key=OTHER_32, rotate=True)
    assert result['failed'] is True
    assert result['msg'].startswith('rotate=true but the current key was given as key (a key from your vault)')
    assert 'new_key' in result['msg'] and 'nomad operator gossip keyring generate' in result['msg']


def test_next_with_the_current_key_given_and_no_request_uses_it(run_module):
    result = next_key(run_module, key=OTHER_32)
    assert result['rotate'] is False and result['key'] == OTHER_32


def test_next_needs_a_current_key(run_module):
    result = next_key(run_module, rotate=True)
    assert result['failed'] is True and 'give path' in result['msg']


def test_next_in_a_real_process_returns_the_given_key_and_masks_the_invocation(module_process, tmp_path):
    store(tmp_path / 'gossip.key', KEY_32)
    result = module_process('gossip_key', dict(state='next', path=str(tmp_path / 'gossip.key'), new_key=OTHER_32,
                                               return_key=True))
    assert not result.get('failed'), result
    assert result['key'] == OTHER_32  # returned on purpose: the task uses no_log
    assert result['invocation']['module_args']['new_key'] == 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'
    vault = module_process('gossip_key', dict(state='next', key=KEY_32, return_key=False))
    assert KEY_32 not in json.dumps(vault) and vault['fingerprint'] == fp(KEY_32)


# -- state=finished ------------------------------------------------------------------------------

def test_finished_makes_the_next_key_the_cluster_key(run_module, files):
    current, pending = files
    store(pending, OTHER_32)
    result = no_key_in(run_module(gossip_key, dict(state='finished', path=str(current), key=OTHER_32)))
    assert result['changed'] is True and result['fingerprint'] == fp(OTHER_32)
    assert current.read_text() == OTHER_32 + '\n' and file_mode(current) == 0o600
    assert not pending.exists()
    again = run_module(gossip_key, dict(state='finished', path=str(current), key=OTHER_32))
    assert again['changed'] is False and again['failed'] is False


def test_finished_refuses_a_key_that_was_not_rolled_out(run_module, files):
    current, pending = files
    store(pending, OTHER_32)
    result = no_key_in(run_module(gossip_key, dict(state='finished', path=str(current), key=KEY_16)))
    assert result['failed'] is True and 'refusing to keep a key that was not rolled out' in result['msg']
    assert pending.exists() and current.read_text() == KEY_32 + '\n'


def test_finished_check_mode_changes_nothing(run_module, files):
    current, pending = files
    store(pending, OTHER_32)
    result = run_module(gossip_key, dict(state='finished', path=str(current)), check_mode=True)
    assert result['changed'] is True
    assert pending.exists() and current.read_text() == KEY_32 + '\n'


def test_finished_without_a_next_file_changes_nothing(run_module, files):
    current, _pending = files
    result = run_module(gossip_key, dict(state='finished', path=str(current)))
    assert result['changed'] is False and current.read_text() == KEY_32 + '\n'
