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


# -- choosing the key a rotation rolls out -------------------------------------------------------

@pytest.mark.parametrize('pending, given, rotate, expected', [
    (KEY_B, None, False, ('pending', KEY_B)),       # an interrupted rotation is finished first
    (KEY_B, None, True, ('pending', KEY_B)),        # ... and no second new key is made
    (KEY_B, KEY_B, True, ('pending', KEY_B)),
    (None, KEY_C, False, ('given', KEY_C)),
    (None, KEY_C, True, ('given', KEY_C)),          # a given key wins over a new one
    (None, KEY_A, True, (None, None)),              # the current key: nothing to roll out
    (None, None, False, (None, None)),
])
def test_choose_next(pending, given, rotate, expected):
    assert _gossip.choose_next(KEY_A, pending, given, rotate, can_keep=True) == expected


def test_choose_next_makes_a_new_key():
    source, key = _gossip.choose_next(KEY_A, None, None, True, can_keep=True)
    assert source == 'new' and _gossip.key_size(key, 'key') == 32 and key != KEY_A


def test_choose_next_refuses_a_given_key_other_than_the_pending_one():
    with pytest.raises(_gossip.GossipKeyError) as caught:
        _gossip.choose_next(KEY_A, KEY_B, KEY_C, False, can_keep=True)
    assert KEY_B not in str(caught.value) and KEY_C not in str(caught.value)
    assert _gossip.fingerprint(KEY_B) in str(caught.value) and _gossip.fingerprint(KEY_C) in str(caught.value)


def test_choose_next_refuses_a_new_key_that_cannot_be_kept():
    with pytest.raises(_gossip.GossipKeyError, match='give it as new_key'):
        _gossip.choose_next(KEY_A, None, None, True, can_keep=False)
    assert _gossip.choose_next(KEY_A, None, KEY_B, True, can_keep=False) == ('given', KEY_B)


def test_read_key_file(tmp_path):
    path = tmp_path / 'gossip.key'
    assert _gossip.read_key_file(str(path)) is None
    path.write_text(KEY_A + '\r\n')
    assert _gossip.read_key_file(str(path)) == KEY_A
    path.write_text(KEY_A + ' \n')
    with pytest.raises(_gossip.GossipKeyError, match='^the key stored in %s is not valid' % path):
        _gossip.read_key_file(str(path))
    with pytest.raises(_gossip.GossipKeyError, match='is a directory'):
        _gossip.read_key_file(str(tmp_path))


# -- the keyring ---------------------------------------------------------------------------------

def test_listing_knows_the_primary_only_when_one_key_is_on_every_server():
    assert _gossip.Listing(dict(Keys={KEY_A: 3}, NumNodes=3)).primary == KEY_A
    assert _gossip.Listing(dict(Keys={KEY_A: 2}, NumNodes=3)).primary is None
    assert _gossip.Listing(dict(Keys={KEY_A: 3, KEY_B: 3}, NumNodes=3)).primary is None
    assert _gossip.Listing(dict(Keys={KEY_A: 3, KEY_B: 1}, NumNodes=3)).fingerprints() == {
        _gossip.fingerprint(KEY_A): 3, _gossip.fingerprint(KEY_B): 1}
    with pytest.raises(_gossip.KeyringError, match='not a keyring listing'):
        _gossip.Listing('hello')


def test_keyring_scrubs_every_key_it_has_seen():
    keyring = _gossip.Keyring(client=None)
    keyring.remember(KEY_A, None, '')
    keyring.remember(KEY_B)
    assert keyring.scrub('%s then %s' % (KEY_A, KEY_B)) == 'key %s then key %s' % (
        _gossip.fingerprint(KEY_A), _gossip.fingerprint(KEY_B))
