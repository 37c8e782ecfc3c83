# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fetching and verifying a Nomad release on the controller. Private to the collection.

The order is the security argument: the signature of SHA256SUMS (gpgv, with only the trusted
key in a throwaway keyring) -> the SHA-256 of each zip against the signed list -> only then the
binary is unpacked. ``ReleaseFetch.run()`` does it all for the architectures a play needs,
reusing what an earlier run verified in the cache; every refusal is a ``ReleaseError`` whose
message says what was wrong and that nothing was installed.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import subprocess
import tempfile
import zipfile

from ansible_collections.hardened.nomad.plugins.module_utils import _release_key
from ansible_collections.hardened.nomad.plugins.module_utils._files import read_file_if_exists, write_file_atomic

NOTHING_INSTALLED = 'nothing was installed on any node'
SUMS_LINE = re.compile(r'^([0-9a-f]{64})\s+\*?(\S+)$')


class ReleaseError(Exception):
    """The release was refused or could not be had; the message says why and what to do."""


class NotCached(Exception):
    """Check mode downloads nothing: the file is not in the cache (or no longer matches), a real run would fetch it."""


def parse_sums(text):
    """{file name: SHA-256} of a SHA256SUMS text; lines of another shape are ignored."""
    sums = {}
    for line in text.splitlines():
        match = SUMS_LINE.match(line.strip())
        if match:
            sums[match.group(2)] = match.group(1)
    return sums


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def verify_signature(key_path, signature_path, signed_path, gpg='gpg', gpgv='gpgv'):
    """(True, '') when ``signed_path`` is signed by the key in ``key_path``, else (False, what gpgv said).

    The key is turned into a keyring of its own in a throwaway home: nothing else is trusted and
    nothing is imported into the user's keyring.
    """
    home = tempfile.mkdtemp(prefix='hn-gpgv-')
    try:
        keyring = os.path.join(home, 'release.gpg')
        dearmor = subprocess.run([gpg, '--homedir', home, '--batch', '--quiet', '--yes', '--dearmor', '--output',
                                  keyring, key_path], capture_output=True, text=True, timeout=30, check=False)
        if dearmor.returncode != 0:
            return False, ' '.join((dearmor.stderr or 'gpg --dearmor failed').split())
        proc = subprocess.run([gpgv, '--homedir', home, '--keyring', keyring, signature_path, signed_path],
                              capture_output=True, text=True, timeout=30, check=False)
        return proc.returncode == 0, ' '.join((proc.stdout + proc.stderr).split())
    finally:
        shutil.rmtree(home, ignore_errors=True)


class ReleaseFetch:
    """One release (``version`` from ``base_url``) for some architectures, into ``cache_dir/<version>/``.

    ``download(url)`` returns the bytes at url or raises an exception whose text says why.
    ``hosts_by_architecture`` ({architecture: [inventory host]}) names, in a refusal, the hosts
    that need an architecture the signed list does not have.
    """

    def __init__(self, base_url, version, hosts_by_architecture, cache_dir, key_path, download,
                 gpg='gpg', gpgv='gpgv', check_mode=False):
        self.version = version
        self.url = '%s/%s' % (base_url.rstrip('/'), version)
        self.hosts = hosts_by_architecture
        self.directory = os.path.join(cache_dir, version)
        self.key_path = key_path
        self.download = download
        self.gpg, self.gpgv = gpg, gpgv
        self.check_mode = check_mode
        self.sums_name = 'nomad_%s_SHA256SUMS' % version
        self.changes = []

    def zip_name(self, architecture):
        return 'nomad_%s_linux_%s.zip' % (self.version, architecture)

    def binary_path(self, architecture):
        return os.path.join(self.directory, 'linux_%s' % architecture, 'nomad')

    def path(self, name):
        return os.path.join(self.directory, name)

    def run(self):
        """Fetches and verifies; returns {architecture: {'binary': path, 'sha256': digest}}.

        In check mode nothing is downloaded: what the cache holds is verified as in a real run, and
        a file it lacks is reported as a download (without the signed list nothing more can be
        verified; without a zip its architecture has no binary in the result).
        """
        self.make_directories()
        try:
            sums = self.verified_sums()
        except NotCached:
            return {}
        missing = sorted(self.zip_name(arch) for arch in self.hosts if self.zip_name(arch) not in sums)
        if missing:
            needing = sorted(host for arch, hosts in self.hosts.items() if self.zip_name(arch) in missing
                             for host in hosts)
            raise ReleaseError('The signed %s has no entry for %s, needed by %s (nomad_architecture): check '
                               'nomad_version and nomad_architecture. Nothing was installed on any node.'
                               % (self.sums_name, ', '.join(missing), ', '.join(needing)))
        binaries = {}
        for architecture in sorted(self.hosts):
            try:
                archive = self.verified_zip(architecture, sums[self.zip_name(architecture)])
            except NotCached:
                continue
            binaries[architecture] = self.unpacked(architecture, archive)
        return binaries

    def make_directories(self):
        """The release directory and one per architecture, 0700 (set again when it differs)."""
        for directory in [self.directory] + [os.path.dirname(self.binary_path(arch)) for arch in self.hosts]:
            if not os.path.isdir(directory):
                self.changes.append('created %s' % directory)
                if not self.check_mode:
                    os.makedirs(directory, mode=0o700, exist_ok=True)
                    os.chmod(directory, 0o700)
            elif os.stat(directory).st_mode & 0o777 != 0o700:
                self.changes.append('mode 0700 on %s' % directory)
                if not self.check_mode:
                    os.chmod(directory, 0o700)

    def fetch(self, name, use_cache=True):
        """The bytes of the release file ``name``, from the cache or else downloaded (not stored)."""
        cached = read_file_if_exists(self.path(name)) if use_cache else None
        if cached is not None:
            return cached, False
        if self.check_mode:
            self.changes.append('would download %s' % name)
            raise NotCached(name)
        url = '%s/%s' % (self.url, name)
        try:
            return self.download(url), True
        except Exception as exc:  # every transport failure is explained the same way
            raise ReleaseError('Could not download the Nomad %s release from %s (nomad_release_base_url): %s. Check '
                               'that the controller can reach it and that nomad_version is a published release. '
                               'Nothing was changed on any node.' % (self.version, url, exc))

    def verified_sums(self):
        """The signed SHA256SUMS as {file name: SHA-256}; stored in the cache only once verified.

        A cached pair that no longer verifies (the trusted key changed, or the cache was written by
        another key) is fetched again: the cache saves downloads, it never decides.
        """
        sums, sums_new = self.fetch(self.sums_name)
        signature, signature_new = self.fetch(self.sums_name + '.sig')
        good, said = self.signature_holds(sums, signature)
        if not good and not (sums_new and signature_new):
            self.forget(self.sums_name, self.sums_name + '.sig')
            sums, sums_new = self.fetch(self.sums_name, use_cache=False)
            signature, signature_new = self.fetch(self.sums_name + '.sig', use_cache=False)
            good, said = self.signature_holds(sums, signature)
        if not good:
            self.forget(self.sums_name, self.sums_name + '.sig')
            fingerprints = _release_key.inspect(self.key_path, gpg=self.gpg)['fingerprints']
            raise ReleaseError('BAD SIGNATURE: %s from %s is not signed by the key in nomad_release_gpg_key (%s, '
                               'fingerprint %s). gpgv said: %s. %s and %s.'
                               % (self.sums_name, self.url, self.key_path, ', '.join(fingerprints) or 'unknown',
                                  said[:300], self.removed('The unverified files were removed'), NOTHING_INSTALLED))
        for name, data, new in ((self.sums_name, sums, sums_new), (self.sums_name + '.sig', signature, signature_new)):
            self.store(name, data, new)
        return parse_sums(sums.decode('utf-8', 'replace'))

    def signature_holds(self, sums, signature):
        """(good, what gpgv said) for the SHA256SUMS bytes and their detached signature."""
        work = tempfile.mkdtemp(prefix='hn-release-')
        try:
            for name, data in ((self.sums_name, sums), (self.sums_name + '.sig', signature)):
                with open(os.path.join(work, name), 'wb') as handle:
                    handle.write(data)
            return verify_signature(self.key_path, os.path.join(work, self.sums_name + '.sig'),
                                    os.path.join(work, self.sums_name), self.gpg, self.gpgv)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def verified_zip(self, architecture, expected):
        """The zip's bytes once they match the signed SHA-256; a cached zip that does not is fetched again."""
        name = self.zip_name(architecture)
        data, new = self.fetch(name)
        if not new and sha256(data) != expected:
            self.forget(name)
            data, new = self.fetch(name, use_cache=False)
        actual = sha256(data)
        if actual != expected:
            raise ReleaseError('CHECKSUM MISMATCH: %s/%s does not match the SHA-256 in the signed %s (expected %s, '
                               'got %s). %s and %s.'
                               % (self.url, name, self.sums_name, expected, actual,
                                  self.removed('The file was discarded'), NOTHING_INSTALLED))
        self.store(name, data, new)
        return data

    def unpacked(self, architecture, archive):
        """The ``nomad`` of the verified zip in linux_<arch>/nomad (0755), written only when it differs."""
        try:
            binary = zipfile.ZipFile(io.BytesIO(archive)).read('nomad')
        except (zipfile.BadZipFile, KeyError) as exc:
            raise ReleaseError('The verified %s holds no nomad binary (%s); %s.'
                               % (self.zip_name(architecture), exc, NOTHING_INSTALLED))
        path = self.binary_path(architecture)
        current = read_file_if_exists(path)
        if current != binary or (os.stat(path).st_mode & 0o777) != 0o755:
            self.changes.append('unpacked %s' % path)
            if not self.check_mode:
                write_file_atomic(path, binary, mode=0o755)
        return dict(binary=path, sha256=sha256(binary))

    def store(self, name, data, new):
        if new:
            self.changes.append('downloaded %s' % name)
            if not self.check_mode:
                write_file_atomic(self.path(name), data, mode=0o600)

    def removed(self, sentence):
        """``sentence`` as a real run can say it; check mode removes nothing."""
        return 'Check mode removed nothing' if self.check_mode else sentence

    def forget(self, *names):
        for name in names:
            path = self.path(name)
            if os.path.exists(path) and not self.check_mode:
                os.unlink(path)
