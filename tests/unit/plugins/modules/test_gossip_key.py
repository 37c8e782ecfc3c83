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
