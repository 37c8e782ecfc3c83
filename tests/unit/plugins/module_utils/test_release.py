# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The release fetch and its verification, against a fake mirror signed with a throwaway key (the controller's real gpg)."""

from __future__ import annotations

import hashlib
import os
import pathlib
import shutil
import stat
import zipfile

import pytest
import release_mirror
from release_mirror import VERSION, Mirror

from ansible_collections.hardened.nomad.plugins.module_utils import _release
from ansible_collections.hardened.nomad.plugins.module_utils._release import ReleaseError, ReleaseFetch

pytestmark = pytest.mark.skipif(shutil.which('gpg') is None or shutil.which('gpgv') is None,
                                reason='gpg and gpgv are needed')

REPO = pathlib.Path(__file__).resolve().parents[4]
HASHICORP_KEY = REPO / 'roles' / 'install' / 'files' / 'hashicorp-release.asc'


@pytest.fixture(scope='module')
def signing_key(tmp_path_factory):
    return release_mirror.signing_key(tmp_path_factory.mktemp('key'))


@pytest.fixture
def mirror(tmp_path, signing_key):
    return Mirror(tmp_path / 'mirror', signing_key)


def fetch(mirror, cache, hosts=None, key=None, check_mode=False):
    hosts = hosts or {'amd64': ['node1'], 'arm64': ['node2']}
    return ReleaseFetch(mirror.url + '/', VERSION, hosts, str(cache), str(key or mirror.key),
                        mirror.download, check_mode=check_mode)


def count_signature_checks(monkeypatch):
    """A list that gets an item for every signature check from now on."""
    verified = []
    real = _release.verify_signature
    monkeypatch.setattr(_release, 'verify_signature', lambda *args, **kw: verified.append(1) or real(*args, **kw))
    return verified


def cache_files(cache):
    return sorted(str(path.relative_to(cache)) for path in cache.rglob('*') if path.is_file())


# ---------------------------------------------------------------------------------------- SHA256SUMS


def test_sums_are_parsed_as_sha256sum_writes_them():
    digest = 'a' * 64
    text = '%s  nomad_1.6.3_linux_amd64.zip\n%s *nomad_1.6.3_linux_arm64.zip\nnot a line\n%s\n' % (digest, digest, digest)
    assert _release.parse_sums(text) == {'nomad_1.6.3_linux_amd64.zip': digest, 'nomad_1.6.3_linux_arm64.zip': digest}


def test_a_short_or_uppercase_digest_is_no_entry():
    assert _release.parse_sums('%s  a.zip\n%s  b.zip\n' % ('a' * 63, 'A' * 64)) == {}


# ---------------------------------------------------------------------------------------- good releases


def test_each_architecture_is_fetched_verified_and_unpacked_once(mirror, tmp_path):
    cache = tmp_path / 'cache'
    run = fetch(mirror, cache, {'amd64': ['node1', 'node3'], 'arm64': ['node2']})
    binaries = run.run()
    for arch in ('amd64', 'arm64'):
        path = cache / VERSION / ('linux_%s' % arch) / 'nomad'
        assert path.read_bytes() == Mirror.binary(arch)
        assert stat.S_IMODE(path.stat().st_mode) == 0o755
        assert binaries[arch] == {'binary': str(path), 'sha256': hashlib.sha256(Mirror.binary(arch)).hexdigest()}
    assert sorted(mirror.downloads) == sorted(['nomad_1.6.3_SHA256SUMS', 'nomad_1.6.3_SHA256SUMS.sig',
                                               Mirror.zip_name('amd64'), Mirror.zip_name('arm64')])
    assert stat.S_IMODE((cache / VERSION).stat().st_mode) == 0o700
    assert stat.S_IMODE((cache / VERSION / Mirror.zip_name('amd64')).stat().st_mode) == 0o600
    assert run.changes


def test_a_second_run_downloads_nothing_and_changes_nothing_but_verifies_again(mirror, tmp_path, monkeypatch):
    cache = tmp_path / 'cache'
    fetch(mirror, cache).run()
    mirror.downloads.clear()
    verified = count_signature_checks(monkeypatch)
    again = fetch(mirror, cache)
    again.run()
    assert mirror.downloads == [] and again.changes == [] and verified == [1]


def test_only_the_architectures_of_the_play_are_fetched(mirror, tmp_path):
    cache = tmp_path / 'cache'
    fetch(mirror, cache, {'arm64': ['node2']}).run()
    assert [name for name in cache_files(cache) if name.endswith('.zip')] == ['1.6.3/' + Mirror.zip_name('arm64')]


def test_a_cached_zip_that_no_longer_matches_is_fetched_again(mirror, tmp_path):
    cache = tmp_path / 'cache'
    fetch(mirror, cache).run()
    (cache / VERSION / Mirror.zip_name('amd64')).write_bytes(b'corrupted')
    mirror.downloads.clear()
    fetch(mirror, cache).run()
    assert mirror.downloads == [Mirror.zip_name('amd64')]
    assert hashlib.sha256((cache / VERSION / Mirror.zip_name('amd64')).read_bytes()).hexdigest() == \
        _release.parse_sums(mirror.sums.read_text())[Mirror.zip_name('amd64')]


def test_a_changed_unpacked_binary_is_written_again(mirror, tmp_path):
    cache = tmp_path / 'cache'
    fetch(mirror, cache).run()
    binary = cache / VERSION / 'linux_amd64' / 'nomad'
    binary.write_bytes(b'not nomad')
    again = fetch(mirror, cache)
    again.run()
    assert binary.read_bytes() == Mirror.binary('amd64') and again.changes == ['unpacked %s' % binary]


def test_check_mode_reports_a_changed_cached_zip_as_a_download_and_fetches_nothing(mirror, tmp_path):
    cache = tmp_path / 'cache'
    fetch(mirror, cache).run()
    (cache / VERSION / Mirror.zip_name('amd64')).write_bytes(b'corrupted')
    mirror.downloads.clear()
    run = fetch(mirror, cache, check_mode=True)
    binaries = run.run()
    assert mirror.downloads == [] and sorted(binaries) == ['arm64']
    assert run.changes == ['would download %s' % Mirror.zip_name('amd64')]
    assert (cache / VERSION / Mirror.zip_name('amd64')).read_bytes() == b'corrupted'  # nothing written


def test_the_cache_directories_get_0700_again(mirror, tmp_path):
    cache = tmp_path / 'cache'
    fetch(mirror, cache).run()
    (cache / VERSION / 'linux_amd64').chmod(0o755)
    again = fetch(mirror, cache)
    again.run()
    assert stat.S_IMODE((cache / VERSION / 'linux_amd64').stat().st_mode) == 0o700
    assert again.changes == ['mode 0700 on %s' % (cache / VERSION / 'linux_amd64')]


def test_check_mode_predicts_fetching_again_cached_sums_that_fail_the_signature_and_removes_nothing(mirror, tmp_path):
    cache = tmp_path / 'cache'
    fetch(mirror, cache).run()
    mirror.downloads.clear()
    (cache / VERSION / 'nomad_1.6.3_SHA256SUMS').write_text('0' * 64 + '  evil.zip\n')
    run = fetch(mirror, cache, check_mode=True)
    assert run.run() == {}
    assert 'would download nomad_1.6.3_SHA256SUMS' in run.changes and mirror.downloads == []
    assert (cache / VERSION / 'nomad_1.6.3_SHA256SUMS').read_text().endswith('evil.zip\n')


def test_check_mode_on_an_empty_cache_downloads_and_writes_nothing(mirror, tmp_path):
    cache = tmp_path / 'cache'
    run = fetch(mirror, cache, check_mode=True)
    assert run.run() == {}
    assert not cache.exists() and mirror.downloads == []
    assert 'would download nomad_1.6.3_SHA256SUMS' in run.changes


def test_check_mode_verifies_a_full_cache_as_a_real_run_does(mirror, tmp_path, monkeypatch):
    cache = tmp_path / 'cache'
    fetch(mirror, cache).run()
    mirror.downloads.clear()
    verified = count_signature_checks(monkeypatch)
    run = fetch(mirror, cache, check_mode=True)
    binaries = run.run()
    assert verified == [1] and mirror.downloads == [] and run.changes == []
    assert binaries['amd64']['sha256'] == hashlib.sha256(Mirror.binary('amd64')).hexdigest()


# ---------------------------------------------------------------------------------------- refusals


def test_a_tampered_zip_is_refused_and_not_kept(mirror, tmp_path):
    mirror.tamper(Mirror.zip_name('arm64'))
    cache = tmp_path / 'cache'
    with pytest.raises(ReleaseError) as error:
        fetch(mirror, cache).run()
    message = str(error.value)
    assert message.startswith('CHECKSUM MISMATCH: %s/1.6.3/%s does not match the SHA-256 in '
                              'the signed nomad_1.6.3_SHA256SUMS' % (mirror.url, Mirror.zip_name('arm64')))
    assert message.endswith('The file was discarded and nothing was installed on any node.')
    assert not (cache / VERSION / Mirror.zip_name('arm64')).exists()
    assert not (cache / VERSION / 'linux_arm64' / 'nomad').exists()


def test_tampered_sums_are_refused_naming_the_trusted_key_and_removed(mirror, tmp_path):
    mirror.sums.write_text(mirror.sums.read_text().replace('a', 'b', 1) + '\n')
    cache = tmp_path / 'cache'
    with pytest.raises(ReleaseError) as error:
        fetch(mirror, cache).run()
    message = str(error.value)
    assert message.startswith('BAD SIGNATURE: nomad_1.6.3_SHA256SUMS from %s/1.6.3 is not '
                              'signed by the key in nomad_release_gpg_key (%s, fingerprint %s). gpgv said: '
                              % (mirror.url, mirror.key, mirror.fingerprint)), message
    assert message.endswith('The unverified files were removed and nothing was installed on any node.')
    assert cache_files(cache) == []
    assert [name for name in mirror.downloads if name.endswith('.zip')] == []  # no zip before the signature


def test_cached_sums_that_fail_the_signature_are_fetched_again(mirror, tmp_path):
    cache = tmp_path / 'cache'
    fetch(mirror, cache).run()
    (cache / VERSION / 'nomad_1.6.3_SHA256SUMS').write_text('0' * 64 + '  evil.zip\n')
    mirror.downloads.clear()
    binaries = fetch(mirror, cache).run()
    assert binaries['amd64']['sha256'] == hashlib.sha256(Mirror.binary('amd64')).hexdigest()
    assert sorted(mirror.downloads) == ['nomad_1.6.3_SHA256SUMS', 'nomad_1.6.3_SHA256SUMS.sig']
    assert (cache / VERSION / 'nomad_1.6.3_SHA256SUMS').read_bytes() == mirror.sums.read_bytes()


def test_a_cache_written_under_another_key_is_fetched_again(tmp_path, tmp_path_factory, signing_key):
    """Two checkouts, each with its own throwaway mirror key, sharing one cache directory."""
    cache = tmp_path / 'cache'
    other = Mirror(tmp_path / 'other-mirror', release_mirror.signing_key(tmp_path_factory.mktemp('other-key')))
    fetch(other, cache).run()
    ours = Mirror(tmp_path / 'mirror', signing_key)
    assert fetch(ours, cache).run()['amd64']['sha256'] == hashlib.sha256(Mirror.binary('amd64')).hexdigest()
    assert 'nomad_1.6.3_SHA256SUMS.sig' in ours.downloads


def test_bad_cached_sums_and_a_bad_mirror_are_refused_and_removed(mirror, tmp_path):
    cache = tmp_path / 'cache'
    fetch(mirror, cache).run()
    (cache / VERSION / 'nomad_1.6.3_SHA256SUMS').write_text('0' * 64 + '  evil.zip\n')
    mirror.sums.write_text(mirror.sums.read_text().replace('a', 'b', 1) + '\n')
    with pytest.raises(ReleaseError, match='^BAD SIGNATURE'):
        fetch(mirror, cache).run()
    assert not (cache / VERSION / 'nomad_1.6.3_SHA256SUMS').exists()
    assert not (cache / VERSION / 'nomad_1.6.3_SHA256SUMS.sig').exists()


def test_a_release_signed_by_another_key_is_refused_naming_the_trusted_one(mirror, tmp_path):
    with pytest.raises(ReleaseError) as error:
        fetch(mirror, tmp_path / 'cache', key=HASHICORP_KEY).run()
    assert 'BAD SIGNATURE' in str(error.value) and 'fingerprint C874011F0AB405110D02105534365D9472D7468F' in str(error.value)


def test_an_architecture_the_signed_sums_do_not_list_fails_before_any_zip_naming_its_hosts(tmp_path, signing_key):
    mirror = Mirror(tmp_path / 'mirror', signing_key, listed=['amd64'])
    cache = tmp_path / 'cache'
    with pytest.raises(ReleaseError) as error:
        fetch(mirror, cache, {'amd64': ['node1'], 'arm64': ['node2', 'node4']}).run()
    assert str(error.value) == ('The signed nomad_1.6.3_SHA256SUMS has no entry for %s, needed by node2, node4 '
                                '(nomad_architecture): check nomad_version and nomad_architecture. Nothing was '
                                'installed on any node.' % Mirror.zip_name('arm64'))
    assert not [name for name in mirror.downloads if name.endswith('.zip')]


def test_an_unreachable_mirror_says_where_and_why(mirror, tmp_path):
    def unreachable(url):
        raise OSError('<urlopen error [Errno 111] Connection refused>')
    run = ReleaseFetch('http://127.0.0.1:9/nomad', VERSION, {'amd64': ['node1']}, str(tmp_path / 'cache'),
                       str(mirror.key), unreachable)
    with pytest.raises(ReleaseError) as error:
        run.run()
    assert str(error.value).startswith('Could not download the Nomad 1.6.3 release from '
                                       'http://127.0.0.1:9/nomad/1.6.3/nomad_1.6.3_SHA256SUMS (nomad_release_base_url): '
                                       '<urlopen error [Errno 111] Connection refused>.')


def test_a_missing_zip_is_a_download_failure(mirror, tmp_path):
    os.unlink(mirror.release / Mirror.zip_name('amd64'))
    with pytest.raises(ReleaseError, match='^Could not download .*linux_amd64.zip.*404'):
        fetch(mirror, tmp_path / 'cache').run()


def test_a_signed_zip_without_a_nomad_binary_is_refused(tmp_path, signing_key):
    mirror = Mirror(tmp_path / 'mirror', signing_key, architectures=('amd64',))
    with zipfile.ZipFile(mirror.release / Mirror.zip_name('amd64'), 'w') as archive:
        archive.writestr('README', 'no binary')
    digest = hashlib.sha256((mirror.release / Mirror.zip_name('amd64')).read_bytes()).hexdigest()
    mirror.sums.write_text('%s  %s\n' % (digest, Mirror.zip_name('amd64')))
    mirror.sign()
    with pytest.raises(ReleaseError, match='holds no nomad binary'):
        fetch(mirror, tmp_path / 'cache', {'amd64': ['node1']}).run()
