#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: acl_policy
short_description: Manage a Nomad ACL policy
version_added: 0.2.0
description:
  - Creates, updates or deletes a Nomad ACL policy through the HTTP API.
  - The description and the rules are compared before writing (trailing white space ignored), so
    a re-run changes nothing.
author:
  - hardened.nomad contributors (@hardened-nomad)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - hardened.nomad.connection
options:
  name:
    description:
      - Name of the policy (letters, digits and C(-), at most 128 characters).
    type: str
    required: true
  description:
    description:
      - Description of the policy.
    type: str
    default: ''
  rules:
    description:
      - The policy rules as HCL or JSON text, for example from C(lookup('file', 'readonly.hcl')).
      - Required when O(state=present).
    type: str
  state:
    description:
      - Whether the policy exists.
    type: str
    default: present
    choices: [present, absent]
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
    details: When O(ca_file), O(client_cert) or O(client_key) does not exist yet (on hosts never converged,
      check mode did not install them), Nomad is not called and the policy is taken as absent (a new cluster has none).
  diff_mode:
    support: full
    details: Shows name, description and rules before and after.
notes:
  - The O(token) needs the C(management) type, or a policy granting C(acl:write).
seealso:
  - module: hardened.nomad.acl_token
"""

EXAMPLES = r"""
- name: Read-only operator policy
  hardened.nomad.acl_policy:
    address: https://127.0.0.1:4646
    ca_file: /etc/nomad.d/tls/nomad-agent-ca.pem
    client_cert: /etc/nomad.d/tls/cli.pem
    client_key: /etc/nomad.d/tls/cli-key.pem
    token: "{{ nomad_management_token }}"
    name: readonly
    description: Read everything, change nothing
    rules: |
      namespace "*" {
        policy = "read"
      }
      node {
        policy = "read"
      }
      agent {
        policy = "read"
      }
      operator {
        policy = "read"
      }

- name: Remove an old policy
  hardened.nomad.acl_policy:
    token: "{{ nomad_management_token }}"
    name: legacy
    state: absent
"""

RETURN = r"""
policy:
  description: The policy as Nomad has it after the run (in check mode, before it).
  returned: when the policy exists
  type: dict
  sample:
    Name: readonly
    Description: Read everything, change nothing
    Rules: 'namespace "*" { policy = "read" }'
    CreateIndex: 12
    ModifyIndex: 14
"""

from ansible_collections.hardened.nomad.plugins.module_utils._acl import NomadACLObject, acl_object_spec
from ansible_collections.hardened.nomad.plugins.module_utils._api import NomadError, path_quote
from ansible_collections.hardened.nomad.plugins.module_utils._inputs import POLICY_NAME_RE
from ansible_collections.hardened.nomad.plugins.module_utils._module import ModuleFailure, NomadModule


def normalize_rules(text):
    """Rules compare equal when they differ only in trailing white space."""
    return '\n'.join(line.rstrip() for line in (text or '').rstrip().splitlines())


class ACLPolicy(NomadACLObject):
    def validate(self):
        if not POLICY_NAME_RE.match(self.params['name']):
            raise ModuleFailure('name %r is not a valid policy name: letters, digits and "-", at most 128'
                                % self.params['name'])
        if self.params['state'] == 'present' and not (self.params['rules'] or '').strip():
            raise ModuleFailure('rules are required when state is present')

    @property
    def path(self):
        return '/v1/acl/policy/' + path_quote(self.params['name'])

    def read(self):
        try:
            return self.client.get(self.path)
        except NomadError as exc:
            if exc.status == 404:
                return None
            raise

    def _write(self):
        self.client.post(self.path, body=dict(Name=self.params['name'], Description=self.params['description'],
                                              Rules=self.params['rules']))
        return self.read()

    def create(self):
        return self._write()

    def update(self, existing):
        return self._write()

    def delete(self, existing):
        self.client.delete(self.path)

    def view(self, obj):
        return dict(name=obj.get('Name'), description=obj.get('Description') or '',
                    rules=normalize_rules(obj.get('Rules')))

    def wanted_view(self):
        return dict(name=self.params['name'], description=self.params['description'] or '',
                    rules=normalize_rules(self.params['rules']))

    def result(self, obj):
        return dict(policy=obj)


def main():
    module = NomadModule(
        argument_spec=acl_object_spec(dict(
            name=dict(type='str', required=True),
            description=dict(type='str', default=''),
            rules=dict(type='str'),
        )),
        supports_check_mode=True,
    )
    ACLPolicy(module).run()


if __name__ == '__main__':
    main()
