#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: gossip_key
short_description: Make, validate and keep the gossip encryption key of Nomad servers, and choose the next one
version_added: 0.2.0
description:
  - Makes a 32-byte key in standard base64 (44 characters with C(+), C(/) and C(=)), which is what
    Nomad's C(server.encrypt) expects, or validates a given O(key).
  - With O(path), keeps the key in that file (mode C(0600)) and reuses it on later runs, so every
    server gets the same key. Run it where that file should live, normally the controller
    (C(delegate_to=localhost), C(run_once=true)).
  - A given O(key) that differs from the stored one is refused unless O(force=true), so a typo
    cannot silently replace the cluster key.
  - 'O(state=next) chooses the key a rotation rolls out, in this order: the key of an interrupted
    rotation (kept in O(path) with C(.next) appended), O(new_key) unless it is the current key, a
    new key with O(rotate=true), else none. A key it chooses is first kept in the C(.next) file, so
    that a rotation that stops half-way is finished with the same key. O(state=finished) then makes
    the C(.next) key the cluster key in O(path) and removes the C(.next) file.'
  - The key is never logged and only returned with O(return_key=true).
author:
  - hardened.nomad contributors (@hardened-nomad)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  state:
    description:
      - V(present) makes, validates or keeps the key as described above.
      - V(next) chooses the key to roll out (see the description). The current key is the one in
        O(path), or O(key) when the key is not kept in a file (a key from a vault; then there is no
        C(.next) file and O(new_key) is the only way to a new key). Nothing is written when no key
        is rolled out, or when the choice is refused.
      - V(finished) makes the key of the C(.next) file the key in O(path) and removes the C(.next)
        file; without a C(.next) file it changes nothing. Needs O(path).
    type: str
    choices: [present, next, finished]
    default: present
  key:
    description:
      - A key to use instead of making one. It must be standard base64 (not the URL-safe
        alphabet) that decodes to 16, 24 or 32 bytes.
      - With O(state=next), the current key when it is not kept in O(path) (exclusive with O(path)).
      - With O(state=finished), the key that was rolled out; the module refuses to keep any other.
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
  new_key:
    description:
      - With O(state=next), the key to rotate to instead of a new one. A key equal to the current key
        rolls nothing out.
    type: str
  rotate:
    description:
      - With O(state=next), make a new key when neither an interrupted rotation nor O(new_key) gives one.
      - Refused when the current key is given as O(key), since a new key could not be kept; give O(new_key).
    type: bool
    default: false
  left_out:
    description:
      - With O(state=next), the servers of the cluster that this run leaves out (for example with
        C(--limit)). When a key is to be rolled out and this list is not empty, the module fails
        before writing anything, since the keyring changes on every server but the configuration
        of a server left out would keep the old key.
    type: list
    elements: str
    default: []
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
    details: Validates and predicts C(changed) without writing or removing a file; the directory of O(path)
      need not exist yet (an earlier task of the run makes it).
  diff_mode:
    support: none
notes:
  - Without O(path) the module only makes or validates a key and reports C(changed=false),
    since nothing on disk changes.
  - Once a server has started, its key lives in C(<data_dir>/server/serf.keyring) and a changed
    C(server.encrypt) is ignored.
  - Fingerprints are the first 8 hexadecimal characters of the SHA-256 of the key text, as
    M(hardened.nomad.gossip_keyring) shows them.
seealso:
  - module: hardened.nomad.gossip_keyring
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

- name: Choose the key to roll out (an interrupted rotation's, or a new one)
  hardened.nomad.gossip_key:
    state: next
    path: "{{ playbook_dir }}/secrets/nomad-gossip.key"
    rotate: true
    left_out: "{{ groups['nomad_servers'] | difference(ansible_play_hosts) }}"
    return_key: true
  delegate_to: localhost
  run_once: true
  no_log: true
  register: nomad_gossip_next

- name: Once the keyring holds it alone, keep it as the cluster key
  hardened.nomad.gossip_key:
    state: finished
    path: "{{ playbook_dir }}/secrets/nomad-gossip.key"
    key: "{{ nomad_gossip_next.key }}"
  delegate_to: localhost
  run_once: true
  when: nomad_gossip_next.rotate
"""

RETURN = r"""
key:
  description:
    - The key. With O(state=present) Ansible masks it when it equals the O(key) given.
    - With O(state=next), the key the servers are to use after this run (the chosen key, else the
      current one), also when it equals O(key) or O(new_key).
  returned: when O(return_key=true)
  type: str
path:
  description: The file that keeps the key.
  returned: when O(path) is given
  type: str
created:
  description: Whether the key file (with O(state=next), the C(.next) file) was written (or, in check mode, would be).
  returned: always
  type: bool
key_bytes:
  description: How many bytes the key decodes to.
  returned: success
  type: int
  sample: 32
fingerprint:
  description:
    - With O(state=next), the fingerprint of RV(key), the key the servers are to use after this run.
    - With O(state=finished), the fingerprint of the key now in O(path).
  returned: with O(state=next) or O(state=finished)
  type: str
  sample: 3f2a9c1b
current_fingerprint:
  description: Fingerprint of the current key.
  returned: with O(state=next)
  type: str
  sample: 9d04c1e7
rotate:
  description: Whether a key is to be rolled out.
  returned: with O(state=next)
  type: bool
source:
  description:
    - Where the key to roll out comes from, V(pending) (an interrupted rotation), V(given)
      (O(new_key)) or V(new); V(null) when none is rolled out.
  returned: with O(state=next)
  type: str
  sample: new
next_path:
  description: The C(.next) file that keeps the key being rolled out until O(state=finished).
  returned: with O(state=next), when a key is rolled out and O(path) is given
  type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule, remove_values

from ansible_collections.hardened.nomad.plugins.module_utils._files import FileWriteError, missing_directory, write_file_atomic
from ansible_collections.hardened.nomad.plugins.module_utils._gossip import (
    NEXT_SUFFIX, GossipKeyError, choose_next, fingerprint, generate_key, key_file_data, key_size, read_key_file)


def keep(module, path, key):
    """Write the key file (0600), unless in check mode (where its directory need not exist yet)."""
    directory = missing_directory(path, module.check_mode)
    if directory:
        raise GossipKeyError('the directory %s of path %s does not exist' % (directory, path))
    if not module.check_mode:
        write_file_atomic(path, key_file_data(key))


def ensure_present(module):
    """(result, key) of state=present, written or predicted."""
    given = module.params['key']
    path = module.params['path']
    if given is not None:
        key_size(given, 'key')

    if path is None:
        key = given if given is not None else generate_key()
        return dict(changed=False, created=False, key_bytes=key_size(key, 'the new key')), key

    stored = read_key_file(path)
    if stored is not None:
        mode_fixed = module.set_mode_if_different(path, '0600', False)
        if given is None or given == stored:
            return dict(changed=mode_fixed, created=False, path=path, key_bytes=key_size(stored, 'key')), stored
        if not module.params['force']:
            raise GossipKeyError('key differs from the key stored in %s; refusing to replace the cluster key. '
                                 'Set force: true to replace it (and roll it out with the keyring API)' % path)
        keep(module, path, given)
        return dict(changed=True, created=True, path=path, key_bytes=key_size(given, 'key')), given

    key = given if given is not None else generate_key()
    keep(module, path, key)
    return dict(changed=True, created=True, path=path, key_bytes=key_size(key, 'the new key')), key


def ensure_next(module):
    """(result, key) of state=next: the key the servers are to use after this run."""
    params = module.params
    path = None if params['key'] else params['path']
    if path is None:
        if not params['key']:
            raise GossipKeyError('state=next needs the current key: give path (the file that keeps it) or key')
        key_size(params['key'], 'key')
        current, pending = params['key'], None
    else:
        current = read_key_file(path)
        if current is None:
            raise GossipKeyError('No current gossip key: %s is missing and no key was given. Run playbooks/site.yml '
                                 'first; it makes the key' % path)
        pending = read_key_file(path + NEXT_SUFFIX)
    given = params['new_key'] or None
    if given is not None:
        key_size(given, 'new_key')

    source, chosen = choose_next(current, pending, given, params['rotate'], can_keep=path is not None)
    if source is not None and params['left_out']:
        raise GossipKeyError('The gossip key is rotated on the whole cluster, but %s are not in this run (left_out): '
                             'their configuration would keep the old key. Run without leaving servers out. Nothing '
                             'was changed' % ', '.join(params['left_out']))
    active = chosen if source is not None else current
    result = dict(changed=False, created=False, rotate=source is not None, source=source,
                  fingerprint=fingerprint(active), current_fingerprint=fingerprint(current),
                  key_bytes=key_size(active, 'key'))
    if path is not None:
        result['path'] = path
        if source is not None:
            result['next_path'] = path + NEXT_SUFFIX
        if source in ('given', 'new'):
            keep(module, result['next_path'], chosen)
            result.update(changed=True, created=True)
    return result, active


def ensure_finished(module):
    """(result, key) of state=finished: the .next key becomes the key in path."""
    path, rolled_out = module.params['path'], module.params['key']
    if path is None:
        raise GossipKeyError('state=finished needs path, the file that keeps the cluster key')
    next_path = path + NEXT_SUFFIX
    pending = read_key_file(next_path)
    if pending is None:
        stored = read_key_file(path)
        if rolled_out is not None and rolled_out != stored:
            raise GossipKeyError('key %s is neither in %s nor in %s: refusing to keep a key that was not rolled out'
                                 % (fingerprint(rolled_out), next_path, path))
        return dict(changed=False, created=False, path=path, fingerprint=fingerprint(stored) if stored else None,
                    key_bytes=key_size(stored, 'key') if stored else 0), stored
    if rolled_out is not None and rolled_out != pending:
        raise GossipKeyError('key %s is not the key %s of %s: refusing to keep a key that was not rolled out'
                             % (fingerprint(rolled_out), fingerprint(pending), next_path))
    keep(module, path, pending)
    if not module.check_mode:
        os.remove(next_path)
    return dict(changed=True, created=True, path=path, fingerprint=fingerprint(pending),
                key_bytes=key_size(pending, 'key')), pending


STATES = dict(present=ensure_present, next=ensure_next, finished=ensure_finished)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type='str', default='present', choices=list(STATES)),
            key=dict(type='str', no_log=True),
            path=dict(type='path'),
            force=dict(type='bool', default=False),
            new_key=dict(type='str', no_log=True),
            rotate=dict(type='bool', default=False),
            left_out=dict(type='list', elements='str', default=[]),
            return_key=dict(type='bool', default=False, no_log=False),
        ),
        supports_check_mode=True,
    )
    state = module.params['state']
    try:
        result, key = STATES[state](module)
    except (GossipKeyError, FileWriteError, OSError) as exc:
        module.fail_json(msg=str(exc))
    if module.params['return_key']:
        if state == 'next' and key is not None:
            # The chosen key is returned on purpose, also when it is the key or new_key given
            # (Ansible would mask it then); the invocation keeps both masked.
            result['invocation'] = dict(module_args=remove_values(module.params, module.no_log_values))
            module.no_log_values.discard(key)
        result['key'] = key
    module.exit_json(**result)


if __name__ == '__main__':
    main()
