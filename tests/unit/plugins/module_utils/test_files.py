# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.hardened.nomad.plugins.module_utils._files import (
    FileWriteError, missing_directory, read_file_if_exists, write_file_atomic)


def test_writes_with_mode_and_leaves_no_temp_file(tmp_path):
    target = tmp_path / 'secret'
    write_file_atomic(str(target), b'data', 0o640)
    assert target.read_bytes() == b'data'
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640
    assert os.listdir(tmp_path) == ['secret']


def test_a_failed_check_keeps_the_old_file(tmp_path):
    target = tmp_path / 'config'
    target.write_bytes(b'old')
    seen = []

    def refuse(candidate):
        seen.append(open(candidate, 'rb').read())
        raise ValueError('invalid')

    with pytest.raises(ValueError):
        write_file_atomic(str(target), b'new', 0o600, check=refuse)
    assert seen == [b'new']
    assert target.read_bytes() == b'old'
    assert os.listdir(tmp_path) == ['config']


def test_missing_directory_is_named(tmp_path):
    with pytest.raises(FileWriteError, match='does not exist'):
        write_file_atomic(str(tmp_path / 'nowhere' / 'file'), b'x')


def test_read_file_if_exists(tmp_path):
    assert read_file_if_exists(str(tmp_path / 'absent')) is None
    (tmp_path / 'present').write_bytes(b'x')
    assert read_file_if_exists(str(tmp_path / 'present')) == b'x'


def test_missing_directory_names_it_except_in_check_mode(tmp_path):
    assert missing_directory(str(tmp_path / 'file')) is None
    assert missing_directory(str(tmp_path / 'nowhere' / 'file')) == str(tmp_path / 'nowhere')
    # In check mode an earlier task may only have pretended to make it.
    assert missing_directory(str(tmp_path / 'nowhere' / 'file'), check_mode=True) is None
