#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: acl_token
short_description: Manage a Nomad ACL token, found by its name
version_added: 1.0.0
description:
  - Creates, updates or deletes a Nomad ACL token through the HTTP API.
  - Nomad identifies tokens by accessor ID only; this module finds the token by its O(name).
    Token names must therefore be unique. Two tokens with the same name are an error that lists
    their accessor IDs.
  - The policies of an existing token are updated in place; its secret stays the same.
  - Nomad cannot change the global flag or the expiration of an existing token. It could change
    the type, but this module treats it as fixed too, so that a secret already handed out never
    silently gains or loses management rights. A change of any of these three is an error unless
    O(recreate=true), which deletes the token and makes a new one with a new secret.
  - A token whose expiration time has passed is always made anew.
  - The secret of new and existing tokens is returned as RV(secret_id), read from the API.
    Use C(no_log=true) on the task.
author:
  - hardened.nomad contributors (@hardened-nomad)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - hardened.nomad.connection
options:
  name:
    description:
      - Name of the token, unique among all tokens.
    type: str
    required: true
  type:
    description:
      - V(client) tokens get their rights from O(policies); V(management) tokens may do anything.
    type: str
    default: client
    choices: [client, management]
  policies:
    description:
      - Names of the ACL policies of a V(client) token (at least one). Must be empty for a
        V(management) token.
    type: list
    elements: str
    default: []
  global:
    description:
      - Whether the token is replicated to all regions.
    type: bool
    default: false
  expiration_ttl:
    description:
      - Lifetime of a new token as a Go duration, for example V(720h) or V(1h30m). Without it the
        token does not expire. Nomad bounds it by the agents' C(acl.token_min_expiration_ttl) and
        C(acl.token_max_expiration_ttl).
    type: str
  recreate:
    description:
      - Allow deleting and recreating the token when its type, global flag or expiration must
        change. The old secret stops working.
    type: bool
    default: false
  state:
    description:
      - Whether the token exists.
    type: str
    default: present
    choices: [present, absent]
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
  diff_mode:
    support: full
    details: Shows name, type, policies, global and expiration_ttl, never the secret.
notes:
  - The O(token) option is the token used to call Nomad (it needs C(acl:write), in practice a
    management token); O(name) is the token being managed.
seealso:
  - module: hardened.nomad.acl_policy
  - module: hardened.nomad.acl_bootstrap
"""

EXAMPLES = r"""
- name: Token for the monitoring system
  hardened.nomad.acl_token:
    ca_file: /etc/nomad.d/tls/nomad-agent-ca.pem
    client_cert: /etc/nomad.d/tls/cli.pem
    client_key: /etc/nomad.d/tls/cli-key.pem
    token: "{{ nomad_management_token }}"
    name: prometheus
    policies: [readonly]
  no_log: true
  register: prometheus_token

- name: Short-lived management token for a maintenance window
  hardened.nomad.acl_token:
    token: "{{ nomad_management_token }}"
    name: maintenance
    type: management
    expiration_ttl: 8h
  no_log: true

- name: Remove a token
  hardened.nomad.acl_token:
    token: "{{ nomad_management_token }}"
    name: old-ci
    state: absent
"""

RETURN = r"""
accessor_id:
  description: Accessor ID of the token (of the deleted token with O(state=absent)).
  returned: when the token exists or was deleted
  type: str
secret_id:
  description: The token's secret. Use C(no_log) on the task.
  returned: when the token exists after the run (not in check mode before it is created)
  type: str
token:
  description: The token as Nomad has it, without C(SecretID).
  returned: when the token exists after the run (not in check mode before it is created)
  type: dict
  sample:
    AccessorID: 5d3bd6bf-0a7f-4c66-9a2e-8f7d1e7cbd3a
    Name: prometheus
    Type: client
    Policies: [readonly]
    Global: false
    ExpirationTTL: ""
"""

import datetime
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hardened.nomad.plugins.module_utils._acl import (
    ACLObjectError, NomadACLObject, module_argument_spec)
from ansible_collections.hardened.nomad.plugins.module_utils._api import path_quote

IMMUTABLE_FIELDS = ('type', 'global', 'expiration_ttl')

_DURATION_UNITS_NS = {'ns': 1, 'us': 10 ** 3, '\u00b5s': 10 ** 3, 'ms': 10 ** 6, 's': 10 ** 9, 'm': 60 * 10 ** 9,
                      'h': 3600 * 10 ** 9}
_DURATION_RE = re.compile(r'^(\d+(?:\.\d+)?(?:ns|us|\u00b5s|ms|s|m|h))+$')
_DURATION_PART_RE = re.compile(r'(\d+(?:\.\d+)?)(ns|us|\u00b5s|ms|s|m|h)')
_TIME_RE = re.compile(r'^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d+)?(Z|[+-]\d\d:\d\d)$')


def duration_ns(text):
    """Nanoseconds of a Go duration ("720h", "1h30m"); 0 for empty. ValueError when malformed."""
    if text in (None, '', '0', '0s'):
        return 0
    if isinstance(text, (int, float)):
        return int(text)
    if not _DURATION_RE.match(text):
        raise ValueError(text)
    return int(sum(float(number) * _DURATION_UNITS_NS[unit] for number, unit in _DURATION_PART_RE.findall(text)))


def go_duration(ns):
    """Go's Duration.String() for whole seconds ("720h0m0s"); None for no expiration."""
    if not ns:
        return None
    if ns % 10 ** 9:
        return '%dns' % ns
    seconds = ns // 10 ** 9
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return '%dh%dm%ds' % (hours, minutes, seconds)
    if minutes:
        return '%dm%ds' % (minutes, seconds)
    return '%ds' % seconds


def parse_time(text):
    """An aware datetime from Nomad's RFC 3339 time, or None for none / Go's zero time."""
    match = _TIME_RE.match(text or '')
    if not match:
        return None
    moment = datetime.datetime.strptime(match.group(1), '%Y-%m-%dT%H:%M:%S')
    if moment.year <= 1:
        return None
    zone = match.group(2)
    offset = datetime.timedelta(0)
    if zone != 'Z':
        sign = 1 if zone[0] == '+' else -1
        offset = sign * datetime.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    return moment.replace(tzinfo=datetime.timezone(offset))


def is_expired(token, now=None):
    expires = parse_time(token.get('ExpirationTime'))
    return expires is not None and expires <= (now or datetime.datetime.now(datetime.timezone.utc))


class ACLToken(NomadACLObject):
    def validate(self):
        params = self.params
        if not params['name'].strip():
            raise ACLObjectError('name must not be empty')
        if params['state'] == 'absent':
            return
        if params['type'] == 'client' and not params['policies']:
            raise ACLObjectError('policies are required for a client token')
        if params['type'] == 'management' and params['policies']:
            raise ACLObjectError('policies must be empty for a management token (it may do anything)')
        try:
            duration_ns(params['expiration_ttl'])
        except ValueError:
            raise ACLObjectError('expiration_ttl %r is not a Go duration like "720h" or "1h30m"'
                                 % params['expiration_ttl'])

    def read(self):
        stubs = self.client.get('/v1/acl/tokens') or []
        matches = [stub for stub in stubs if stub.get('Name') == self.params['name']]
        if not matches:
            return None
        if len(matches) > 1:
            raise ACLObjectError('%d tokens are named %s (accessor IDs: %s); names must be unique for this module. '
                                 'Delete or rename all but one'
                                 % (len(matches), self.params['name'],
                                    ', '.join(stub['AccessorID'] for stub in matches)))
        return self.client.get('/v1/acl/token/' + path_quote(matches[0]['AccessorID']))

    def create(self):
        body = dict(Name=self.params['name'], Type=self.params['type'], Policies=self.params['policies'],
                    Global=self.params['global'])
        if self.params['expiration_ttl']:
            body['ExpirationTTL'] = self.params['expiration_ttl']
        return self.client.post('/v1/acl/token', body=body)

    def update(self, existing):
        if self.immutable_changes(existing) or is_expired(existing):
            self.delete(existing)
            return self.create()
        body = dict(AccessorID=existing['AccessorID'], Name=existing['Name'], Type=existing['Type'],
                    Policies=self.params['policies'], Global=existing.get('Global', False),
                    # Keep role links made outside this module; Nomad would drop them otherwise.
                    Roles=[dict(ID=role['ID']) for role in existing.get('Roles') or []])
        if existing.get('ExpirationTTL') or existing.get('ExpirationTime'):
            # Nomad refuses an update that does not repeat the token's expiration unchanged.
            body.update(ExpirationTTL=existing.get('ExpirationTTL'), ExpirationTime=existing.get('ExpirationTime'))
        return self.client.post('/v1/acl/token/' + path_quote(existing['AccessorID']), body=body)

    def delete(self, existing):
        self.client.delete('/v1/acl/token/' + path_quote(existing['AccessorID']))

    def view(self, obj):
        return dict(name=obj.get('Name'), type=obj.get('Type'), policies=sorted(obj.get('Policies') or []),
                    **{'global': bool(obj.get('Global')),
                       'expiration_ttl': go_duration(duration_ns(obj.get('ExpirationTTL')))})

    def wanted_view(self):
        params = self.params
        return dict(name=params['name'], type=params['type'], policies=sorted(set(params['policies'])),
                    **{'global': params['global'],
                       'expiration_ttl': go_duration(duration_ns(params['expiration_ttl']))})

    def immutable_changes(self, existing):
        have, want = self.view(existing), self.wanted_view()
        return ['%s from %s to %s' % (field, have[field], want[field])
                for field in IMMUTABLE_FIELDS if have[field] != want[field]]

    def needs_update(self, existing):
        return super().needs_update(existing) or is_expired(existing)

    def check_update_allowed(self, existing):
        changes = self.immutable_changes(existing)
        if changes and not self.params['recreate'] and not is_expired(existing):
            # Nomad cannot change global or expiration in place; a type change in place would give a
            # secret already handed out other rights, so the module does not do that either.
            raise ACLObjectError('token %s (accessor %s) would change %s, which cannot be changed in place. '
                                 'Set recreate: true to delete it and make a new token (with a new secret)'
                                 % (self.params['name'], existing['AccessorID'], ', '.join(changes)))

    def result(self, obj):
        token = dict((key, value) for key, value in obj.items() if key != 'SecretID')
        return dict(accessor_id=obj.get('AccessorID'), secret_id=obj.get('SecretID'), token=token)

    def gone_result(self, gone):
        return dict(accessor_id=gone.get('AccessorID'))


def main():
    module = AnsibleModule(
        argument_spec=module_argument_spec(dict(
            name=dict(type='str', required=True),
            type=dict(type='str', default='client', choices=['client', 'management']),
            policies=dict(type='list', elements='str', default=[]),
            expiration_ttl=dict(type='str'),
            recreate=dict(type='bool', default=False),
            **{'global': dict(type='bool', default=False)}
        )),
        supports_check_mode=True,
    )
    ACLToken(module).run()


if __name__ == '__main__':
    main()
