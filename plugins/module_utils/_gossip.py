# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Gossip (Serf) encryption keys: the format, a fingerprint that is safe to show, the choice of
the key a rotation rolls out, and the keyring API of the servers.

Private to the collection. Shared by the gossip_key and gossip_keyring modules, so that both
accept exactly the keys Nomad accepts and say the same about the others. Nothing here ever puts a
key into a message: keys are named by their fingerprint.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import time

from ansible.module_utils.common.text.converters import to_bytes, to_text

from ansible_collections.hardened.nomad.plugins.module_utils._api import NomadError
from ansible_collections.hardened.nomad.plugins.module_utils._files import read_file_if_exists

KEY_SIZES = (16, 24, 32)
NEW_KEY_SIZE = 32
# Where a rotation keeps the key it rolls out, beside the cluster key file, until it is finished.
NEXT_SUFFIX = '.next'


class GossipKeyError(Exception):
    """Never carries the key itself."""


def key_size(key, origin):
    """Bytes the key decodes to; fails unless it is canonical standard base64 of 16, 24 or 32 bytes.

    Strict like Nomad (Go's base64.StdEncoding): no URL-safe alphabet, no whitespace, correct
    padding. ``origin`` says where the key came from; the key itself is never put in a message.
    """
    try:
        raw = base64.b64decode(to_bytes(key), validate=True)
    except (binascii.Error, ValueError):
        raise GossipKeyError('%s is not valid standard base64: only A-Z, a-z, 0-9, "+" and "/" with "=" padding '
                             'are allowed (not the URL-safe "-" and "_", no spaces or line breaks)' % origin)
    if to_text(base64.b64encode(raw)) != key:
        raise GossipKeyError('%s is not canonical base64 (wrong padding or trailing bits)' % origin)
    if len(raw) not in KEY_SIZES:
        raise GossipKeyError('%s decodes to %d bytes; Nomad needs 16, 24 or 32 bytes (32 recommended, 44 base64 '
                             'characters)' % (origin, len(raw)))
    return len(raw)


def fingerprint(key):
    """First 8 hex characters of the SHA-256 of the key text: safe to show.

    The same as ``printf '%s' "$KEY" | sha256sum | cut -c1-8``.
    """
    return hashlib.sha256(to_bytes(key)).hexdigest()[:8]


def generate_key():
    """A new random 32-byte key, as Nomad wants it."""
    return to_text(base64.b64encode(os.urandom(NEW_KEY_SIZE)))


def read_key_file(path):
    """The valid key kept in ``path``, or None when there is no such file.

    The line break an editor adds is tolerated; anything else must be the bare key.
    """
    if os.path.isdir(path):
        raise GossipKeyError('path %s is a directory; give the path of a file' % path)
    data = read_file_if_exists(path)
    if data is None:
        return None
    key = to_text(data, errors='surrogate_or_strict').rstrip('\r\n')
    key_size(key, 'the key stored in %s' % path)
    return key


def key_file_data(key):
    return to_bytes(key + '\n')


def choose_next(current, pending, given, rotate, can_keep):
    """(source, key) of the key a rotation rolls out, or (None, None) when there is none.

    ``current``: the cluster key; ``pending``: a key left by an interrupted rotation (or None);
    ``given``: the key asked for (or None); ``rotate``: whether a new key is wanted;
    ``can_keep``: whether a new key can be kept in a file (not when the current key is given).
    An interrupted rotation is always finished first.
    """
    if pending is not None:
        if given is not None and given != pending:
            raise GossipKeyError('the key file of an interrupted rotation holds key %s, but new_key is key %s. Run '
                                 'once without new_key to finish the interrupted rotation, then rotate to your key'
                                 % (fingerprint(pending), fingerprint(given)))
        return 'pending', pending
    if given is not None:
        return ('given', given) if given != current else (None, None)
    if not rotate:
        return None, None
    if not can_keep:
        raise GossipKeyError('rotate=true but the current key was given as key (a key from your vault), so no key '
                             'file is written: put the new key in your vault, give it as new_key (make one with '
                             '`nomad operator gossip keyring generate`) and run again')
    return 'new', generate_key()


# -- the keyring API of the servers ---------------------------------------------------------------

KEYRING_PATH = '/v1/agent/keyring/'
POLL_INTERVAL = 1.0
# Serf's answers when not every server took part (Nomad passes only this text on, with HTTP 500).
NOT_ALL_ANSWERED_RE = re.compile(r'^(\d+)/(\d+) nodes reported success$')
SOME_FAILED_RE = re.compile(r'^(\d+)/(\d+) nodes reported failure$')
AGENT_WRITE_HINT = ('the gossip keyring API (listing too) needs a token with agent:write: a management token or a '
                    'policy with agent { policy = "write" }')
REFUSAL_REASONS = {
    'list': 'is gossip encryption enabled? Servers only have a keyring when server.encrypt was set '
            'before their first start',
    'install': 'is gossip encryption enabled on every server, and can each write its '
               '<data_dir>/server/serf.keyring?',
    'use': 'the key is missing on those servers',
    'remove': 'it is their primary key, which Nomad never removes: make another key primary first '
              '(state=primary)',
}

# Indirections so that tests can run the waiting without waiting.
_clock = time.monotonic
_sleep = time.sleep


class KeyringError(Exception):
    """A failure worth a clear message. Never carries a key, only fingerprints."""


class NotAllAnswered(KeyringError):
    """Some servers did not answer a keyring request in time; trying again may work."""


class Listing:
    """One answer of /v1/agent/keyring/list: key -> how many servers have it, and the server count."""

    def __init__(self, answer):
        if not isinstance(answer, dict) or not isinstance(answer.get('NumNodes'), int):
            raise KeyringError('unexpected answer from %slist: not a keyring listing' % KEYRING_PATH)
        self.keys = dict(answer.get('Keys') or {})
        self.num_nodes = answer['NumNodes']
        self.messages = dict(answer.get('Messages') or {})

    def count(self, key):
        return self.keys.get(key, 0)

    def on_all(self, key):
        return self.count(key) >= self.num_nodes > 0

    @property
    def primary(self):
        """The primary key when it is certain: one key alone, installed on every server."""
        if len(self.keys) == 1:
            key = next(iter(self.keys))
            if self.on_all(key):
                return key
        return None

    def fingerprints(self):
        return dict((fingerprint(key), count) for key, count in self.keys.items())


class Keyring:
    """The gossip keyring of every server, through the keyring API of one server agent.

    ``list``, ``install``, ``use`` and ``remove`` are the API's operations; each failure becomes a
    KeyringError that says what went wrong. Every key seen is remembered so that ``scrub`` can
    replace it by its fingerprint in any text; ``warn(text)`` receives the servers' messages.
    """

    def __init__(self, client, warn=None):
        self.client = client
        self.warn = warn
        self.secrets = set()

    def remember(self, *keys):
        self.secrets.update(key for key in keys if key)

    def scrub(self, text):
        for key in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(key, 'key %s' % fingerprint(key))
        return text

    def explain(self, exc, op, key=None):
        """A KeyringError saying what went wrong with a keyring call."""
        what = 'key %s' % fingerprint(key) if key else 'the keyring'
        body = (exc.body or '').strip()
        if exc.status == 403:
            return KeyringError('%s; %s' % (exc.message, AGENT_WRITE_HINT))
        if exc.status == 501:
            return KeyringError('the agent at %s is not a Nomad server (%s): only servers have a gossip keyring, '
                                'set address to a server' % (self.client.address, exc.message))
        failed = SOME_FAILED_RE.match(body)
        if failed:
            return KeyringError('%s of %s servers refused to %s %s (Nomad: %s): %s'
                                % (failed.group(1), failed.group(2), op, what, body, REFUSAL_REASONS[op]))
        not_all = NOT_ALL_ANSWERED_RE.match(body)
        if not_all:
            return NotAllAnswered('only %s of %s servers answered the %s request for %s in time (Nomad: %s): a '
                                  'server is down, slow or cut off from gossip. Bring every server up before changing '
                                  'the keyring, then run again' % (not_all.group(1), not_all.group(2), op, what, body))
        return KeyringError(exc.message)

    def call(self, op, key=None):
        self.remember(key)
        try:
            if op == 'list':
                return self.client.get(KEYRING_PATH + op)
            return self.client.put(KEYRING_PATH + op, body=None if key is None else dict(Key=key))
        except NomadError as exc:
            raise self.explain(exc, op, key)

    def list(self):
        listing = Listing(self.call('list'))
        self.remember(*listing.keys)
        if self.warn is not None:
            for node, message in sorted(listing.messages.items()):
                self.warn(self.scrub('server %s: %s' % (node, message)))
        return listing

    def install(self, key):
        self.call('install', key)

    def use(self, key):
        self.call('use', key)

    def remove(self, key):
        self.call('remove', key)

    def install_everywhere(self, key, timeout):
        """Install the key and wait until every server reports it; sends the install again meanwhile."""
        deadline = _clock() + timeout
        last = ''
        while True:
            try:
                self.install(key)
                listing = self.list()
                if listing.on_all(key):
                    return listing
                last = 'on %d of %d servers' % (listing.count(key), listing.num_nodes)
            except NotAllAnswered as exc:
                # A server that did not answer in time may still get the key: keep trying.
                last = str(exc)
            if _clock() >= deadline:
                raise KeyringError('key %s did not reach every server within %s seconds (propagation_timeout); last '
                                   'seen: %s. It was not made primary and no key was removed, so gossip keeps '
                                   'working. Check that every server is up and reachable, then run again'
                                   % (fingerprint(key), timeout, last))
            _sleep(POLL_INTERVAL)
