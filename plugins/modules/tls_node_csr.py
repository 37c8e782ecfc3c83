#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: tls_node_csr
short_description: Keep a Nomad node's TLS key on the node and say whether its certificate needs (re)issuing
version_added: 0.2.0
description:
  - Runs on the Nomad node. Makes sure the node's private key exists at O(key_path) (ECDSA P-256,
    mode C(0600)); the key never leaves the node.
  - Inspects the current certificate at O(cert_path) and returns a certificate signing request for
    the wanted names together with RV(certificate_needed) and the RV(reasons).
  - The certificate is good only if it exists and parses, belongs to the key, is signed by the
    current CA, carries exactly the wanted names and has more than O(renew_before) days left.
  - Wanted names are C(<role>.<region>.nomad), plus C(localhost) and C(127.0.0.1) for the
    V(server) and V(client) roles, plus O(dns_names) and O(ip_addresses).
  - Sign the CSR with M(hardened.nomad.tls_ca_sign) on the controller.
  - With O(state=promote) it swaps in a rotated pair instead - see O(state).
author:
  - hardened.nomad contributors (@hardened-nomad)
requirements:
  - cryptography >= 3.3
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  state:
    description:
      - V(present) makes sure the key exists and says whether the certificate needs (re)issuing.
      - V(promote) swaps in a rotated pair, made beside the current one as C(<key_path>.next) and
        C(<cert_path>.next) (with O(regenerate=true) on those paths, then signed and installed).
        Once the new certificate is proven to belong to the new key, both are renamed over the
        current files back to back, so no reader sees the new key with the old certificate. Without
        C(<cert_path>.next) nothing happens; a swap stopped between the two renames is finished.
        Only O(key_path) and O(cert_path) are used.
    type: str
    choices: [present, promote]
    default: present
  key_path:
    description:
      - Path of the node's private key. Created when missing; its directory must exist.
    type: path
    required: true
  cert_path:
    description:
      - Path of the node's current certificate. It may be absent.
    type: path
    required: true
  ca_certificate:
    description:
      - PEM text of the CA certificate. With a bundle of several CAs (during a CA rotation) the
        certificate must be signed by the FIRST one, the current CA.
      - With O(state=present) exactly one of O(ca_certificate) and O(ca_path) is required.
    type: str
  ca_path:
    description:
      - Path on the node of the CA certificate (bundle); see O(ca_certificate).
    type: path
  role:
    description:
      - What the certificate is for. V(cli) is an operator's client certificate.
      - Required with O(state=present).
    type: str
    choices: [server, client, cli]
  region:
    description:
      - Nomad region, a DNS label (lowercase letters, digits and C(-), 1-63 characters), as the preflight checks C(nomad_region).
    type: str
    default: global
  dns_names:
    description:
      - Extra DNS names, for example the node's host name. Wildcards and other names under
        C(.nomad) are refused.
    type: list
    elements: str
    default: []
  ip_addresses:
    description:
      - Extra IP addresses, for example the node's advertise address.
    type: list
    elements: str
    default: []
  renew_before:
    description:
      - Ask for a new certificate when the current one has this many days left or fewer.
    type: int
    default: 30
  regenerate:
    description:
      - Make a new private key even though one exists, to rotate it. The certificate then always
        needs reissuing. Install the new certificate and reload Nomad in the same play.
    type: bool
    default: false
  owner:
    description:
      - Owner of the key file, for example V(nomad) on servers.
    type: str
  group:
    description:
      - Group of the key file.
    type: str
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
    details: Writes nothing. When the key does not exist yet (or O(regenerate=true)), returns
      RV(certificate_needed=true) and no RV(csr); the key's directory, O(owner) and O(group) need not
      exist yet (an earlier task of the run makes them). With O(state=promote) it predicts the swap.
  diff_mode:
    support: none
notes:
  - C(changed) reports the key (created, regenerated, owner or mode fixed), never the CSR; a new
    CSR is made on every run since ECDSA signatures are randomized.
seealso:
  - module: hardened.nomad.tls_ca
  - module: hardened.nomad.tls_ca_sign
"""

EXAMPLES = r"""
- name: Node key and CSR
  hardened.nomad.tls_node_csr:
    key_path: /etc/nomad.d/tls/server-key.pem
    cert_path: /etc/nomad.d/tls/server.pem
    ca_certificate: "{{ nomad_ca.certificate }}"
    role: server
    region: global
    dns_names: ["{{ inventory_hostname }}"]
    ip_addresses: ["{{ ansible_default_ipv4.address }}"]
    owner: nomad
    group: nomad
  register: nomad_csr

- name: Sign it on the controller when needed
  hardened.nomad.tls_ca_sign:
    csr: "{{ nomad_csr.csr }}"
    ca_cert_path: "{{ playbook_dir }}/pki/nomad-agent-ca.pem"
    ca_key_path: "{{ playbook_dir }}/pki/nomad-agent-ca-key.pem"
    role: server
    region: global
    dns_names: ["{{ inventory_hostname }}"]
    ip_addresses: ["{{ ansible_default_ipv4.address }}"]
  delegate_to: localhost
  when: nomad_csr.certificate_needed
  register: nomad_cert

- name: Swap in a rotated key and certificate made beside the current ones (*.next)
  hardened.nomad.tls_node_csr:
    state: promote
    key_path: /etc/nomad.d/tls/server-key.pem
    cert_path: /etc/nomad.d/tls/server.pem
"""

RETURN = r"""
csr:
  description: PEM certificate signing request for the wanted names, made with the node's key.
  returned: with O(state=present), when the key exists (not in check mode before the key is made)
  type: str
certificate_needed:
  description: Whether a new certificate must be issued and installed.
  returned: with O(state=present)
  type: bool
reasons:
  description: Short explanations of why a certificate is needed; empty when the current one is good.
  returned: with O(state=present)
  type: list
  elements: str
  sample: ["certificate is missing"]
dns_names:
  description: The DNS names the certificate must carry.
  returned: with O(state=present)
  type: list
  elements: str
ip_addresses:
  description: The IP addresses the certificate must carry.
  returned: with O(state=present)
  type: list
  elements: str
key_created:
  description: Whether the private key was made (or regenerated) by this run.
  returned: with O(state=present)
  type: bool
not_after:
  description: Expiry of the current certificate (ISO 8601, UTC) when it could be read.
  returned: with O(state=present), when the current certificate parses
  type: str
"""

import datetime
import grp
import os
import pwd

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hardened.nomad.plugins.module_utils import _pki
from ansible_collections.hardened.nomad.plugins.module_utils._files import missing_directory, read_file, write_file_atomic


def uid_gid(module):
    """Numeric owner and group for new files (-1 = leave as is), failing clearly on unknown names.

    In check mode an unknown name is taken as -1: an earlier task of the run may only have
    pretended to create the user (check mode writes no key, so none gets an owner).
    """
    uid = gid = -1
    owner, group = module.params['owner'], module.params['group']
    if owner is not None:
        try:
            uid = int(owner) if owner.isdigit() else pwd.getpwnam(owner).pw_uid
        except KeyError:
            if not module.check_mode:
                raise _pki.PKIError('owner %s does not exist on this node' % owner)
    if group is not None:
        try:
            gid = int(group) if group.isdigit() else grp.getgrnam(group).gr_gid
        except KeyError:
            if not module.check_mode:
                raise _pki.PKIError('group %s does not exist on this node' % group)
    return uid, gid


def current_ca(module):
    if module.params['ca_certificate'] is not None:
        return _pki.load_certificates(module.params['ca_certificate'], 'ca_certificate')[0]
    path = module.params['ca_path']
    return _pki.load_certificates(read_file(path), 'ca_path %s' % path)[0]


def certificate_problems(cert_path, key, ca, wanted_dns, wanted_ips, renew_before):
    """(reasons, not_after or None) for the certificate at cert_path."""
    if not os.path.exists(cert_path):
        return ['certificate is missing'], None
    try:
        cert = _pki.load_certificate(read_file(cert_path), cert_path)
    except _pki.ERRORS as exc:
        return ['certificate cannot be read: %s' % exc], None
    reasons = []
    if key is not None and not _pki.key_matches(cert, key):
        reasons.append('certificate does not match the private key')
    if not _pki.signed_by(cert, ca):
        reasons.append('certificate is not signed by the current CA (%s)' % ca.subject.rfc4514_string())
    drift = _pki.san_drift(cert, wanted_dns, wanted_ips)
    if drift:
        reasons.append('certificate names differ: %s' % drift)
    expiry = _pki.not_after(cert)
    remaining = expiry - _pki.utcnow()
    if remaining <= datetime.timedelta(0):
        reasons.append('certificate expired on %s' % _pki.iso8601(expiry))
    elif remaining <= datetime.timedelta(days=renew_before):
        reasons.append('certificate expires in %d days (renew_before is %d)' % (remaining.days, renew_before))
    return reasons, _pki.iso8601(expiry)


def ensure_key(module, key_path, uid, gid):
    """(private key or None in check mode, key_created, changed)."""
    exists = os.path.exists(key_path)
    if exists and not module.params['regenerate']:
        key = _pki.load_private_key(read_file(key_path), 'key_path %s' % key_path)
        changed = module.set_mode_if_different(key_path, '0600', False)
        if module.params['owner'] is not None:
            changed = module.set_owner_if_different(key_path, module.params['owner'], changed)
        if module.params['group'] is not None:
            changed = module.set_group_if_different(key_path, module.params['group'], changed)
        return key, False, changed
    directory = missing_directory(key_path, module.check_mode)
    if directory:
        raise _pki.PKIError('the directory %s of key_path %s does not exist' % (directory, key_path))
    if module.check_mode:
        return None, True, True
    key = _pki.generate_private_key()
    write_file_atomic(key_path, _pki.private_key_pem(key), 0o600, uid, gid)
    return key, True, True


def main():
    module = AnsibleModule(
        argument_spec=dict(
            key_path=dict(type='path', required=True, no_log=False),
            cert_path=dict(type='path', required=True),
            ca_certificate=dict(type='str'),
            ca_path=dict(type='path'),
            state=dict(type='str', default='present', choices=['present', 'promote']),
            role=dict(type='str', choices=list(_pki.ROLES)),
            region=dict(type='str', default='global'),
            dns_names=dict(type='list', elements='str', default=[]),
            ip_addresses=dict(type='list', elements='str', default=[]),
            renew_before=dict(type='int', default=30),
            regenerate=dict(type='bool', default=False),
            owner=dict(type='str'),
            group=dict(type='str'),
        ),
        mutually_exclusive=[('ca_certificate', 'ca_path')],
        required_if=[('state', 'present', ('role',))],
        supports_check_mode=True,
    )
    _pki.require_cryptography(module)

    params = module.params
    if params['state'] == 'promote':
        try:
            changed = _pki.swap_in_next_pair(params['key_path'], params['cert_path'], module.check_mode)
        except _pki.ERRORS as exc:
            module.fail_json(msg=str(exc))
        module.exit_json(changed=changed)
    if params['ca_certificate'] is None and params['ca_path'] is None:
        module.fail_json(msg='one of the following is required with state=present: ca_certificate, ca_path')
    try:
        common_name = _pki.role_name(params['role'], params['region'])
        wanted_dns, wanted_ips = _pki.allowed_names(params['role'], params['region'],
                                                    params['dns_names'], params['ip_addresses'])
        ca = current_ca(module)
        uid, gid = uid_gid(module)
        key, key_created, changed = ensure_key(module, params['key_path'], uid, gid)
        reasons, expiry = certificate_problems(params['cert_path'], key, ca, wanted_dns, wanted_ips,
                                               params['renew_before'])
        if key_created:
            reasons.insert(0, 'private key was regenerated' if params['regenerate'] else 'private key is new')
        result = dict(changed=changed, certificate_needed=bool(reasons), reasons=reasons,
                      dns_names=wanted_dns, ip_addresses=wanted_ips, key_created=key_created)
        if expiry:
            result['not_after'] = expiry
        if key is not None:
            result['csr'] = _pki.build_csr(key, common_name, wanted_dns, wanted_ips).decode('ascii')
    except _pki.ERRORS as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
