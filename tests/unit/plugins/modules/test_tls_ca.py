# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import datetime
import ipaddress
import os
import stat

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from ansible_collections.hardened.nomad.plugins.module_utils import _pki
from ansible_collections.hardened.nomad.plugins.modules import tls_ca


def ca_args(tmp_path, **extra):
    return dict(key_path=str(tmp_path / 'ca-key.pem'), cert_path=str(tmp_path / 'ca.pem'), **extra)


def load(path):
    return x509.load_pem_x509_certificate(open(path, 'rb').read())


def test_creates_an_ecdsa_p256_ca_with_the_hardened_extensions(run_module, tmp_path):
    result = run_module(tls_ca, ca_args(tmp_path))
    assert result['changed'] is True and result['created'] is True
    cert = load(tmp_path / 'ca.pem')
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    assert cert.public_key().curve.name == 'secp256r1'
    assert cert.subject.rfc4514_string() == 'CN=Nomad Agent CA'
    assert cert.issuer == cert.subject

    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca and constraints.value.path_length == 0
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.key_cert_sign and usage.value.crl_sign and usage.value.digital_signature
    cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)

    names = cert.extensions.get_extension_for_class(x509.NameConstraints)
    assert names.critical
    assert [n.value for n in names.value.permitted_subtrees] == ['nomad', 'localhost']

    lifetime = _pki.not_after(cert) - _pki.utcnow()
    assert datetime.timedelta(days=1824) < lifetime <= datetime.timedelta(days=1825)

    assert stat.S_IMODE(os.stat(tmp_path / 'ca-key.pem').st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / 'ca.pem').st_mode) == 0o644
    assert result['certificate'] == (tmp_path / 'ca.pem').read_text()
    assert result['serial'] == '%X' % cert.serial_number
    assert result['not_after'].endswith('Z')
    assert len(result['fingerprint_sha256'].split(':')) == 32


def test_rerun_loads_the_existing_ca_and_changes_nothing(run_module, tmp_path):
    first = run_module(tls_ca, ca_args(tmp_path))
    key_before = (tmp_path / 'ca-key.pem').read_bytes()
    second = run_module(tls_ca, ca_args(tmp_path, common_name='Other name', valid_days=10))
    assert second['changed'] is False and second['created'] is False
    assert second['certificate'] == first['certificate']
    assert second['fingerprint_sha256'] == first['fingerprint_sha256']
    assert (tmp_path / 'ca-key.pem').read_bytes() == key_before


def test_loose_key_mode_is_fixed_on_an_existing_ca(run_module, tmp_path):
    run_module(tls_ca, ca_args(tmp_path))
    os.chmod(tmp_path / 'ca-key.pem', 0o644)
    result = run_module(tls_ca, ca_args(tmp_path))
    assert result['changed'] is True and result['created'] is False
    assert stat.S_IMODE(os.stat(tmp_path / 'ca-key.pem').st_mode) == 0o600


def test_extra_domains_and_ip_ranges_go_into_name_constraints(run_module, tmp_path):
    run_module(tls_ca, ca_args(tmp_path, permitted_dns_domains=['Example.COM', '.corp.lan'],
                               permitted_ip_ranges=['10.0.0.0/8']))
    names = load(tmp_path / 'ca.pem').extensions.get_extension_for_class(x509.NameConstraints).value
    dns = [n.value for n in names.permitted_subtrees if isinstance(n, x509.DNSName)]
    ips = [n.value for n in names.permitted_subtrees if isinstance(n, x509.IPAddress)]
    assert dns == ['nomad', 'localhost', 'example.com', '.corp.lan']
    assert ips == [ipaddress.ip_network('10.0.0.0/8'), ipaddress.ip_network('127.0.0.0/8')]


def test_without_ip_ranges_ips_are_not_constrained(run_module, tmp_path):
    run_module(tls_ca, ca_args(tmp_path))
    names = load(tmp_path / 'ca.pem').extensions.get_extension_for_class(x509.NameConstraints).value
    assert not [n for n in names.permitted_subtrees if isinstance(n, x509.IPAddress)]


def test_name_constraints_can_be_switched_off(run_module, tmp_path):
    run_module(tls_ca, ca_args(tmp_path, name_constraints=False, common_name='Lab CA', valid_days=30))
    cert = load(tmp_path / 'ca.pem')
    assert not [e for e in cert.extensions if isinstance(e.value, x509.NameConstraints)]
    assert cert.subject.rfc4514_string() == 'CN=Lab CA'


def test_bad_ip_range_fails_clearly(run_module, tmp_path):
    result = run_module(tls_ca, ca_args(tmp_path, permitted_ip_ranges=['10.0.0.1/8']))
    assert result['failed'] is True and "'10.0.0.1/8' is not a network" in result['msg']
    assert not (tmp_path / 'ca.pem').exists()


def test_wildcard_domain_fails_clearly(run_module, tmp_path):
    result = run_module(tls_ca, ca_args(tmp_path, permitted_dns_domains=['*.example.com']))
    assert result['failed'] is True and 'wildcard' in result['msg']


def test_only_the_key_present_is_an_error(run_module, tmp_path):
    run_module(tls_ca, ca_args(tmp_path))
    os.unlink(tmp_path / 'ca.pem')
    result = run_module(tls_ca, ca_args(tmp_path))
    assert result['failed'] is True
    assert 'only half of the CA exists' in result['msg'] and str(tmp_path / 'ca.pem') in result['msg']
    assert not (tmp_path / 'ca.pem').exists()


def test_only_the_cert_present_is_an_error(run_module, tmp_path):
    run_module(tls_ca, ca_args(tmp_path))
    os.unlink(tmp_path / 'ca-key.pem')
    result = run_module(tls_ca, ca_args(tmp_path))
    assert result['failed'] is True and 'only half of the CA exists' in result['msg']
    assert not (tmp_path / 'ca-key.pem').exists()


def test_key_of_another_ca_is_an_error_and_nothing_is_touched(run_module, tmp_path):
    run_module(tls_ca, ca_args(tmp_path))
    other = tmp_path / 'other'
    other.mkdir()
    run_module(tls_ca, ca_args(other))
    foreign_key = (other / 'ca-key.pem').read_bytes()
    (tmp_path / 'ca-key.pem').write_bytes(foreign_key)
    cert_before = (tmp_path / 'ca.pem').read_bytes()
    result = run_module(tls_ca, ca_args(tmp_path))
    assert result['failed'] is True and 'does not belong to the certificate' in result['msg']
    assert (tmp_path / 'ca.pem').read_bytes() == cert_before
    assert (tmp_path / 'ca-key.pem').read_bytes() == foreign_key


def test_a_leaf_certificate_is_not_accepted_as_ca(run_module, tmp_path):
    key = _pki.generate_private_key()
    ca_key, ca_cert = _pki.create_ca('x', 10)
    leaf = _pki.sign_leaf(ca_cert, ca_key, key.public_key(), 'cli.global.nomad', ['cli.global.nomad'], [], 10, False)
    (tmp_path / 'ca.pem').write_bytes(_pki.certificate_pem(leaf))
    (tmp_path / 'ca-key.pem').write_bytes(_pki.private_key_pem(key))
    result = run_module(tls_ca, ca_args(tmp_path))
    assert result['failed'] is True and 'not a CA certificate' in result['msg']


def test_garbage_files_fail_clearly(run_module, tmp_path):
    (tmp_path / 'ca.pem').write_text('hello')
    (tmp_path / 'ca-key.pem').write_text('hello')
    result = run_module(tls_ca, ca_args(tmp_path))
    assert result['failed'] is True and 'is not a PEM certificate' in result['msg']


def test_missing_directory_fails_clearly(run_module, tmp_path):
    result = run_module(tls_ca, dict(key_path=str(tmp_path / 'no' / 'k.pem'), cert_path=str(tmp_path / 'c.pem')))
    assert result['failed'] is True and 'does not exist' in result['msg']


def test_check_mode_predicts_creation_without_writing(run_module, tmp_path):
    result = run_module(tls_ca, ca_args(tmp_path), check_mode=True)
    assert result['changed'] is True and result['created'] is True
    assert os.listdir(tmp_path) == []


def test_check_mode_on_existing_ca_is_unchanged(run_module, tmp_path):
    run_module(tls_ca, ca_args(tmp_path))
    result = run_module(tls_ca, ca_args(tmp_path), check_mode=True)
    assert result['changed'] is False and 'certificate' in result
