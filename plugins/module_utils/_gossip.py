# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Gossip (Serf) encryption keys: validation and a fingerprint that is safe to show.

Private to the collection. Shared by the gossip_key and gossip_keyring modules, so that both
accept exactly the keys Nomad accepts and say the same about the others.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from ansible.module_utils.common.text.converters import to_bytes, to_text

KEY_SIZES = (16, 24, 32)


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
