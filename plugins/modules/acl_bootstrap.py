#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: acl_bootstrap
short_description: Bootstrap Nomad's ACL system, idempotently
version_added: 1.0.0
description:
  - Waits for the cluster to elect a leader, then bootstraps the ACL system with
    C(POST /v1/acl/bootstrap) and returns the initial management token.
  - With O(bootstrap_secret) the run is idempotent. When Nomad answers that the bootstrap is
    already done, the module checks that the secret is a valid management token and then
    reports C(changed=false).
  - When the bootstrap is done and the secret is not (or no longer) a management token, the module
    fails with the reset index and how to reset the bootstrap.
author:
  - hardened.nomad contributors (@hardened-nomad)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - hardened.nomad.connection
options:
  bootstrap_secret:
    description:
      - The secret ID the management token gets, a UUID such as the output of C(uuidgen).
      - Keep it in a vault. Without it a random UUID is used, which only works for the very first
        run; later runs then fail since they cannot prove the bootstrap was theirs.
    type: str
  leader_timeout:
    description:
      - Seconds to wait for a cluster leader before bootstrapping.
    type: int
    default: 60
  data_dir:
    description:
      - The servers' C(data_dir), only used to word the reset instructions in error messages.
    type: path
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
    details: Does not POST. With O(bootstrap_secret), a secret that already is a management token
      means C(changed=false); otherwise the bootstrap is predicted (C(changed=true)).
  diff_mode:
    support: none
notes:
  - The O(token) option is not used; the bootstrap needs no token.
  - Use C(no_log=true) on the task, above all when no O(bootstrap_secret) is given, since
    RV(secret_id) is then the only copy of the management secret.
  - When O(bootstrap_secret) is given, Ansible masks RV(secret_id) in the output because it equals
    a C(no_log) value; use your own variable.
seealso:
  - module: hardened.nomad.acl_policy
  - module: hardened.nomad.acl_token
"""

EXAMPLES = r"""
- name: Bootstrap ACLs with a secret kept in the vault
  hardened.nomad.acl_bootstrap:
    address: https://127.0.0.1:4646
    ca_file: /etc/nomad.d/tls/nomad-agent-ca.pem
    client_cert: /etc/nomad.d/tls/cli.pem
    client_key: /etc/nomad.d/tls/cli-key.pem
    bootstrap_secret: "{{ vault_nomad_bootstrap_secret }}"
    data_dir: /opt/nomad/data
  run_once: true
  no_log: true
"""

RETURN = r"""
accessor_id:
  description: Accessor ID of the management token.
  returned: success, not in check mode unless the bootstrap was already done
  type: str
secret_id:
  description: Secret ID of the management token. Use C(no_log) on the task.
  returned: success, not in check mode unless the bootstrap was already done
  type: str
reset_index:
  description: The index that a bootstrap reset needs (see the module description).
  returned: when known
  type: int
leader:
  description: Address of the cluster leader found.
  returned: success
  type: str
"""

import re
import uuid

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hardened.nomad.plugins.module_utils._api import (
    NOMAD_CONNECTION_SPEC, NomadClient, NomadError)

UUID_RE = re.compile(r'^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')
RESET_INDEX_RE = re.compile(r'reset index: (\d+)')


class BootstrapError(Exception):
    pass


def acl_disabled_error(exc):
    return BootstrapError('ACLs are disabled on the Nomad agent at the address (%s): set acl { enabled = true } '
                          'on every server and client and restart them' % exc.message)


def management_token(client, secret):
    """The token for this secret when it is a management token, else None."""
    try:
        token = client.get('/v1/acl/token/self', token=secret)
    except NomadError as exc:
        if 'ACL support disabled' in (exc.body or ''):
            raise acl_disabled_error(exc)
        if exc.status in (403, 404):
            return None
        raise
    if isinstance(token, dict) and token.get('Type') == 'management':
        return token
    return None


def reset_instructions(index, data_dir):
    return ('To bootstrap again, write %s to %s/server/acl-bootstrap-reset on the leader, run the bootstrap again, '
            'then delete that file' % (index, data_dir or '<data_dir>'))


def bootstrap(module, client):
    params = module.params
    secret = params['bootstrap_secret']
    leader = client.wait_for_leader(params['leader_timeout'])
    result = dict(leader=leader)

    if secret is not None:
        token = management_token(client, secret)
        if token is not None:
            result.update(changed=False, accessor_id=token['AccessorID'], secret_id=token['SecretID'])
            return result
    if module.check_mode:
        result['changed'] = True
        return result

    body = dict(BootstrapSecret=secret or str(uuid.uuid4()))
    try:
        token = client.post('/v1/acl/bootstrap', body=body)
    except NomadError as exc:
        text = exc.body or exc.message
        if 'ACL support disabled' in text:
            raise acl_disabled_error(exc)
        match = RESET_INDEX_RE.search(text)
        if exc.status != 400 or not match:
            raise
        index = int(match.group(1))
        if 'Invalid bootstrap reset index' in text:
            raise BootstrapError('the acl-bootstrap-reset file on the leader holds the wrong index (%s). %s'
                                 % (text, reset_instructions(index, params['data_dir'])))
        if secret is None:
            reason = 'no bootstrap_secret was given, so this run cannot prove the bootstrap was its own'
        else:
            # Another run may have bootstrapped with this very secret since the check above.
            token = management_token(client, secret)
            if token is not None:
                result.update(changed=False, accessor_id=token['AccessorID'], secret_id=token['SecretID'],
                              reset_index=index)
                return result
            reason = 'the given bootstrap_secret is not a valid management token'
        raise BootstrapError('the ACL bootstrap was already done (reset index: %d) and %s. %s'
                             % (index, reason, reset_instructions(index, params['data_dir'])))
    result.update(changed=True, accessor_id=token['AccessorID'], secret_id=token['SecretID'])
    # The reset index of a bootstrap is the Raft index that wrote its token.
    if token.get('CreateIndex'):
        result['reset_index'] = token['CreateIndex']
    return result


def main():
    argument_spec = dict(NOMAD_CONNECTION_SPEC)
    argument_spec.update(
        bootstrap_secret=dict(type='str', no_log=True),
        leader_timeout=dict(type='int', default=60),
        data_dir=dict(type='path'),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    secret = module.params['bootstrap_secret']
    if secret is not None and not UUID_RE.match(secret):
        # Say what is wrong without echoing the secret.
        module.fail_json(msg='bootstrap_secret must be a UUID like 9f7c2a51-6b2e-4f0b-9d1e-3c5a7b8d0e4f '
                             '(got %d characters that are not one)' % len(secret))
    try:
        client = NomadClient.from_params(module.params)
        result = bootstrap(module, client)
    except (BootstrapError, NomadError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
