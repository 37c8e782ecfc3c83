#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: acl_token_rotate
short_description: Give Nomad ACL tokens new secrets in two steps, never leaving a stored secret that does not work
version_added: 0.2.0
description:
  - A rotation is two calls with the storing of the new secrets in between, so that the stored
    secret works at every moment.
  - O(state=rotated) first checks that O(token) is a working management token, that every name in
    O(names) is a present entry of O(tokens), that token names are unique in Nomad and that every
    policy a token names exists; nothing is changed when a check fails.
  - Then, with O(management=true), a new management token named C(management-<UTC time>) is made
    with the C(global) flag of O(token) and checked to work (RV(management)). The other tokens are
    then made with the new management token.
  - Then, for each chosen entry C(<name>) of O(tokens), the old token C(<name>) is renamed
    C(<name>.retiring) (Nomad keeps its secret, type, policies and expiry, so its holders notice
    nothing), a new token C(<name>) is made like C(hardened.nomad.acl_token) makes it, and checked
    with C(GET /v1/acl/token/self). RV(tokens) returns the new secrets for storing.
  - O(state=finished), called with the new management token once the new secrets are stored,
    deletes each C(<name>.retiring) (only beside exactly one C(<name>)) and checks that its old
    secret is refused. With O(management=true) it deletes every other management token of the
    collection (named C(Bootstrap Token) or C(management-<time>)) and the token of O(old_secret),
    and checks that O(old_secret) is refused. Management tokens of other names are left alone.
  - A run that stops half-way is resumed by the next one. O(state=rotated) keeps a C(<name>) it finds
    beside a C(<name>.retiring) (the new token of the interrupted run) and returns its secret; a new
    management token is made again, and O(state=finished) deletes what was left.
author:
  - hardened.nomad contributors (@hardened-nomad)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - hardened.nomad.connection
options:
  state:
    description:
      - V(rotated) makes and checks the new tokens; V(finished) deletes the old ones.
    type: str
    default: rotated
    choices: [rotated, finished]
  management:
    description:
      - Rotate the management token too (the one given as O(token)).
    type: bool
    default: false
  tokens:
    description:
      - The managed tokens, as in C(hardened.nomad.acl_token) (the acl role's C(nomad_acl_tokens)).
        Entries with O(tokens[].state=absent) are never rotated.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name of the token, unique among all tokens.
        type: str
        required: true
      type:
        description: V(client) or V(management).
        type: str
        default: client
        choices: [client, management]
      policies:
        description: Policies of a V(client) token.
        type: list
        elements: str
        default: []
      global:
        description: Whether the token is replicated to all regions.
        type: bool
        default: false
      expiration_ttl:
        description: Lifetime of the new token as a Go duration, for example V(720h).
        type: str
      recreate:
        description: As in C(hardened.nomad.acl_token), for a C(<name>) left by an interrupted run.
        type: bool
        default: false
      state:
        description: V(absent) entries are skipped.
        type: str
        default: present
        choices: [present, absent]
  names:
    description:
      - Names of the entries of O(tokens) to rotate; a comma-separated string works too. Not set, every
        present entry; empty, none.
    type: list
    elements: str
  old_secret:
    description:
      - With O(state=finished) and O(management=true), the previous management secret. Its token is
        deleted even if it has a name of your own, and the secret is checked to be refused.
    type: str
  verify_timeout:
    description:
      - Seconds to wait for a new secret to work, or an old one to be refused, on this server.
    type: int
    default: 10
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
    details: Makes every check of the real run and predicts the changes; returns no secret.
  diff_mode:
    support: none
notes:
  - O(token) is the management token used for the calls; with O(state=finished) pass the new one.
  - Use C(no_log=true) on O(state=rotated) tasks, whose results hold the new secrets. The failure
    messages never hold a secret; read them from the registered result, or in a C(rescue) from
    C(ansible_failed_result.msg).
seealso:
  - module: hardened.nomad.acl_token
  - module: hardened.nomad.acl_bootstrap
"""

EXAMPLES = r"""
- name: Make and check new tokens (the old ones become <name>.retiring)
  hardened.nomad.acl_token_rotate:
    token: "{{ management_secret }}"
    management: true
    tokens: "{{ nomad_acl_tokens }}"
    names: [readonly, ci]
  register: rotated
  no_log: true

- name: Store the new management secret
  hardened.nomad.text_file:
    path: secrets/tokens/management.token
    content: "{{ rotated.management.secret_id }}\n"
  delegate_to: localhost
  no_log: true

- name: Store the other new secrets
  hardened.nomad.text_file:
    path: "secrets/tokens/{{ item.name }}.token"
    content: "{{ item.secret_id }}\n"
  loop: "{{ rotated.tokens }}"
  delegate_to: localhost
  no_log: true

- name: Delete the old tokens and check their secrets are refused
  hardened.nomad.acl_token_rotate:
    state: finished
    token: "{{ rotated.management.secret_id }}"
    old_secret: "{{ management_secret }}"
    management: true
    tokens: "{{ nomad_acl_tokens }}"
    names: [readonly, ci]
"""

RETURN = r"""
management:
  description: The new management token (O(state=rotated) with O(management=true)).
  returned: O(state=rotated) with O(management=true)
  type: dict
  contains:
    name:
      description: Its name, C(management-<UTC time>).
      type: str
      sample: management-20260822T101530Z
    accessor_id:
      description: Its accessor ID (not in check mode).
      type: str
    secret_id:
      description: Its secret, to store (not in check mode).
      type: str
    old_accessor_id:
      description: Accessor ID of the management token given as O(token).
      type: str
tokens:
  description: One entry per rotated token, in the order of O(tokens).
  returned: O(state=rotated)
  type: list
  elements: dict
  contains:
    name:
      description: The token's name.
      type: str
    changed:
      description: Whether this run renamed or made a token for it.
      type: bool
    accessor_id:
      description: Accessor ID of the new token (not in check mode).
      type: str
    secret_id:
      description: The new secret, to store (not in check mode).
      type: str
    old_accessor_id:
      description: Accessor ID of the old token (now C(<name>.retiring)), if there was one.
      type: str
deleted:
  description: The tokens deleted (in check mode, to be deleted), with C(name) and C(accessor_id).
  returned: O(state=finished)
  type: list
  elements: dict
  sample: [{name: readonly.retiring, accessor_id: 5d3bd6bf-0a7f-4c66-9a2e-8f7d1e7cbd3a}]
"""

from ansible_collections.hardened.nomad.plugins.module_utils._acl import TOKEN_OPTIONS, TokenRotation, acl_object_spec
from ansible_collections.hardened.nomad.plugins.module_utils._module import NomadModule


def operation(module):
    rotation = TokenRotation(module)
    if module.params['state'] == 'finished':
        return rotation.finish()
    return rotation.rotate()


def main():
    token_options = acl_object_spec(TOKEN_OPTIONS)
    module = NomadModule(
        argument_spec=dict(
            state=dict(type='str', default='rotated', choices=['rotated', 'finished']),
            management=dict(type='bool', default=False),
            # Token names and policies, no secrets.
            tokens=dict(type='list', elements='dict', default=[], options=token_options, no_log=False),
            names=dict(type='list', elements='str'),
            old_secret=dict(type='str', no_log=True),
            verify_timeout=dict(type='int', default=10),
        ),
        supports_check_mode=True,
    )
    module.run(operation)


if __name__ == '__main__':
    main()
