#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: gossip_key
short_description: Make, validate and keep the gossip encryption key of Nomad servers
version_added: 1.0.0
description:
  - Makes a 32-byte key in standard base64 (44 characters with C(+), C(/) and C(=)), which is what
    Nomad's C(server.encrypt) expects, or validates a given O(key).
  - With O(path), keeps the key in that file (mode C(0600)) and reuses it on later runs, so every
    server gets the same key. Run it where that file should live, normally the controller
    (C(delegate_to=localhost), C(run_once=true)).
  - A given O(key) that differs from the stored one is refused unless O(force=true), so a typo
    cannot silently replace the cluster key.
  - The key is never logged and only returned with O(return_key=true).
author:
  - hardened.nomad contributors (@hardened-nomad)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  key:
    description:
      - A key to use instead of making one. It must be standard base64 (not the URL-safe
        alphabet) that decodes to 16, 24 or 32 bytes.
    type: str
  path:
    description:
      - File that keeps the key. Created with mode C(0600) when missing; its directory must exist.
      - A file with a looser mode is set back to C(0600).
    type: path
  force:
    description:
      - Replace the key stored in O(path) by a different O(key).
      - Servers keep using the key in their C(serf.keyring) file; a new key must be rolled out with
        the keyring API, not only by changing C(server.encrypt).
    type: bool
    default: false
  return_key:
    description:
      - Return the key as RV(key). The task must then use C(no_log=true).
    type: bool
    default: false
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
    details: Validates and predicts C(changed) without writing the file.
  diff_mode:
    support: none
notes:
  - Without O(path) the module only makes or validates a key and reports C(changed=false),
    since nothing on disk changes.
  - Once a server has started, its key lives in C(<data_dir>/server/serf.keyring) and a changed
    C(server.encrypt) is ignored.
"""

EXAMPLES = r"""
- name: Make the gossip key once and keep it beside the playbook
  hardened.nomad.gossip_key:
    path: "{{ playbook_dir }}/secrets/nomad-gossip.key"
    return_key: true
  delegate_to: localhost
  run_once: true
  no_log: true
  register: nomad_gossip

- name: Validate a key taken from a vault
  hardened.nomad.gossip_key:
    key: "{{ vault_nomad_gossip_key }}"
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
key:
  description: The key. Ansible masks it when it equals the O(key) given.
  returned: when O(return_key=true)
  type: str
path:
  description: The file that keeps the key.
  returned: when O(path) is given
  type: str
created:
  description: Whether the key file was written (or, in check mode, would be).
  returned: always
  type: bool
key_bytes:
  description: How many bytes the key decodes to.
  returned: success
  type: int
  sample: 32
"""

import base64
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_text

from ansible_collections.hardened.nomad.plugins.module_utils._gossip import GossipKeyError, key_size

NEW_KEY_SIZE = 32


def generate_key():
    return to_text(base64.b64encode(os.urandom(NEW_KEY_SIZE)))


def read_stored_key(path):
    with open(path, 'rb') as handle:
        # Tolerate the line break an editor adds; anything else must be the bare key.
        return to_text(handle.read(), errors='surrogate_or_strict').rstrip('\r\n')


def write_key(path, key):
    directory = os.path.dirname(os.path.abspath(path))
    fd, temp_path = tempfile.mkstemp(prefix='.gossip-key.', dir=directory)  # mkstemp creates it 0600
    try:
        with os.fdopen(fd, 'wb') as handle:
            handle.write(to_bytes(key + '\n'))
            handle.flush()
            os.fsync(handle.fileno())
        os.rename(temp_path, path)
    except BaseException:
        if os.path.exists(temp_path):
            os.unlink(temp_path)
        raise


def run(module):
    """The result dict, written or predicted."""
    given = module.params['key']
    path = module.params['path']
    if given is not None:
        key_size(given, 'key')

    if path is None:
        key = given if given is not None else generate_key()
        return dict(changed=False, created=False, key_bytes=key_size(key, 'the new key')), key

    if os.path.isdir(path):
        raise GossipKeyError('path %s is a directory; give the path of a file' % path)
    if os.path.exists(path):
        stored = read_stored_key(path)
        key_size(stored, 'the key stored in %s' % path)
        mode_fixed = module.set_mode_if_different(path, '0600', False)
        if given is None or given == stored:
            return dict(changed=mode_fixed, created=False, path=path, key_bytes=key_size(stored, 'key')), stored
        if not module.params['force']:
            raise GossipKeyError('key differs from the key stored in %s; refusing to replace the cluster key. '
                                 'Set force: true to replace it (and roll it out with the keyring API)' % path)
        if not module.check_mode:
            write_key(path, given)
        return dict(changed=True, created=True, path=path, key_bytes=key_size(given, 'key')), given

    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise GossipKeyError('the directory %s of path %s does not exist' % (directory, path))
    key = given if given is not None else generate_key()
    if not module.check_mode:
        write_key(path, key)
    return dict(changed=True, created=True, path=path, key_bytes=key_size(key, 'the new key')), key


def main():
    module = AnsibleModule(
        argument_spec=dict(
            key=dict(type='str', no_log=True),
            path=dict(type='path'),
            force=dict(type='bool', default=False),
            return_key=dict(type='bool', default=False, no_log=False),
        ),
        supports_check_mode=True,
    )
    try:
        result, key = run(module)
    except (GossipKeyError, OSError) as exc:
        module.fail_json(msg=str(exc))
    if module.params['return_key']:
        result['key'] = key
    module.exit_json(**result)


if __name__ == '__main__':
    main()
