# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The gossip key rules and fingerprint shared by gossip_key and gossip_keyring."""

from __future__ import annotations

import base64
import hashlib

import pytest

from ansible_collections.hardened.nomad.plugins.module_utils import _gossip
from ansible_collections.hardened.nomad.plugins.modules import gossip_key, gossip_keyring

KEY_A = base64.b64encode(bytes(range(32))).decode()
KEY_B = base64.b64encode(b'\xfb' * 32).decode()  # uses "+" and "/"
KEY_C = base64.b64encode(bytes(range(100, 116))).decode()  # 16 bytes

NOT_BASE64 = 'key is not valid standard base64'
NOT_CANONICAL = 'key is not canonical base64 (wrong padding or trailing bits)'


@pytest.mark.parametrize('candidate, size', [
    (KEY_A, 32),
    (KEY_B, 32),
    (KEY_C, 16),
    (base64.b64encode(b'y' * 24).decode(), 24),
])
def test_key_size_of_valid_keys(candidate, size):
    assert _gossip.key_size(candidate, 'key') == size


@pytest.mark.parametrize('candidate, expected', [
    (base64.b64encode(b'z' * 20).decode(), 'key decodes to 20 bytes; Nomad needs 16, 24 or 32 bytes'),
    ('', 'key decodes to 0 bytes; Nomad needs 16, 24 or 32 bytes'),
    ('abc', NOT_BASE64),
    (KEY_A.rstrip('='), NOT_BASE64),
    (KEY_B.replace('+', '-'), NOT_BASE64),
    (KEY_A + '\n', NOT_BASE64),
    (' ' + KEY_A, NOT_BASE64),
    (KEY_A[:-2] + 'R=', NOT_CANONICAL),
])
def test_key_size_refuses_invalid_keys_without_showing_them(candidate, expected):
    with pytest.raises(_gossip.GossipKeyError) as caught:
        _gossip.key_size(candidate, 'key')
    assert str(caught.value).startswith(expected)
    if candidate.strip():
        assert candidate.strip() not in str(caught.value)


def test_key_size_names_the_origin():
    with pytest.raises(_gossip.GossipKeyError, match='^the key stored in /x is not valid'):
        _gossip.key_size('abc', 'the key stored in /x')


def test_fingerprint_is_sha256_of_the_key_text():
    # printf '%s' "$KEY" | sha256sum | cut -c1-8
    assert _gossip.fingerprint(KEY_A) == hashlib.sha256(KEY_A.encode('ascii')).hexdigest()[:8] == '905f28de'
    assert len(set(_gossip.fingerprint(key) for key in (KEY_A, KEY_B, KEY_C))) == 3


def test_both_modules_use_the_shared_rules():
    # One copy of the rules: the two modules cannot drift apart.
    assert gossip_key.key_size is gossip_keyring.key_size is _gossip.key_size
    assert gossip_key.GossipKeyError is gossip_keyring.GossipKeyError is _gossip.GossipKeyError
    assert gossip_keyring.fingerprint is _gossip.fingerprint
