# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os
import stat

from ansible_collections.hardened.nomad.plugins.modules import text_file


def file_mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def leftovers(directory):
    return [name for name in os.listdir(directory) if name.startswith('.')]


def test_creates_the_file_with_its_mode(run_module, tmp_path):
    path = tmp_path / 'nomad.hcl'
    result = run_module(text_file, dict(path=str(path), content='a = 1\n', mode='0640'))
    assert result['changed'] is True and result['content_changed'] is True
    assert path.read_text() == 'a = 1\n'
    assert file_mode(path) == 0o640
    assert not leftovers(tmp_path)


def test_same_content_and_mode_changes_nothing(run_module, tmp_path):
    path = tmp_path / 'nomad.hcl'
    path.write_text('a = 1\n')
    os.chmod(path, 0o640)
    before = os.stat(path)
    result = run_module(text_file, dict(path=str(path), content='a = 1\n', mode='0640'), diff=True)
    assert result['changed'] is False and result['content_changed'] is False
    assert 'diff' not in result
    assert os.stat(path).st_ino == before.st_ino and os.stat(path).st_mtime_ns == before.st_mtime_ns


def test_only_the_mode_differs(run_module, tmp_path):
    path = tmp_path / 'nomad.hcl'
    path.write_text('a = 1\n')
    os.chmod(path, 0o644)
    result = run_module(text_file, dict(path=str(path), content='a = 1\n', mode='0640'), diff=True)
    assert result['changed'] is True and result['content_changed'] is False
    assert result['diff'] == [{'before': {'path': str(path), 'mode': '0644'}, 'after': {'path': str(path), 'mode': '0640'}}]
    assert file_mode(path) == 0o640


def test_changed_content_is_replaced_with_a_diff(run_module, tmp_path):
    path = tmp_path / 'nomad.hcl'
    path.write_text('a = 1\n')
    os.chmod(path, 0o640)
    result = run_module(text_file, dict(path=str(path), content='a = 2\n', mode='0640'), diff=True)
    assert result['changed'] is True and result['content_changed'] is True
    assert result['diff'] == [{'before_header': str(path), 'after_header': str(path), 'before': 'a = 1\n', 'after': 'a = 2\n'}]
    assert path.read_text() == 'a = 2\n'
    assert file_mode(path) == 0o640


def test_check_mode_reports_and_writes_nothing(run_module, tmp_path):
    path = tmp_path / 'nomad.hcl'
    path.write_text('a = 1\n')
    os.chmod(path, 0o644)
    result = run_module(text_file, dict(path=str(path), content='a = 2\n', mode='0640'), check_mode=True, diff=True)
    assert result['changed'] is True
    assert [d.get('after') for d in result['diff']] == ['a = 2\n', {'path': str(path), 'mode': '0640'}]
    assert path.read_text() == 'a = 1\n' and file_mode(path) == 0o644
    new = tmp_path / 'new.hcl'
    result = run_module(text_file, dict(path=str(new), content='b\n', mode='0600'), check_mode=True, diff=True)
    assert result['changed'] is True and result['diff'][0]['before'] == ''
    assert not new.exists() and not leftovers(tmp_path)


def test_validate_sees_the_candidate_and_accepts(run_module, tmp_path):
    path = tmp_path / 'nomad.hcl'
    path.write_text('old\n')
    # grep -q exits 0 only when the candidate (not the old file) holds the new text.
    result = run_module(text_file, dict(path=str(path), content='new\n', validate='grep -q new %s'))
    assert result['changed'] is True
    assert path.read_text() == 'new\n' and not leftovers(tmp_path)


def test_rejected_content_leaves_the_old_file_and_no_temporary(run_module, tmp_path):
    path = tmp_path / 'nomad.hcl'
    path.write_text('old\n')
    result = run_module(text_file, dict(path=str(path), content='bad\n',
                                        validate="sh -c 'echo broken config >&2; exit 3' validate %s"))
    assert result['failed'] is True
    assert 'was not replaced' in result['msg'] and 'rc=3' in result['msg'] and 'broken config' in result['msg']
    assert path.read_text() == 'old\n' and not leftovers(tmp_path)


def test_validate_without_placeholder_is_refused_before_writing(run_module, tmp_path):
    path = tmp_path / 'nomad.hcl'
    result = run_module(text_file, dict(path=str(path), content='x\n', validate='true'))
    assert result['failed'] is True and 'must contain %s' in result['msg']
    assert not path.exists()


def test_missing_directory_is_a_clear_error(run_module, tmp_path):
    result = run_module(text_file, dict(path=str(tmp_path / 'nope' / 'f'), content='x\n'))
    assert result['failed'] is True and 'does not exist: create it first' in result['msg']


def test_check_mode_on_a_fresh_host_reports_a_new_file(run_module, tmp_path):
    # --check on a new host: the task that creates the directory only pretended to.
    result = run_module(text_file, dict(path=str(tmp_path / 'nope' / 'f'), content='x\n'), check_mode=True, diff=True)
    assert result['failed'] is False and result['changed'] is True
    assert result['diff'][0]['before'] == '' and not (tmp_path / 'nope').exists()


def test_content_is_returned_only_in_the_diff(module_process, tmp_path):
    # A real module process. The content is in no return value but the diff (and the invocation
    # Ansible adds, which a task's no_log: true censors on the controller, as for gossip.hcl).
    path = tmp_path / 'gossip.hcl'
    secret = 'server { encrypt = "c2VjcmV0LWtleS1zZWNyZXQta2V5LXNlY3JldC1rZXk=" }\n'
    result = module_process('text_file', dict(path=str(path), content=secret, mode='0640'))
    assert result['changed'] is True
    result.pop('invocation')
    assert 'c2VjcmV0' not in repr(result)
    assert path.read_text() == secret
