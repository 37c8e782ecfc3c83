#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: acl_bootstrap
short_description: Bootstrap Nomad's ACL system idempotently, or reset the bootstrap on the leader
version_added: 0.2.0
description:
  - With O(state=present), waits for the cluster to elect a leader, then bootstraps the ACL system
    with C(POST /v1/acl/bootstrap) and returns the initial management token.
  - With O(bootstrap_secret) the run is idempotent. When Nomad answers that the bootstrap is
    already done, the module checks that the secret is a valid management token and then
    reports C(changed=false).
  - When the bootstrap is done and the secret is not (or no longer) a management token, the module
    fails with the reset index and how to reset the bootstrap.
  - With O(state=reset), run B(on the leader), the module makes a new management token when the
    stored one (O(stored_secret)) is lost or no longer works. It reads the reset index from
    Nomad's answer to a bootstrap, writes it to C(<data_dir>/server/acl-bootstrap-reset) (0600,
    owned like C(<data_dir>/server), that is by the agent's user), bootstraps again with
    O(bootstrap_secret), removes the reset file (also when the bootstrap fails) and checks that the
    new secret works.
  - O(state=reset) does nothing while O(stored_secret) is a working management token, unless
    O(force=true). A O(bootstrap_secret) that already is a management token (an interrupted run
    bootstrapped with it) is returned as it is, so keep the new secret before the first call and
    pass the same one until it is stored.
author:
  - hardened.nomad contributors (@hardened-nomad)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - hardened.nomad.connection
options:
  state:
    description:
      - V(present) bootstraps once; V(reset) resets the bootstrap on the leader (see above).
    type: str
    default: present
    choices: [present, reset]
  bootstrap_secret:
    description:
      - The secret ID the management token gets, a UUID such as the output of C(uuidgen).
      - Keep it in a vault. Without it a random UUID is used, which only works for the very first
        run; later runs then fail since they cannot prove the bootstrap was theirs.
      - With O(state=reset), the new secret; required unless the module runs in check mode.
    type: str
  stored_secret:
    description:
      - With O(state=reset), the management secret held now (for example
        C(tokens/management.token)). While it is a working management token nothing is reset.
    type: str
  force:
    description:
      - With O(state=reset), reset even though O(stored_secret) works.
    type: bool
    default: false
  leader:
    description:
      - With O(state=reset), the leader's RPC address as looked up before (for example
        RV(hardened.nomad.agent_health#module:leader)). The reset fails before writing anything when the
        agent's leader differs, since the reset file works only on the leader.
    type: str
  leader_timeout:
    description:
      - Seconds to wait for a cluster leader before bootstrapping.
    type: int
    default: 60
  verify_timeout:
    description:
      - With O(state=reset), seconds to wait for the new secret to work.
    type: int
    default: 10
  data_dir:
    description:
      - The servers' C(data_dir). With O(state=present) only used to word the reset instructions in
        error messages; with O(state=reset) required, the reset file goes below it.
    type: path
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
    details: Does not POST nor write the reset file. With O(bootstrap_secret), a secret that already is a
      management token means C(changed=false); otherwise the bootstrap is predicted (C(changed=true)). With
      O(state=reset) the result says whether a reset (or the storing of a pending secret) is needed.
      When O(ca_file), O(client_cert) or O(client_key) does not exist yet (on hosts never converged, check
      mode did not install them), Nomad is not called and the bootstrap is predicted.
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
  - module: hardened.nomad.acl_token_rotate
  - module: hardened.nomad.agent_health
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

- name: Reset the bootstrap on the leader when the stored management token is lost
  hardened.nomad.acl_bootstrap:
    state: reset
    stored_secret: "{{ lookup('file', 'secrets/tokens/management.token', errors='ignore') }}"
    bootstrap_secret: "{{ lookup('file', 'secrets/acl-bootstrap.secret.next') }}"
    leader: "{{ health.leader }}"
    data_dir: /opt/nomad/data
  delegate_to: "{{ leader_host }}"
  run_once: true
  no_log: true
"""

RETURN = r"""
accessor_id:
  description: Accessor ID of the management token (with O(state=reset) and nothing to do, of the stored one).
  returned: success, not in check mode unless the bootstrap was already done
  type: str
secret_id:
  description: Secret ID of the management token. Use C(no_log) on the task.
  returned: success, not in check mode unless the bootstrap was already done; with O(state=reset) when a new token is returned
  type: str
reset_index:
  description: The index that a bootstrap reset needs (see the module description).
  returned: when known
  type: int
reset:
  description: With O(state=reset), whether a bootstrap was (or, in check mode, would be) made.
  returned: with O(state=reset)
  type: bool
leader:
  description: Address of the cluster leader found.
  returned: success with O(state=present); with O(state=reset) when a bootstrap was made
  type: str
"""

from ansible_collections.hardened.nomad.plugins.module_utils._acl import BootstrapReset, bootstrap, check_bootstrap_secret
from ansible_collections.hardened.nomad.plugins.module_utils._module import NomadModule


def operation(module):
    secret = module.params['bootstrap_secret']
    pending = module.pending_connection_files()
    if pending and module.params['state'] == 'present':
        # Check mode on hosts never converged: the new cluster gets bootstrapped. The secret file an
        # earlier task writes is missing too then (an empty secret), so only a given secret is checked.
        check_bootstrap_secret(secret or None)
        return dict(changed=True, msg=module.prediction_note(pending))
    check_bootstrap_secret(secret)
    if module.params['state'] == 'reset':
        return BootstrapReset(module).run()
    return bootstrap(module)


def main():
    module = NomadModule(
        argument_spec=dict(
            state=dict(type='str', default='present', choices=['present', 'reset']),
            bootstrap_secret=dict(type='str', no_log=True),
            stored_secret=dict(type='str', no_log=True),
            force=dict(type='bool', default=False),
            leader=dict(type='str'),
            leader_timeout=dict(type='int', default=60),
            verify_timeout=dict(type='int', default=10),
            data_dir=dict(type='path'),
        ),
        supports_check_mode=True,
    )
    module.run(operation)


if __name__ == '__main__':
    main()
