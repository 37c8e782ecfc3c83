# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The release key check, with the controller's real gpg."""

from __future__ import annotations

import os
import pathlib
import shutil

import pytest

from ansible_collections.hardened.nomad.plugins.module_utils import _release_key

REPO = pathlib.Path(__file__).resolve().parents[4]
HASHICORP_KEY = REPO / 'roles' / 'install' / 'files' / 'hashicorp-release.asc'
needs_gpg = pytest.mark.skipif(shutil.which('gpg') is None, reason='gpg is not installed')

COLONS = """pub:-:4096:1:34365D9472D7468F:1614000000:::-:::scESC::::::23::0:
fpr:::::::::C874011F0AB405110D02105534365D9472D7468F:
uid:-::::1614000000::AAAA::HashiCorp Security (hashicorp.com/security) <security@hashicorp.com>::::::::::0:
sub:-:4096:1:706E668369C085E9:1614000000::::::s::::::23:
fpr:::::::::B36CBA91A2C0730C435FC280706E668369C085E9:
"""


def test_the_primary_fingerprints_are_read_and_subkeys_skipped():
    assert _release_key.parse_colons(COLONS) == (['C874011F0AB405110D02105534365D9472D7468F'], False)


def test_a_secret_key_is_noticed():
    assert _release_key.parse_colons(COLONS.replace('pub:', 'sec:', 1))[1] is True


@needs_gpg
def test_the_shipped_hashicorp_key_is_a_public_key():
    result = _release_key.inspect(str(HASHICORP_KEY))
    assert result['problems'] == [] and 'C874011F0AB405110D02105534365D9472D7468F' in result['fingerprints']


@needs_gpg
def test_a_text_file_is_not_a_key(tmp_path):
    path = tmp_path / 'key.asc'
    path.write_text('not a key\n')
    [problem] = _release_key.inspect(str(path))['problems']
    assert problem.startswith('nomad_release_gpg_key (%s) is not an OpenPGP public key (gpg said: ' % path)


def test_a_missing_or_unreadable_file_or_an_empty_path(tmp_path):
    assert 'is not a file on the controller' in _release_key.inspect(str(tmp_path / 'none'))['problems'][0]
    assert 'is empty' in _release_key.inspect('')['problems'][0]
    if os.geteuid() != 0:  # root reads anything
        path = tmp_path / 'key.asc'
        path.write_text('x')
        path.chmod(0)
        assert 'cannot be read' in _release_key.inspect(str(path))['problems'][0]


def test_no_gpg_on_the_controller(tmp_path):
    path = tmp_path / 'key.asc'
    path.write_text('x')
    assert 'has no gpg-missing' in _release_key.inspect(str(path), gpg='gpg-missing')['problems'][0]
