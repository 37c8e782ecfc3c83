#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: gossip_keyring
short_description: Manage the gossip (Serf) encryption keyring of the Nomad servers
version_added: 1.0.0
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

import copy
import re
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hardened.nomad.plugins.module_utils._api import (
    NOMAD_CONNECTION_SPEC, NomadClient, NomadError)
from ansible_collections.hardened.nomad.plugins.module_utils._gossip import GossipKeyError, fingerprint, key_size

POLL_INTERVAL = 1.0
KEYRING_PATH = '/v1/agent/keyring/'
# Serf's answers when not every server took part (Nomad passes only this text on, with HTTP 500).
NOT_ALL_ANSWERED_RE = re.compile(r'^(\d+)/(\d+) nodes reported success$')
SOME_FAILED_RE = re.compile(r'^(\d+)/(\d+) nodes reported failure$')
AGENT_WRITE_HINT = ('the gossip keyring API (listing too) needs a token with agent:write: a management token or a '
                    'policy with agent { policy = "write" }')

# Indirections so that tests can run the waiting without waiting.
_clock = time.monotonic
_sleep = time.sleep


class KeyringError(Exception):
    """A failure worth a clear message. Never carries a key, only fingerprints."""


class NotAllAnswered(KeyringError):
    """Some servers did not answer a keyring request in time; trying again may work."""


class Keyring:
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


def view(keys, primary):
    """What the diff shows: fingerprints only."""
    return dict(keys=sorted(fingerprint(key) for key in keys), primary=fingerprint(primary) if primary else None)


class GossipKeyring:
    def __init__(self, module, client=None):
        self.module = module
        self.params = module.params
        self.client = client
        self.before = None
        # Every key seen, so that no message can ever carry one.
        self.secrets = set()
        if self.params['key']:
            self.secrets.add(self.params['key'])

    # -- messages ----------------------------------------------------------------------------

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
            reason = {
                'list': 'is gossip encryption enabled? Servers only have a keyring when server.encrypt was set '
                        'before their first start',
                'install': 'is gossip encryption enabled on every server, and can each write its '
                           '<data_dir>/server/serf.keyring?',
                'use': 'the key is missing on those servers',
                'remove': 'it is their primary key, which Nomad never removes: make another key primary first '
                          '(state=primary)',
            }[op]
            return KeyringError('%s of %s servers refused to %s %s (Nomad: %s): %s'
                                % (failed.group(1), failed.group(2), op, what, body, reason))
        not_all = NOT_ALL_ANSWERED_RE.match(body)
        if not_all:
            return NotAllAnswered('only %s of %s servers answered the %s request for %s in time (Nomad: %s): a '
                                  'server is down, slow or cut off from gossip. Bring every server up before changing '
                                  'the keyring, then run again' % (not_all.group(1), not_all.group(2), op, what, body))
        return KeyringError(exc.message)

    # -- API -----------------------------------------------------------------------------------

    def call(self, op, key=None):
        try:
            if op == 'list':
                return self.client.get(KEYRING_PATH + op)
            return self.client.put(KEYRING_PATH + op, body=None if key is None else dict(Key=key))
        except NomadError as exc:
            raise self.explain(exc, op, key)

    def list(self):
        ring = Keyring(self.call('list'))
        self.secrets.update(ring.keys)
        for node, message in sorted(ring.messages.items()):
            self.module.warn(self.scrub('server %s: %s' % (node, message)))
        return ring

    def install_everywhere(self, key):
        """Install the key and wait until every server reports it; sends the install again meanwhile."""
        timeout = self.params['propagation_timeout']
        deadline = _clock() + timeout
        last = ''
        while True:
            try:
                self.call('install', key)
                ring = self.list()
                if ring.on_all(key):
                    return ring
                last = 'on %d of %d servers' % (ring.count(key), ring.num_nodes)
            except NotAllAnswered as exc:
                # A server that did not answer in time may still get the key: keep trying.
                last = str(exc)
            if _clock() >= deadline:
                raise KeyringError('key %s did not reach every server within %s seconds (propagation_timeout); last '
                                   'seen: %s. It was not made primary and no key was removed, so gossip keeps '
                                   'working. Check that every server is up and reachable, then run again'
                                   % (fingerprint(key), timeout, last))
            _sleep(POLL_INTERVAL)

    # -- the flow ----------------------------------------------------------------------------

    def run(self):
        params = self.params
        state, key = params['state'], params['key']
        if key is not None:
            key_size(key, 'key')
        if self.client is None:
            self.client = NomadClient.from_params(params)
        before = self.before = self.list()
        if state == 'listed':
            return self.unchanged()
        return getattr(self, 'ensure_' + state)(key, before)

    def unchanged(self):
        return self.result(False, self.before, self.before.primary, set(self.before.keys), self.before.primary)

    def ensure_present(self, key, before):
        if before.on_all(key):
            return self.unchanged()
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
        wanted = set(before.keys) - set([key])
        if self.module.check_mode:
            return self.result(True, before, before.primary, wanted, before.primary)
        self.call('remove', key)
        after = self.list()
        # Nomad refuses to remove a primary key, so the primary did not change.
        return self.result(True, after, after.primary or before.primary, wanted, before.primary)

    def ensure_primary(self, key, before):
        others = [other for other in before.keys if other != key]
        if before.primary == key:
            return self.unchanged()
        remove_others = self.params['remove_others']
        wanted = set([key]) if remove_others else set(before.keys) | set([key])
        if self.module.check_mode:
            return self.result(True, before, before.primary, wanted, key)
        if not before.on_all(key):
            self.install_everywhere(key)
        self.call('use', key)
        if remove_others:
            for other in sorted(others, key=fingerprint):
                self.call('remove', other)
        after = self.list()
        # 'use' succeeded on every server (Nomad fails the call otherwise), so the key is primary.
        return self.result(True, after, key, wanted, key)

    def result(self, changed, ring, primary, wanted_keys, wanted_primary):
        """``ring``/``primary``: the keyring to return; the wanted ones are for the diff's after."""
        result = dict(changed=changed, keys=ring.fingerprints(), num_nodes=ring.num_nodes,
                      primary=fingerprint(primary) if primary else None)
        if self.params['key'] is not None:
            result['fingerprint'] = fingerprint(self.params['key'])
        if self.module._diff:
            result['diff'] = dict(before=view(self.before.keys, self.before.primary),
                                  after=view(wanted_keys, wanted_primary))
        return result


def argument_spec():
    spec = copy.deepcopy(NOMAD_CONNECTION_SPEC)
    spec.update(
        key=dict(type='str', no_log=True),
        state=dict(type='str', default='primary', choices=['primary', 'present', 'absent', 'listed']),
        remove_others=dict(type='bool', default=True),
        propagation_timeout=dict(type='int', default=60),
    )
    return spec


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        required_if=[
            ('state', 'primary', ['key']),
            ('state', 'present', ['key']),
            ('state', 'absent', ['key']),
        ],
        supports_check_mode=True,
    )
    keyring = GossipKeyring(module)
    try:
        result = keyring.run()
    except (GossipKeyError, KeyringError, NomadError) as exc:
        module.fail_json(msg=keyring.scrub(str(exc)))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
