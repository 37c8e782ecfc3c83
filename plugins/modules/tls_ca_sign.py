#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: tls_ca_sign
short_description: Sign a Nomad node's CSR with the cluster CA, issuing only the names that node may have
version_added: 0.2.0
description:
  - Runs where the CA key is, normally the controller (C(delegate_to=localhost)).
  - Signs a certificate signing request made by M(hardened.nomad.tls_node_csr) on a node.
  - The CSR must ask for exactly C(<role>.<region>.nomad), plus C(localhost) and C(127.0.0.1) for
    the V(server) and V(client) roles, plus the O(dns_names) and O(ip_addresses) allowed for this
    request. Anything else (another role's or region's name, a wildcard, any other name or
    address, a missing name) is refused with an error naming the offending entry. This is what
    keeps a client node from obtaining a C(server.<region>.nomad) certificate.
  - The CSR's signature is verified; its subject and any extensions it asks for are ignored. The
    certificate gets CN C(<role>.<region>.nomad), the allowed names, keyUsage digitalSignature and
    keyEncipherment (critical), extendedKeyUsage serverAuth and clientAuth (clientAuth only for
    V(cli)), subject and authority key identifiers and a random serial number.
  - When the CA has name constraints, names outside them are refused too, since clients would
    reject the certificate.
author:
  - hardened.nomad contributors (@hardened-nomad)
requirements:
  - cryptography >= 3.3
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  csr:
    description:
      - The certificate signing request in PEM.
    type: str
    required: true
  ca_cert_path:
    description:
      - Path of the CA certificate.
    type: path
    required: true
  ca_key_path:
    description:
      - Path of the CA private key.
    type: path
    required: true
  role:
    description:
      - The role the certificate is for.
    type: str
    required: true
    choices: [server, client, cli]
  region:
    description:
      - Nomad region, a DNS label (lowercase letters, digits and C(-), 1-63 characters), as the preflight checks C(nomad_region).
    type: str
    default: global
  dns_names:
    description:
      - Extra DNS names this request may carry (for example the node's host name).
    type: list
    elements: str
    default: []
  ip_addresses:
    description:
      - Extra IP addresses this request may carry (for example the node's address).
    type: list
    elements: str
    default: []
  valid_days:
    description:
      - Lifetime of the certificate in days.
    type: int
    default: 365
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
    details: Checks the request and reports C(changed=true) without signing; no RV(certificate). When
      neither CA file exists yet (an earlier task of the run would make the CA), only the request is
      checked, and RV(ca_certificate) is not returned.
  diff_mode:
    support: none
notes:
  - Every successful run signs a new certificate and reports C(changed=true); run it only when
    M(hardened.nomad.tls_node_csr) reports RV(hardened.nomad.tls_node_csr#module:certificate_needed).
seealso:
  - module: hardened.nomad.tls_ca
  - module: hardened.nomad.tls_node_csr
"""

EXAMPLES = r"""
- name: Sign a client node's CSR
  hardened.nomad.tls_ca_sign:
    csr: "{{ nomad_csr.csr }}"
    ca_cert_path: "{{ playbook_dir }}/pki/nomad-agent-ca.pem"
    ca_key_path: "{{ playbook_dir }}/pki/nomad-agent-ca-key.pem"
    role: client
    ip_addresses: ["{{ ansible_default_ipv4.address }}"]
  delegate_to: localhost
  when: nomad_csr.certificate_needed
  register: nomad_cert

- name: Install the certificate on the node
  ansible.builtin.copy:
    content: "{{ nomad_cert.certificate }}"
    dest: /etc/nomad.d/tls/client.pem
    mode: "0644"
  when: nomad_cert is changed
"""

RETURN = r"""
certificate:
  description: The signed certificate in PEM.
  returned: success, not in check mode
  type: str
serial:
  description: Serial number in upper-case hexadecimal.
  returned: success, not in check mode
  type: str
not_after:
  description: Expiry of the certificate, ISO 8601 in UTC.
  returned: success, not in check mode
  type: str
ca_certificate:
  description: The CA certificate in PEM, to install next to the node certificate.
  returned: success, except in check mode before the CA exists
  type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hardened.nomad.plugins.module_utils import _pki


def load_ca(params):
    cert_path = params['ca_cert_path']
    ca_cert, ca_key = _pki.load_ca(cert_path, params['ca_key_path'], 'ca_cert_path', 'ca_key_path')
    if _pki.not_after(ca_cert) <= _pki.utcnow():
        raise _pki.PKIError('the CA certificate %s expired on %s; make a new CA first'
                            % (cert_path, _pki.iso8601(_pki.not_after(ca_cert))))
    return ca_cert, ca_key


def checked_request(params, allowed_dns, allowed_ips):
    """The CSR's public key, once the CSR is proven to ask for exactly the allowed names."""
    csr = _pki.load_csr(params['csr'])
    if not csr.is_signature_valid:
        raise _pki.PKIError('the CSR signature is invalid: it was not made with the key it carries')
    _pki.check_key_strength(csr.public_key(), 'the CSR key')
    requested = _pki.sans_of(csr)
    if not requested:
        raise _pki.PKIError('the CSR asks for no subjectAltName; it must ask for %s' % ', '.join(allowed_dns))
    refusals = [reason for reason in (
        _pki.refusal_reason(kind, value, params['role'], params['region'], allowed_dns, allowed_ips)
        for kind, value in requested) if reason]
    if refusals:
        raise _pki.PKIError('refusing to sign: ' + '; '.join(refusals))
    asked = set((kind, value.lower().rstrip('.') if kind == 'DNS' else value) for kind, value in requested)
    missing = ['DNS:%s' % name for name in allowed_dns if ('DNS', name) not in asked]
    missing += ['IP:%s' % ip for ip in allowed_ips if ('IP', ip) not in asked]
    if missing:
        raise _pki.PKIError('refusing to sign: the CSR lacks %s, which a %s certificate for this request carries '
                            '(make the CSR with the same role, region, dns_names and ip_addresses)'
                            % (', '.join(missing), params['role']))
    return csr.public_key()


def main():
    module = AnsibleModule(
        argument_spec=dict(
            csr=dict(type='str', required=True),
            ca_cert_path=dict(type='path', required=True),
            ca_key_path=dict(type='path', required=True, no_log=False),
            role=dict(type='str', required=True, choices=list(_pki.ROLES)),
            region=dict(type='str', default='global'),
            dns_names=dict(type='list', elements='str', default=[]),
            ip_addresses=dict(type='list', elements='str', default=[]),
            valid_days=dict(type='int', default=365),
        ),
        supports_check_mode=True,
    )
    _pki.require_cryptography(module)

    params = module.params
    try:
        if params['valid_days'] < 1:
            raise _pki.PKIError('valid_days must be at least 1')
        common_name = _pki.role_name(params['role'], params['region'])
        allowed_dns, allowed_ips = _pki.allowed_names(params['role'], params['region'],
                                                      params['dns_names'], params['ip_addresses'])
        if module.check_mode and not any(os.path.exists(params[path]) for path in ('ca_cert_path', 'ca_key_path')):
            checked_request(params, allowed_dns, allowed_ips)
            module.exit_json(changed=True, msg='check mode: there is no CA in %s yet (an earlier task of this run '
                                               'makes it); the request was checked and would be signed'
                                               % params['ca_cert_path'])
        ca_cert, ca_key = load_ca(params)
        public_key = checked_request(params, allowed_dns, allowed_ips)
        outside = _pki.name_constraint_violations(ca_cert, allowed_dns, allowed_ips)
        if outside:
            raise _pki.PKIError('refusing to sign: %s lie outside the name constraints of the CA %s, so Nomad would '
                                'reject the certificate' % (', '.join(outside), params['ca_cert_path']))
        ca_pem = _pki.certificate_pem(ca_cert).decode('ascii')
        if module.check_mode:
            module.exit_json(changed=True, ca_certificate=ca_pem)
        cert = _pki.sign_leaf(ca_cert, ca_key, public_key, common_name, allowed_dns, allowed_ips,
                              params['valid_days'], server_auth=params['role'] != 'cli')
    except _pki.ERRORS as exc:
        module.fail_json(msg=str(exc))
    if _pki.not_after(cert) > _pki.not_after(ca_cert):
        module.warn('the certificate outlives its CA (the CA expires on %s); it stops being trusted then'
                    % _pki.iso8601(_pki.not_after(ca_cert)))
    module.exit_json(changed=True, certificate=_pki.certificate_pem(cert).decode('ascii'),
                     serial=_pki.serial_hex(cert), not_after=_pki.iso8601(_pki.not_after(cert)),
                     ca_certificate=ca_pem)


if __name__ == '__main__':
    main()
