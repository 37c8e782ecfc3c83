# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import datetime
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ansible_collections.hardened.nomad.plugins.module_utils import _pki
from ansible_collections.hardened.nomad.plugins.modules import tls_ca_sign


def make_csr(dns=(), ips=(), key=None, common_name='whatever', extra_names=()):
    key = key or _pki.generate_private_key()
    names = [x509.DNSName(n) for n in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    names += list(extra_names)
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


def sign_args(ca, csr, **extra):
    base = dict(csr=csr, ca_cert_path=str(ca.cert_path), ca_key_path=str(ca.key_path), role='server')
    base.update(extra)
    return base


SERVER_CSR_NAMES = dict(dns=['server.global.nomad', 'localhost'], ips=['127.0.0.1'])


def test_signs_a_server_csr_with_the_expected_certificate(run_module, ca):
    key = _pki.generate_private_key()
    result = run_module(tls_ca_sign, sign_args(ca, make_csr(key=key, **SERVER_CSR_NAMES)))
    assert result['changed'] is True and result['failed'] is False
    cert = x509.load_pem_x509_certificate(result['certificate'].encode())

    assert cert.subject.rfc4514_string() == 'CN=server.global.nomad'   # not the CSR's "whatever"
    assert cert.issuer == ca.cert.subject
    assert _pki.signed_by(cert, ca.cert)
    assert _pki.key_matches(cert, key)
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ['server.global.nomad', 'localhost']
    assert [str(i) for i in sans.get_values_for_type(x509.IPAddress)] == ['127.0.0.1']
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and usage.value.key_encipherment
    assert not usage.value.key_cert_sign
    basic = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert basic.critical and basic.value.ca is False
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = ca.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)

    lifetime = _pki.not_after(cert) - _pki.utcnow()
    assert datetime.timedelta(days=364) < lifetime <= datetime.timedelta(days=365)
    assert result['serial'] == '%X' % cert.serial_number
    assert result['ca_certificate'] == ca.pem


def test_every_signature_gets_a_new_random_serial(run_module, ca):
    csr = make_csr(**SERVER_CSR_NAMES)
    first = run_module(tls_ca_sign, sign_args(ca, csr))
    second = run_module(tls_ca_sign, sign_args(ca, csr))
    assert first['serial'] != second['serial']


def test_cli_certificate_is_client_auth_only_without_loopback(run_module, ca):
    result = run_module(tls_ca_sign, sign_args(ca, make_csr(dns=['cli.global.nomad']), role='cli', valid_days=30))
    cert = x509.load_pem_x509_certificate(result['certificate'].encode())
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert cert.subject.rfc4514_string() == 'CN=cli.global.nomad'


def test_allowed_extras_are_issued(run_module, ca):
    csr = make_csr(dns=['client.eu.nomad', 'localhost', 'n1.example.com'], ips=['127.0.0.1', '10.0.0.7'])
    result = run_module(tls_ca_sign, sign_args(ca, csr, role='client', region='eu', dns_names=['n1.example.com'],
                                               ip_addresses=['10.0.0.7']))
    assert result['failed'] is False
    cert = x509.load_pem_x509_certificate(result['certificate'].encode())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ['client.eu.nomad', 'localhost', 'n1.example.com']


@pytest.mark.parametrize('role, dns, ips, expected', [
    # A client asking for the server name: the attack the policy is there for.
    ('client', ['client.global.nomad', 'localhost', 'server.global.nomad'], ['127.0.0.1'],
     'SAN DNS:server.global.nomad is the name of role server, but this request is for role client'),
    ('server', ['server.global.nomad', 'localhost', 'server.eu.nomad'], ['127.0.0.1'],
     'SAN DNS:server.eu.nomad is for region eu, but this request is for region global'),
    ('server', ['server.global.nomad', 'localhost', '*.global.nomad'], ['127.0.0.1'],
     'SAN DNS:*.global.nomad is a wildcard'),
    ('server', ['server.global.nomad', 'localhost', 'evil.example.org'], ['127.0.0.1'],
     'SAN DNS:evil.example.org is not allowed for this request'),
    ('server', ['server.global.nomad', 'localhost', 'anything.nomad'], ['127.0.0.1'],
     'SAN DNS:anything.nomad is in the reserved .nomad domain'),
    ('server', ['server.global.nomad', 'localhost'], ['127.0.0.1', '10.9.9.9'],
     'SAN IP:10.9.9.9 is not allowed for this request'),
    ('cli', ['cli.global.nomad', 'localhost'], [],
     'SAN DNS:localhost is not allowed for this request'),
])
def test_foreign_names_are_refused_naming_the_san(run_module, ca, role, dns, ips, expected):
    result = run_module(tls_ca_sign, sign_args(ca, make_csr(dns=dns, ips=ips), role=role))
    assert result['failed'] is True
    assert result['msg'].startswith('refusing to sign: ')
    assert expected in result['msg']
    assert 'certificate' not in result


def test_other_san_types_are_refused(run_module, ca):
    csr = make_csr(extra_names=[x509.RFC822Name('ops@example.com')], **SERVER_CSR_NAMES)
    result = run_module(tls_ca_sign, sign_args(ca, csr))
    assert result['failed'] is True and 'SAN email:ops@example.com is of a type that is never issued' in result['msg']


def test_missing_names_are_refused(run_module, ca):
    result = run_module(tls_ca_sign, sign_args(ca, make_csr(dns=['server.global.nomad'])))
    assert result['failed'] is True
    assert 'the CSR lacks DNS:localhost, IP:127.0.0.1' in result['msg']


def test_csr_without_sans_is_refused(run_module, ca):
    result = run_module(tls_ca_sign, sign_args(ca, make_csr()))
    assert result['failed'] is True and 'asks for no subjectAltName' in result['msg']


def test_csr_with_broken_signature_is_refused(run_module, ca):
    # Same names, but the signature bytes of a different CSR: DER surgery on the last bytes.
    pem = make_csr(**SERVER_CSR_NAMES)
    der = bytearray(x509.load_pem_x509_csr(pem.encode()).public_bytes(serialization.Encoding.DER))
    der[-3] ^= 0x01
    tampered = x509.load_der_x509_csr(bytes(der)).public_bytes(serialization.Encoding.PEM).decode()
    result = run_module(tls_ca_sign, sign_args(ca, tampered))
    assert result['failed'] is True and 'signature is invalid' in result['msg']


def test_weak_rsa_key_is_refused(run_module, ca):
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    result = run_module(tls_ca_sign, sign_args(ca, make_csr(key=weak, **SERVER_CSR_NAMES)))
    assert result['failed'] is True and '1024-bit RSA key' in result['msg']


def test_odd_curve_is_refused(run_module, ca):
    key = ec.generate_private_key(ec.SECP256K1())
    result = run_module(tls_ca_sign, sign_args(ca, make_csr(key=key, **SERVER_CSR_NAMES)))
    assert result['failed'] is True and 'secp256k1' in result['msg']


def test_garbage_csr_fails_clearly(run_module, ca):
    result = run_module(tls_ca_sign, sign_args(ca, 'hello'))
    assert result['failed'] is True and 'csr is not a PEM certificate signing request' in result['msg']


def test_names_outside_the_ca_name_constraints_are_refused(run_module, ca):
    # The fixture CA permits nomad, localhost and example.com only.
    csr = make_csr(dns=['server.global.nomad', 'localhost', 'node.other.org'], ips=['127.0.0.1'])
    result = run_module(tls_ca_sign, sign_args(ca, csr, dns_names=['node.other.org']))
    assert result['failed'] is True
    assert 'DNS:node.other.org lie outside the name constraints' in result['msg']


def test_reserved_extra_in_the_allowed_list_is_refused(run_module, ca):
    result = run_module(tls_ca_sign, sign_args(ca, make_csr(**SERVER_CSR_NAMES), role='client',
                                               dns_names=['server.global.nomad']))
    assert result['failed'] is True and 'reserved .nomad domain' in result['msg']


def test_mismatched_ca_key_is_an_error(run_module, ca, other_ca):
    result = run_module(tls_ca_sign, sign_args(ca, make_csr(**SERVER_CSR_NAMES), ca_key_path=str(other_ca.key_path)))
    assert result['failed'] is True and 'is not the key of the CA certificate' in result['msg']


def test_missing_ca_file_is_an_error(run_module, ca, tmp_path):
    result = run_module(tls_ca_sign, sign_args(ca, make_csr(**SERVER_CSR_NAMES),
                                               ca_key_path=str(tmp_path / 'missing.pem')))
    assert result['failed'] is True and 'missing.pem' in result['msg']


def test_bad_region_is_an_error(run_module, ca):
    result = run_module(tls_ca_sign, sign_args(ca, make_csr(**SERVER_CSR_NAMES), region='a.b'))
    assert result['failed'] is True and 'is not a DNS label' in result['msg']


def test_check_mode_checks_but_does_not_sign(run_module, ca):
    result = run_module(tls_ca_sign, sign_args(ca, make_csr(**SERVER_CSR_NAMES)), check_mode=True)
    assert result['changed'] is True and 'certificate' not in result
    refused = run_module(tls_ca_sign, sign_args(ca, make_csr(dns=['x.example.org'])), check_mode=True)
    assert refused['failed'] is True


def test_check_mode_before_the_ca_exists_predicts_the_signature(run_module, tmp_path):
    # Check mode on a new controller: tls_ca only predicted the CA, so neither file is there.
    missing = dict(ca_cert_path=str(tmp_path / 'ca' / 'ca.pem'), ca_key_path=str(tmp_path / 'ca' / 'ca-key.pem'))
    args = dict(csr=make_csr(**SERVER_CSR_NAMES), role='server', **missing)
    result = run_module(tls_ca_sign, args, check_mode=True)
    assert result['failed'] is False and result['changed'] is True
    assert 'certificate' not in result and 'ca_certificate' not in result
    assert 'no CA in' in result['msg']
    # the request is still checked
    refused = run_module(tls_ca_sign, dict(args, csr=make_csr(dns=['x.example.org'])), check_mode=True)
    assert refused['failed'] is True and 'x.example.org' in refused['msg']
    # and outside check mode a missing CA stays an error
    assert run_module(tls_ca_sign, args)['failed'] is True


def test_check_mode_with_half_a_ca_is_still_an_error(run_module, ca, tmp_path):
    result = run_module(tls_ca_sign, sign_args(ca, make_csr(**SERVER_CSR_NAMES), ca_key_path=str(tmp_path / 'missing.pem')),
                        check_mode=True)
    assert result['failed'] is True and 'missing.pem' in result['msg']


def test_csr_from_tls_node_csr_is_accepted(run_module, ca, tmp_path):
    from ansible_collections.hardened.nomad.plugins.modules import tls_node_csr
    node = run_module(tls_node_csr, dict(key_path=str(tmp_path / 'k.pem'), cert_path=str(tmp_path / 'c.pem'),
                                         ca_certificate=ca.pem, role='client', dns_names=['n2.example.com'],
                                         ip_addresses=['192.0.2.4']))
    signed = run_module(tls_ca_sign, sign_args(ca, node['csr'], role='client', dns_names=['n2.example.com'],
                                               ip_addresses=['192.0.2.4']))
    assert signed['failed'] is False
    (tmp_path / 'c.pem').write_text(signed['certificate'])
    again = run_module(tls_node_csr, dict(key_path=str(tmp_path / 'k.pem'), cert_path=str(tmp_path / 'c.pem'),
                                          ca_certificate=ca.pem, role='client', dns_names=['n2.example.com'],
                                          ip_addresses=['192.0.2.4']))
    assert again['certificate_needed'] is False and again['reasons'] == []
