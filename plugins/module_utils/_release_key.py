# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What the controller's gpg makes of the release signing key file, before anything downloads.

Private to the collection. ``inspect(path)`` answers with the key's fingerprints and, when the
file cannot verify a release, one sentence per problem. The key is only shown (``gpg --show-keys``)
in a temporary home directory: nothing is imported into the user's keyring.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile


def parse_colons(text):
    """(fingerprints of primary public keys, whether a secret key is in it) from gpg --with-colons output."""
    fingerprints, secret, want_fpr = [], False, False
    for line in text.splitlines():
        fields = line.split(':')
        record = fields[0]
        if record in ('pub', 'sec'):
            secret = secret or record == 'sec'
            want_fpr = True
        elif record == 'fpr' and want_fpr and len(fields) > 9:
            fingerprints.append(fields[9])
            want_fpr = False
        elif record in ('sub', 'ssb', 'uid'):
            want_fpr = False
    return fingerprints, secret


def show_keys(path, gpg='gpg'):
    """(return code, stdout, stderr) of ``gpg --show-keys --with-colons path`` in a throwaway home."""
    home = tempfile.mkdtemp(prefix='hn-gpg-')
    try:
        proc = subprocess.run([gpg, '--homedir', home, '--batch', '--no-tty', '--with-colons', '--show-keys', path],
                              capture_output=True, text=True, timeout=30, check=False)
        return proc.returncode, proc.stdout, proc.stderr
    finally:
        shutil.rmtree(home, ignore_errors=True)


def inspect(path, variable='nomad_release_gpg_key', gpg='gpg'):
    """dict(fingerprints=[...], problems=[...]) for the key file at path, on the controller."""
    result = dict(fingerprints=[], problems=[])
    where = '%s (%s)' % (variable, path)
    if not path:
        result['problems'].append('%s is empty: give the path of the OpenPGP public key that signs the releases' % variable)
    elif not os.path.isfile(path):
        result['problems'].append('%s is not a file on the controller: give the path of the OpenPGP public key '
                                  'that signs the releases' % where)
    elif not os.access(path, os.R_OK):
        result['problems'].append('%s cannot be read by the controller user: make it readable (it is a public key)'
                                  % where)
    elif shutil.which(gpg) is None:
        result['problems'].append('the controller has no %s to read %s: install gnupg (Debian/Ubuntu: apt-get '
                                  'install gnupg gpgv)' % (gpg, where))
    else:
        code, out, err = show_keys(path, gpg)
        fingerprints, secret = parse_colons(out)
        if secret:
            result['problems'].append('%s holds a SECRET key: give only the public key (gpg --export KEYID), and '
                                      'treat the secret key as exposed' % where)
        elif code != 0 or not fingerprints:
            said = ' '.join(err.split())[:200] or 'no key found'
            result['problems'].append('%s is not an OpenPGP public key (gpg said: %s): give the public key file that '
                                      'signs SHA256SUMS, armored or binary' % (where, said))
        else:
            result['fingerprints'] = fingerprints
    return result
