# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A fake Nomad release mirror for the unit and integration tests: zips and a SHA256SUMS signed by a throwaway key.

``signing_key(root)`` makes the key (the controller's real gpg); ``Mirror(root, key)`` lays out
``<root>/<version>/`` as releases.hashicorp.com does, at ``Mirror.url`` (a file:// URL).
"""

from __future__ import annotations

import atexit
import hashlib
import subprocess
import zipfile

VERSION = '1.6.3'


def signing_key(root):
    """(gpg command line with the key's home, the public key file, its fingerprint), made under root."""
    home = root / 'gnupg'
    home.mkdir(mode=0o700, parents=True)
    gpg = ['gpg', '--homedir', str(home), '--batch', '--quiet', '--pinentry-mode', 'loopback', '--passphrase', '']
    subprocess.run(gpg + ['--quick-gen-key', 'test mirror <mirror@test.invalid>', 'ed25519', 'sign', '1d'], check=True)
    key = root / 'key.asc'
    key.write_bytes(subprocess.run(gpg + ['--armor', '--export'], check=True, capture_output=True).stdout)
    colons = subprocess.run(gpg + ['--with-colons', '--list-keys'], check=True, capture_output=True, text=True).stdout
    fingerprint = next(line.split(':')[9] for line in colons.splitlines() if line.startswith('fpr:'))
    atexit.register(stop_agent, str(home))
    return gpg, key, fingerprint


def stop_agent(home):
    """Ends the gpg-agent that key generation and signing started in the throwaway home, when the tests end
    (not between two uses: a new gpg could reach the agent while it shuts down)."""
    subprocess.run(['gpgconf', '--homedir', home, '--kill', 'gpg-agent'], check=False)


class Mirror:
    """<root>/<version>/ with one zip per architecture and a SHA256SUMS of ``listed`` (default: all) signed by the key.

    A zip in ``tamper`` is changed after its checksum was signed.
    """

    def __init__(self, root, key, architectures=('amd64', 'arm64'), listed=None, tamper=()):
        self.gpg, self.key, self.fingerprint = key
        self.root = root
        self.url = 'file://%s' % root
        self.release = root / VERSION
        self.release.mkdir(parents=True)
        self.downloads = []
        lines = []
        for arch in architectures:
            name = self.zip_name(arch)
            with zipfile.ZipFile(self.release / name, 'w') as archive:
                archive.writestr('nomad', self.binary(arch))
            if listed is None or arch in listed:
                lines.append('%s  %s\n' % (hashlib.sha256((self.release / name).read_bytes()).hexdigest(), name))
        self.sums = self.release / ('nomad_%s_SHA256SUMS' % VERSION)
        self.sums.write_text(''.join(lines))
        self.sign()
        for arch in tamper:
            self.tamper(self.zip_name(arch))

    def sign(self):
        subprocess.run(self.gpg + ['--yes', '--detach-sign', '--output', '%s.sig' % self.sums, str(self.sums)], check=True)

    @staticmethod
    def zip_name(arch):
        return 'nomad_%s_linux_%s.zip' % (VERSION, arch)

    @staticmethod
    def binary(arch):
        return ('#!/bin/sh\necho the %s build\n' % arch).encode()

    def download(self, url):
        """What a download of url returns (the files under root), noting the file's name."""
        self.downloads.append(url.rsplit('/', 1)[1])
        assert url.startswith(self.url + '/'), url
        path = self.root / url[len(self.url) + 1:]
        if not path.exists():
            raise OSError('HTTP Error 404: Not Found')
        return path.read_bytes()

    def tamper(self, name):
        with zipfile.ZipFile(self.release / name, 'a') as archive:
            archive.writestr('extra', 'x')
