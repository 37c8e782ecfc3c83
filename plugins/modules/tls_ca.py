#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: tls_ca
short_description: Create or load the private CA of a Nomad cluster
version_added: 1.0.0
description:
  - Creates a private certificate authority for Nomad's mutual TLS (an ECDSA P-256 key and a
    self-signed certificate), or loads the existing one.
  - An existing CA is never overwritten. When both files exist they are loaded and checked to
    belong together; a mismatch, or only one of the two files present, is an error.
  - Runs where the CA lives, normally the controller (C(delegate_to=localhost), C(run_once=true)).
author:
  - hardened.nomad contributors (@hardened-nomad)
requirements:
  - cryptography >= 3.3
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  key_path:
    description:
      - Path of the CA private key (PEM, PKCS8). Written with mode C(0600).
      - Its directory must exist.
    type: path
    required: true
  cert_path:
    description:
      - Path of the CA certificate (PEM). Written with mode C(0644).
      - Its directory must exist.
    type: path
    required: true
  common_name:
    description:
      - Common name of a new CA. Ignored when the CA exists.
    type: str
    default: Nomad Agent CA
  valid_days:
    description:
      - Lifetime of a new CA in days. Ignored when the CA exists.
    type: int
    default: 1825
  name_constraints:
    description:
      - Whether a new CA carries a critical NameConstraints extension, so that even a certificate it
        signs by mistake cannot be used for names outside the cluster.
      - Permitted DNS subtrees are C(nomad) and C(localhost) plus O(permitted_dns_domains).
      - IP addresses are only constrained when O(permitted_ip_ranges) is given.
      - Every extra node name later put in a certificate must then lie within these subtrees.
    type: bool
    default: true
  permitted_dns_domains:
    description:
      - Further permitted DNS subtrees, for example V(example.com) (which permits example.com and
        all its subdomains) or V(.example.com) (only subdomains).
    type: list
    elements: str
    default: []
  permitted_ip_ranges:
    description:
      - Permitted IP ranges in CIDR notation, for example V(10.0.0.0/8). When given,
        V(127.0.0.0/8) is added so that the loopback addresses of server and client certificates
        stay valid, and every IP address in a certificate must lie in one of the ranges.
    type: list
    elements: str
    default: []
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
    details: Predicts that a missing CA would be created, without writing.
  diff_mode:
    support: none
seealso:
  - module: hardened.nomad.tls_node_csr
  - module: hardened.nomad.tls_ca_sign
"""

EXAMPLES = r"""
- name: Create the cluster CA on the controller (or load it)
  hardened.nomad.tls_ca:
    key_path: "{{ playbook_dir }}/pki/nomad-agent-ca-key.pem"
    cert_path: "{{ playbook_dir }}/pki/nomad-agent-ca.pem"
    permitted_dns_domains:
      - nodes.example.com
  delegate_to: localhost
  run_once: true
  register: nomad_ca

- name: CA without name constraints, valid for ten years
  hardened.nomad.tls_ca:
    key_path: /srv/pki/ca-key.pem
    cert_path: /srv/pki/ca.pem
    name_constraints: false
    valid_days: 3650
"""

RETURN = r"""
certificate:
  description: The CA certificate in PEM. Not returned in check mode when the CA would be created.
  returned: success
  type: str
not_after:
  description: Expiry of the CA certificate, ISO 8601 in UTC.
  returned: success
  type: str
  sample: "2031-05-01T10:00:00Z"
serial:
  description: Serial number in upper-case hexadecimal.
  returned: success
  type: str
fingerprint_sha256:
  description: SHA-256 fingerprint of the certificate, colon separated.
  returned: success
  type: str
created:
  description: Whether a new CA was made (or, in check mode, would be).
  returned: always
  type: bool
"""

import ipaddress
import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.hardened.nomad.plugins.module_utils import _pki


def ca_facts(cert):
    return dict(
        certificate=_pki.certificate_pem(cert).decode('ascii'),
        not_after=_pki.iso8601(_pki.not_after(cert)),
        serial=_pki.serial_hex(cert),
        fingerprint_sha256=_pki.fingerprint_sha256(cert),
    )


def load_existing_ca(module, key_path, cert_path):
    cert = _pki.load_certificate(_pki.read_file(cert_path), 'cert_path %s' % cert_path)
    key = _pki.load_private_key(_pki.read_file(key_path), 'key_path %s' % key_path)
    if not _pki.key_matches(cert, key):
        raise _pki.PKIError('the CA key in key_path %s does not belong to the certificate in cert_path %s; '
                            'refusing to touch either' % (key_path, cert_path))
    if not _pki.is_ca(cert):
        raise _pki.PKIError('cert_path %s is not a CA certificate (basicConstraints CA:true is missing)' % cert_path)
    if _pki.not_after(cert) < _pki.utcnow():
        module.warn('the CA certificate in %s expired on %s; no certificate it signs is trusted any more'
                    % (cert_path, _pki.iso8601(_pki.not_after(cert))))
    # A CA key must stay private even if someone loosened its mode by hand.
    return cert, module.set_mode_if_different(key_path, '0600', False)


def constraint_lists(params):
    """(dns domains, ip networks) for the NameConstraints extension, or (None, None) without one."""
    if not params['name_constraints']:
        return None, None
    domains = ['nomad', 'localhost']
    for domain in params['permitted_dns_domains']:
        value = domain.strip().lower()
        bare = value[1:] if value.startswith('.') else value
        _pki.normalize_dns_name(bare, 'permitted_dns_domains')
        if value not in domains:
            domains.append(value)
    networks = []
    if params['permitted_ip_ranges']:
        for cidr in params['permitted_ip_ranges'] + ['127.0.0.0/8']:
            try:
                network = ipaddress.ip_network(cidr.strip(), strict=True)
            except ValueError as exc:
                raise _pki.PKIError('permitted_ip_ranges: %r is not a network in CIDR notation (%s)' % (cidr, exc))
            if network not in networks:
                networks.append(network)
    return domains, networks


def main():
    module = AnsibleModule(
        argument_spec=dict(
            key_path=dict(type='path', required=True, no_log=False),
            cert_path=dict(type='path', required=True),
            common_name=dict(type='str', default='Nomad Agent CA'),
            valid_days=dict(type='int', default=1825),
            name_constraints=dict(type='bool', default=True),
            permitted_dns_domains=dict(type='list', elements='str', default=[]),
            permitted_ip_ranges=dict(type='list', elements='str', default=[]),
        ),
        supports_check_mode=True,
    )
    if not _pki.HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib('cryptography'), exception=_pki.CRYPTOGRAPHY_IMPORT_ERROR)

    key_path = module.params['key_path']
    cert_path = module.params['cert_path']
    try:
        key_exists = os.path.exists(key_path)
        cert_exists = os.path.exists(cert_path)
        if key_exists and cert_exists:
            cert, mode_fixed = load_existing_ca(module, key_path, cert_path)
            module.exit_json(changed=mode_fixed, created=False, **ca_facts(cert))
        if key_exists or cert_exists:
            present, absent = (key_path, cert_path) if key_exists else (cert_path, key_path)
            raise _pki.PKIError('only half of the CA exists: %s is there but %s is not. Restore the missing file '
                                'or remove both to make a new CA (every node certificate then needs reissuing)'
                                % (present, absent))
        if module.params['valid_days'] < 1:
            raise _pki.PKIError('valid_days must be at least 1')
        domains, networks = constraint_lists(module.params)
        for path in (key_path, cert_path):
            directory = os.path.dirname(os.path.abspath(path))
            if not os.path.isdir(directory):
                raise _pki.PKIError('the directory %s of %s does not exist' % (directory, path))
        if module.check_mode:
            module.exit_json(changed=True, created=True)
        key, cert = _pki.create_ca(module.params['common_name'], module.params['valid_days'], domains, networks)
        # Key first: a crash in between leaves "only the key", which the next run reports, and
        # never a certificate whose key is lost.
        _pki.write_file_atomic(key_path, _pki.private_key_pem(key), 0o600)
        _pki.write_file_atomic(cert_path, _pki.certificate_pem(cert), 0o644)
    except (_pki.PKIError, OSError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=True, created=True, **ca_facts(cert))


if __name__ == '__main__':
    main()
