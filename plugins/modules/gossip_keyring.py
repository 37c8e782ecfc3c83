#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: gossip_keyring
short_description: Manage the gossip (Serf) encryption keyring of the Nomad servers
version_added: 0.2.0
description:
  - Installs, makes primary, removes or lists the keys that Nomad servers use to encrypt their
    gossip, through the keyring API of one server agent (C(/v1/agent/keyring/*)). That agent sends
    each request to every server in the gossip pool, so one call changes the whole cluster.
  - 'A rotation with O(state=primary) runs in the order that keeps gossip working: install the
    new key, wait until every server reports it (bounded by O(propagation_timeout)), make it the
    primary key, then remove the other keys (O(remove_others=true)).'
  - Keys are never returned, logged or put in error messages. They are shown by a fingerprint,
    the first 8 hexadecimal characters of the SHA-256 of the key text, the same as
    C(printf '%s' "$KEY" | sha256sum | cut -c1-8).
author:
  - hardened.nomad contributors (@hardened-nomad)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - hardened.nomad.connection
options:
  key:
    description:
      - The gossip key, standard base64 (not the URL-safe alphabet) that decodes to 16, 24 or 32
        bytes, as made by M(hardened.nomad.gossip_key) or C(nomad operator gossip keyring generate).
      - Required unless O(state=listed).
    type: str
  state:
    description:
      - V(primary) installs O(key) on every server if needed, waits until all have it, makes it
        the key that encrypts gossip and, with O(remove_others=true), removes every other key.
      - V(present) installs O(key) on every server and waits until all have it, without making it
        primary. Use it to stage the next key.
      - V(absent) removes O(key) from every server. Removing the primary key is refused, by this
        module when O(key) is the only key and by Nomad otherwise; make another key primary first.
      - V(listed) is not a state of O(key) but a read. The module changes nothing and returns the
        keyring as RV(keys), RV(num_nodes) and RV(primary). O(key) is optional and only used for
        RV(fingerprint). (Ansible's module checks forbid a C(state=list).)
    type: str
    default: primary
    choices: [primary, present, absent, listed]
  remove_others:
    description:
      - With O(state=primary), remove every key except O(key) once O(key) is primary.
      - Set V(false) to keep the old keys installed for a while, for example while a server that
        is down is brought back; remove them later with O(state=absent) or a run with V(true).
    type: bool
    default: true
  propagation_timeout:
    description:
      - Seconds to wait, after installing O(key), until every server reports it. Until then the
        install is sent again every second, for servers that missed it.
      - If the key has not reached every server in time, the module fails before making it
        primary or removing any key, so no server is cut off from gossip.
      - O(timeout) still bounds each HTTP request.
    type: int
    default: 60
  servers:
    description:
      - How many servers the cluster has. When the keyring has to change and fewer servers are in the gossip
        pool (RV(num_nodes)), the module fails before any change (also in check mode), since a server that is
        down would miss the new key and could not rejoin once the old key is removed.
      - V(0) skips the check.
    type: int
    default: 0
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
    details: Reads the keyring and predicts C(changed) and the diff without sending any change.
  diff_mode:
    support: full
    details: Shows the fingerprints of the installed keys and of the primary key before and after.
notes:
  - The O(token) needs C(agent:write), also for O(state=listed) (Nomad checks it for every keyring
    call), so a C(management) token or a policy with C(agent { policy = "write" }).
  - O(address) must be a server agent; client agents have no gossip keyring.
  - Nomad's keyring API does not say which key is primary. The module knows it when one key alone
    is installed on every server (RV(primary) is then its fingerprint), and after it made O(key)
    primary itself. With O(remove_others=false) and other keys installed it therefore cannot tell
    whether O(key) is already primary; it then sends the C(use) request again (harmless) and
    reports C(changed).
  - Only servers that are up are counted in RV(num_nodes). A server that is down during a rotation
    misses the new key and, once O(remove_others=true) removed the old one, cannot rejoin the
    gossip until it gets the new key in its C(serf.keyring) file. Rotate with every server up.
  - The servers keep the keyring in C(<data_dir>/server/serf.keyring), which wins over
    C(server.encrypt) after the first start.
seealso:
  - module: hardened.nomad.gossip_key
"""

EXAMPLES = r"""
- name: Rotate the gossip key - install, wait for every server, make primary, remove the old key
  hardened.nomad.gossip_keyring:
    address: https://server1.example.com:4646
    ca_file: /etc/nomad.d/tls/nomad-agent-ca.pem
    client_cert: /etc/nomad.d/tls/cli.pem
    client_key: /etc/nomad.d/tls/cli-key.pem
    token: "{{ nomad_management_token }}"
    key: "{{ vault_nomad_gossip_key_next }}"
    servers: 3
  run_once: true

- name: Stage the next key on every server, keep the current one primary
  hardened.nomad.gossip_keyring:
    token: "{{ nomad_management_token }}"
    key: "{{ vault_nomad_gossip_key_next }}"
    state: present
    propagation_timeout: 120
  run_once: true

- name: Remove a retired key
  hardened.nomad.gossip_keyring:
    token: "{{ nomad_management_token }}"
    key: "{{ vault_nomad_gossip_key_old }}"
    state: absent
  run_once: true

- name: Show the installed keys by fingerprint
  hardened.nomad.gossip_keyring:
    token: "{{ nomad_management_token }}"
    state: listed
  run_once: true
  register: nomad_keyring
"""

RETURN = r"""
keys:
  description:
    - Fingerprint of each installed key and on how many servers it is installed, after the run
      (in check mode, as found).
  returned: success
  type: dict
  sample:
    3f2a9c1b: 3
num_nodes:
  description: How many servers the gossip pool has (the servers that are up, in all regions).
  returned: success
  type: int
  sample: 3
primary:
  description:
    - Fingerprint of the primary key, after the run (in check mode, as found).
    - V(null) when Nomad's answer does not show it (several keys installed, see the notes).
  returned: success
  type: str
  sample: 3f2a9c1b
fingerprint:
  description: Fingerprint of O(key).
  returned: when O(key) is given
  type: str
  sample: 3f2a9c1b
"""

from ansible_collections.hardened.nomad.plugins.module_utils._gossip import (
    GossipKeyError, Keyring, KeyringError, fingerprint, key_size)
from ansible_collections.hardened.nomad.plugins.module_utils._module import ModuleFailure, NomadModule


def view(keys, primary):
    """What the diff shows: fingerprints only."""
    return dict(keys=sorted(fingerprint(key) for key in keys), primary=fingerprint(primary) if primary else None)


class GossipKeyringModule(NomadModule):
    """The module; ``scrub`` replaces every key it has seen by its fingerprint."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.keyring = None

    def scrub(self, text):
        if self.keyring is None:
            return text
        return self.keyring.scrub(text)


class Flow:
    """One run: read the keyring, then bring it to the wanted state (or predict it)."""

    def __init__(self, module, keyring):
        self.module = module
        self.params = module.params
        self.keyring = keyring
        self.before = None

    def run(self):
        state, key = self.params['state'], self.params['key']
        before = self.before = self.keyring.list()
        if state == 'listed':
            return self.unchanged()
        return getattr(self, 'ensure_' + state)(key, before)

    def check_servers(self):
        """Before any change (predicted or made): every server must be in the gossip pool."""
        servers = self.params['servers']
        if self.before.num_nodes < servers:
            raise KeyringError('only %d of the %d servers are in the gossip pool. A server that is down would miss '
                               'the new key and could not rejoin once the old key is removed: bring every server up, '
                               'then run again. Nothing was changed' % (self.before.num_nodes, servers))

    def unchanged(self):
        return self.result(False, self.before, self.before.primary, set(self.before.keys), self.before.primary)

    def install_everywhere(self, key):
        return self.keyring.install_everywhere(key, self.params['propagation_timeout'])

    def ensure_present(self, key, before):
        if before.on_all(key):
            return self.unchanged()
        self.check_servers()
        wanted = set(before.keys) | set([key])
        if self.module.check_mode:
            return self.result(True, before, before.primary, wanted, before.primary)
        after = self.install_everywhere(key)
        # Installing never changes which key is primary.
        return self.result(True, after, after.primary or before.primary, wanted, before.primary)

    def ensure_absent(self, key, before):
        if key not in before.keys:
            return self.unchanged()
        if before.primary == key:
            raise KeyringError('key %s is the primary key (the only key installed): Nomad never removes the primary '
                               'key. Make another key primary first (state=primary with that key)'
                               % fingerprint(key))
        self.check_servers()
        wanted = set(before.keys) - set([key])
        if self.module.check_mode:
            return self.result(True, before, before.primary, wanted, before.primary)
        self.keyring.remove(key)
        after = self.keyring.list()
        # Nomad refuses to remove a primary key, so the primary did not change.
        return self.result(True, after, after.primary or before.primary, wanted, before.primary)

    def ensure_primary(self, key, before):
        others = [other for other in before.keys if other != key]
        if before.primary == key:
            return self.unchanged()
        self.check_servers()
        remove_others = self.params['remove_others']
        wanted = set([key]) if remove_others else set(before.keys) | set([key])
        if self.module.check_mode:
            return self.result(True, before, before.primary, wanted, key)
        if not before.on_all(key):
            self.install_everywhere(key)
        self.keyring.use(key)
        if remove_others:
            for other in sorted(others, key=fingerprint):
                self.keyring.remove(other)
        after = self.keyring.list()
        # 'use' succeeded on every server (Nomad fails the call otherwise), so the key is primary.
        return self.result(True, after, key, wanted, key)

    def result(self, changed, listing, primary, wanted_keys, wanted_primary):
        """``listing``/``primary``: the keyring to return; the wanted ones are for the diff's after."""
        result = dict(changed=changed, keys=listing.fingerprints(), num_nodes=listing.num_nodes,
                      primary=fingerprint(primary) if primary else None)
        if self.params['key'] is not None:
            result['fingerprint'] = fingerprint(self.params['key'])
        if self.module._diff:
            result['diff'] = dict(before=view(self.before.keys, self.before.primary),
                                  after=view(wanted_keys, wanted_primary))
        return result


def operation(module):
    key = module.params['key']
    try:
        if key is not None:
            key_size(key, 'key')
        module.keyring = Keyring(module.client, warn=module.warn)
        module.keyring.remember(key)
        return Flow(module, module.keyring).run()
    except (GossipKeyError, KeyringError) as exc:
        raise ModuleFailure(str(exc))


def main():
    module = GossipKeyringModule(
        argument_spec=dict(
            key=dict(type='str', no_log=True),
            state=dict(type='str', default='primary', choices=['primary', 'present', 'absent', 'listed']),
            remove_others=dict(type='bool', default=True),
            propagation_timeout=dict(type='int', default=60),
            servers=dict(type='int', default=0),
        ),
        required_if=[
            ('state', 'primary', ['key']),
            ('state', 'present', ['key']),
            ('state', 'absent', ['key']),
        ],
        supports_check_mode=True,
    )
    module.run(operation)


if __name__ == '__main__':
    main()
