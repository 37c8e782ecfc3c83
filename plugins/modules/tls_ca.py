#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: tls_ca
short_description: Create or load the private CA of a Nomad cluster, and rotate it
version_added: 0.2.0
description:
  - Creates a private certificate authority for Nomad's mutual TLS (an ECDSA P-256 key and a
    self-signed certificate), or loads the existing one.
  - An existing CA is never overwritten. When both files exist they are loaded and checked to
    belong together; a mismatch, or only one of the two files present, is an error.
  - Runs where the CA lives, normally the controller (C(delegate_to=localhost), C(run_once=true)).
  - "O(state) V(next), V(promote) and V(retire) are the controller's steps of a CA rotation
    (C(playbooks/rotate_ca.yml)). They work on the directory of the CA (which must hold both
    O(cert_path) and O(key_path)) and on three beside it: O(next_dir), O(previous_dir) and
    O(archive_dir). Each step is one or two renames of a whole directory; each finds out from
    these directories what is already done, so a rotation stopped anywhere is finished by running
    the steps again, in order."
author:
  - hardened.nomad contributors (@hardened-nomad)
requirements:
  - cryptography >= 3.3
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  state:
    description:
      - V(present) creates the CA when both files are missing, or loads it. It refuses to create
        one while a rotation is under way (a next or previous CA exists without a CA in its
        directory).
      - V(next) makes the next CA in O(next_dir), from O(common_name), O(valid_days) and the name
        constraint options, in a temporary directory renamed into place, so it is there whole or not
        at all. An existing next CA is only loaded. Once the rotation is past its promotion
        (O(previous_dir) exists) there is nothing to make; a promotion stopped between its two
        renames is finished.
      - V(promote) moves the CA's directory to O(previous_dir) and O(next_dir) to the CA's
        directory, after checking that the next CA is sound. A stopped promotion is finished; an
        already promoted CA is left alone.
      - V(retire) deletes the key in O(previous_dir), then moves that directory, now holding only
        the certificate, to O(archive_dir)C(/<UTC time>), for example C(ca-archive/20260822T101530Z).
        Without a previous CA it does nothing.
    type: str
    choices: [present, next, promote, retire]
    default: present
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
  next_dir:
    description:
      - Directory of the next CA during a rotation. Default is the CA's directory with C(-next)
        appended, for example C(nomad-secrets/ca-next).
      - The files in it have the names of O(cert_path) and O(key_path).
    type: path
  previous_dir:
    description:
      - Directory of the previous CA after the promotion, until it is retired. Default is the CA's
        directory with C(-previous) appended.
    type: path
  archive_dir:
    description:
      - Directory (made with mode C(0700)) that keeps the certificates of retired CAs, one
        subdirectory per retirement. Default is the CA's directory with C(-archive) appended.
    type: path
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
    details: Predicts that a missing CA would be created, or that a rotation step would change something, without writing.
      A CA that would be created is made in memory only and its certificate returned, so that later tasks can
      predict the files they would write with it; its directory need not exist yet.
  diff_mode:
    support: none
notes:
  - The CA's directory and those beside it must be on one file system (renames do not cross them).
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

- name: CA rotation, step 1 - the next CA in /srv/pki/ca-next
  hardened.nomad.tls_ca:
    state: next
    key_path: /srv/pki/ca/ca-key.pem
    cert_path: /srv/pki/ca/ca.pem

# ... every node trusts both CAs (rotation_certificates of state=present) ...

- name: CA rotation, step 3 - the next CA signs from now on; the old one is kept in /srv/pki/ca-previous
  hardened.nomad.tls_ca:
    state: promote
    key_path: /srv/pki/ca/ca-key.pem
    cert_path: /srv/pki/ca/ca.pem

# ... every certificate is reissued, the previous CA dropped from every trust bundle ...

- name: CA rotation, step 6 - delete the old key, archive the old certificate
  hardened.nomad.tls_ca:
    state: retire
    key_path: /srv/pki/ca/ca-key.pem
    cert_path: /srv/pki/ca/ca.pem
"""

RETURN = r"""
certificate:
  description:
    - The CA certificate in O(cert_path) (the signing CA) in PEM. In check mode, when the CA would be
      created, the certificate of a CA made in memory only (a real run makes another one).
    - After O(state=promote) it is the former next CA; in check mode it is the CA as it is now.
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
  description: Whether a new CA was made (or, in check mode, would be); with O(state=next) the next CA.
  returned: always
  type: bool
phase:
  description:
    - Where a CA rotation stands after this run, from the directories beside the CA.
    - V(none) (no rotation under way), V(next) (a next CA waits in O(next_dir)), V(promoting)
      (a promotion stopped between its two renames; O(state=next) or O(state=promote) finishes it),
      V(promoted) (the previous CA waits in O(previous_dir) to be retired).
  returned: success
  type: str
  sample: next
rotation_certificates:
  description:
    - The certificates in PEM of the rotation's other CA, to be trusted besides the signing CA while
      the rotation is under way - the next CA before the promotion, the previous CA after it.
      Empty without a rotation.
  returned: success
  type: list
  elements: str
archived:
  description: The directory the previous CA's certificate went to (or, in check mode, would go to).
  returned: when O(state=retire) retired a CA
  type: str
  sample: /srv/pki/ca-archive/20260822T101530Z
"""

import ipaddress
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hardened.nomad.plugins.module_utils import _pki
from ansible_collections.hardened.nomad.plugins.module_utils._files import missing_directory, write_file_atomic


def ca_facts(cert):
    return dict(
        certificate=_pki.certificate_pem(cert).decode('ascii'),
        not_after=_pki.iso8601(_pki.not_after(cert)),
        serial=_pki.serial_hex(cert),
        fingerprint_sha256=_pki.fingerprint_sha256(cert),
    )


def load_existing_ca(module, key_path, cert_path):
    cert = _pki.load_ca(cert_path, key_path)[0]
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


def new_ca_maker(params):
    """Checks the settings of a new CA; returns what makes one: () -> (key, certificate)."""
    if params['valid_days'] < 1:
        raise _pki.PKIError('valid_days must be at least 1')
    domains, networks = constraint_lists(params)
    return lambda: _pki.create_ca(params['common_name'], params['valid_days'], domains, networks)


def present(module, rotation):
    key_path = module.params['key_path']
    cert_path = module.params['cert_path']
    key_exists = os.path.exists(key_path)
    cert_exists = os.path.exists(cert_path)
    if key_exists and cert_exists:
        cert, mode_fixed = load_existing_ca(module, key_path, cert_path)
        return dict(changed=mode_fixed, created=False, **ca_facts(cert))
    if key_exists or cert_exists:
        present_path, absent_path = (key_path, cert_path) if key_exists else (cert_path, key_path)
        raise _pki.PKIError('only half of the CA exists: %s is there but %s is not. Restore the missing file '
                            'or remove both to make a new CA (every node certificate then needs reissuing)'
                            % (present_path, absent_path))
    make = new_ca_maker(module.params)
    for path in (key_path, cert_path):
        directory = missing_directory(path, module.check_mode)
        if directory:
            raise _pki.PKIError('the directory %s of %s does not exist' % (directory, path))
    if rotation.phase() != 'none':
        raise _pki.PKIError('there is no CA in %s while a CA rotation is under way (%s or %s exists): run '
                            'playbooks/rotate_ca.yml again to finish it; making a new CA here would break the cluster'
                            % (rotation.directory, rotation.next_dir, rotation.previous_dir))
    key, cert = make()
    if module.check_mode:
        # Made in memory only, so that later tasks can predict the files they would write with it.
        return dict(changed=True, created=True, **ca_facts(cert))
    # Key first: a crash in between leaves "only the key", which the next run reports, and
    # never a certificate whose key is lost.
    write_file_atomic(key_path, _pki.private_key_pem(key), 0o600)
    write_file_atomic(cert_path, _pki.certificate_pem(cert), 0o644)
    return dict(changed=True, created=True, **ca_facts(cert))


def next_ca(module, rotation):
    done = rotation.make_next(new_ca_maker(module.params), module.check_mode)
    return dict(changed=done is not None, created=done == 'created')


def promote(module, rotation):
    return dict(changed=rotation.promote(module.check_mode), created=False)


def retire(module, rotation):
    archived = rotation.retire(module.check_mode)
    result = dict(changed=archived is not None, created=False)
    if archived:
        result['archived'] = archived
    return result


STATES = dict(present=present, next=next_ca, promote=promote, retire=retire)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type='str', default='present', choices=list(STATES)),
            key_path=dict(type='path', required=True, no_log=False),
            cert_path=dict(type='path', required=True),
            common_name=dict(type='str', default='Nomad Agent CA'),
            valid_days=dict(type='int', default=1825),
            name_constraints=dict(type='bool', default=True),
            permitted_dns_domains=dict(type='list', elements='str', default=[]),
            permitted_ip_ranges=dict(type='list', elements='str', default=[]),
            next_dir=dict(type='path'),
            previous_dir=dict(type='path'),
            archive_dir=dict(type='path'),
        ),
        supports_check_mode=True,
    )
    _pki.require_cryptography(module)
    params = module.params
    rotation = _pki.CARotation(params['cert_path'], params['key_path'], params['next_dir'], params['previous_dir'],
                               params['archive_dir'])
    try:
        result = STATES[params['state']](module, rotation)
        if params['state'] != 'present' and rotation.signing_ca_present():
            result.update(ca_facts(rotation.load_signing_ca()[0]))
        result.update(phase=rotation.phase(), rotation_certificates=rotation.rotation_certificates())
    except _pki.ERRORS as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
