# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""release_fetch as the install role calls it: a file:// mirror through Ansible's open_url, hosts grouped by architecture."""

from __future__ import annotations

import shutil

import pytest

from ansible_collections.hardened.nomad.plugins.modules import release_fetch

import release_mirror
from release_mirror import VERSION, Mirror

pytestmark = pytest.mark.skipif(shutil.which('gpg') is None or shutil.which('gpgv') is None,
                                reason='gpg and gpgv are needed')


@pytest.fixture(scope='module')
def signing_key(tmp_path_factory):
    return release_mirror.signing_key(tmp_path_factory.mktemp('key'))


def args(mirror, cache, hosts):
    return dict(base_url=mirror.url, version=VERSION, hosts=hosts, cache_dir=str(cache),
                gpg_key=str(mirror.key))


def test_fetches_each_architecture_once_for_its_hosts_then_changes_nothing(run_module, tmp_path, signing_key):
    mirror = Mirror(tmp_path / 'mirror', signing_key)
    cache = tmp_path / 'cache'
    hosts = {'node1': 'amd64', 'node2': 'arm64', 'node3': 'amd64'}
    result = run_module(release_fetch, args(mirror, cache, hosts))
    assert result['failed'] is False and result['changed'] is True, result
    assert sorted(result['binaries']) == ['amd64', 'arm64']
    for arch in ('amd64', 'arm64'):
        assert (cache / VERSION / ('linux_%s' % arch) / 'nomad').read_bytes() == Mirror.binary(arch)
    assert sum(change.startswith('downloaded nomad_%s_linux_' % VERSION) for change in result['changes']) == 2
    again = run_module(release_fetch, args(mirror, cache, hosts))
    assert again['changed'] is False and again['changes'] == []


def test_a_refusal_fails_the_task_with_its_message(run_module, tmp_path, signing_key):
    mirror = Mirror(tmp_path / 'mirror', signing_key)
    mirror.tamper(Mirror.zip_name('amd64'))
    result = run_module(release_fetch, args(mirror, tmp_path / 'cache', {'node1': 'amd64'}))
    assert result['failed'] is True and result['msg'].startswith('CHECKSUM MISMATCH: file://'), result


def test_an_unreachable_mirror_fails_with_could_not_download(run_module, tmp_path, signing_key):
    mirror = Mirror(tmp_path / 'mirror', signing_key)
    result = run_module(release_fetch, dict(args(mirror, tmp_path / 'cache', {'node1': 'amd64'}),
                                            base_url='http://127.0.0.1:9/nomad', timeout=5))
    assert result['failed'] is True and result['msg'].startswith('Could not download the Nomad %s release' % VERSION)


def test_check_mode_writes_nothing(run_module, tmp_path, signing_key):
    mirror = Mirror(tmp_path / 'mirror', signing_key)
    result = run_module(release_fetch, args(mirror, tmp_path / 'cache', {'node1': 'amd64'}), check_mode=True)
    assert result['changed'] is True and not (tmp_path / 'cache').exists()
