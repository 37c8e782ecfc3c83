#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: acl_token
short_description: Manage a Nomad ACL token, found by its name
version_added: 0.2.0
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
    details: When O(ca_file), O(client_cert) or O(client_key) does not exist yet (on hosts never converged,
      check mode did not install them), Nomad is not called and the token is taken as absent (a new cluster has none).
  diff_mode:
    support: full
    details: Shows name, type, policies, global and expiration_ttl, never the secret.
notes:
  - The O(token) option is the token used to call Nomad (it needs C(acl:write), in practice a
    management token); O(name) is the token being managed.
seealso:
  - module: hardened.nomad.acl_policy
  - module: hardened.nomad.acl_bootstrap
  - module: hardened.nomad.acl_token_rotate
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
name:
  description: The O(name) of the token.
  returned: when RV(accessor_id) is
  type: str
  sample: prometheus
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

from ansible_collections.hardened.nomad.plugins.module_utils._acl import TOKEN_OPTIONS, ACLToken, acl_object_spec
from ansible_collections.hardened.nomad.plugins.module_utils._module import NomadModule


def main():
    module = NomadModule(argument_spec=acl_object_spec(TOKEN_OPTIONS), supports_check_mode=True)
    ACLToken(module).run()


if __name__ == '__main__':
    main()
