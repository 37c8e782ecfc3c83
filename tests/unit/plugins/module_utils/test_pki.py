# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Name policy and certificate helpers (real cryptography)."""

from __future__ import annotations

import datetime
import ipaddress
import os
import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from ansible_collections.hardened.nomad.plugins.module_utils import _files, _pki


@pytest.mark.parametrize('role, region, extras, expected', [
    ('server', 'global', {}, (['server.global.nomad', 'localhost'], ['127.0.0.1'])),
    ('client', 'eu-1', {}, (['client.eu-1.nomad', 'localhost'], ['127.0.0.1'])),
    ('cli', 'global', {}, (['cli.global.nomad'], [])),
    ('server', 'global', dict(dns_names=['N1.example.com.', 'localhost'], ip_addresses=['::1', '0:0::1']),
     (['server.global.nomad', 'localhost', 'n1.example.com'], ['127.0.0.1', '::1'])),
])
def test_allowed_names(role, region, extras, expected):
    assert _pki.allowed_names(role, region, **extras) == expected


@pytest.mark.parametrize('call, message', [
    (lambda: _pki.role_name('admin', 'global'), 'role must be one of server, client, cli'),
    (lambda: _pki.role_name('server', ''), 'is not a DNS label'),
    (lambda: _pki.role_name('server', 'a b'), 'is not a DNS label'),
    (lambda: _pki.allowed_names('client', 'global', dns_names=['nomad']), 'reserved .nomad domain'),
    (lambda: _pki.allowed_names('cli', 'global', dns_names=['cli.eu.nomad']), 'reserved .nomad domain'),
    (lambda: _pki.allowed_names('server', 'global', dns_names=['a..b']), 'not a valid DNS name'),
    (lambda: _pki.allowed_names('server', 'global', dns_names=['-a.example']), 'not a valid DNS name'),
    (lambda: _pki.allowed_names('server', 'global', dns_names=['x' * 64 + '.example']), 'not a valid DNS name'),
])
def test_name_policy_errors(call, message):
    with pytest.raises(_pki.PKIError) as caught:
        call()
    assert message in str(caught.value)


def test_refusal_reason_allows_exactly_the_allowed_names():
    dns, ips = _pki.allowed_names('client', 'global', ['n1.example.com'], ['10.0.0.1'])
    assert _pki.refusal_reason('DNS', 'N1.Example.com', 'client', 'global', dns, ips) is None
    assert _pki.refusal_reason('IP', '10.0.0.1', 'client', 'global', dns, ips) is None
    assert 'region eu' in _pki.refusal_reason('DNS', 'client.eu.nomad', 'client', 'global', dns, ips)
    assert 'role cli' in _pki.refusal_reason('DNS', 'cli.global.nomad', 'client', 'global', dns, ips)
    assert 'wildcard' in _pki.refusal_reason('DNS', '*.example.com', 'client', 'global', dns, ips)
    assert 'URI' in _pki.refusal_reason('URI', 'spiffe://x', 'client', 'global', dns, ips)


def test_name_constraints_checks_like_go(ca):
    # The fixture CA permits nomad, localhost and example.com (no IP constraint).
    assert _pki.name_constraint_violations(ca.cert, ['server.global.nomad', 'localhost', 'a.b.example.com'],
                                           ['10.0.0.1']) == []
    assert _pki.name_constraint_violations(ca.cert, ['badnomad', 'example.com.evil.org'], []) == [
        'DNS:badnomad', 'DNS:example.com.evil.org']


def test_ip_and_leading_dot_constraints(tmp_path):
    key, cert = _pki.create_ca('x', 5, ['nomad', '.corp.lan'], [ipaddress.ip_network('10.0.0.0/8'),
                                                                ipaddress.ip_network('127.0.0.0/8')])
    assert _pki.name_constraint_violations(cert, ['a.corp.lan'], ['10.1.2.3', '127.0.0.1']) == []
    assert _pki.name_constraint_violations(cert, ['corp.lan'], ['192.168.1.1', '::1']) == [
        'DNS:corp.lan', 'IP:192.168.1.1', 'IP:::1']


def test_excluded_subtrees_are_honoured():
    key = _pki.generate_private_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'excluding CA')])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.NameConstraints(permitted_subtrees=None, excluded_subtrees=[
                x509.DNSName('bad.example'), x509.IPAddress(ipaddress.ip_network('192.0.2.0/24'))]), critical=True)
            .sign(key, hashes.SHA256()))
    assert _pki.name_constraint_violations(cert, ['x.bad.example', 'good.example'], ['192.0.2.9', '10.0.0.1']) == [
        'DNS:x.bad.example', 'IP:192.0.2.9']


def test_ca_without_name_constraints_constrains_nothing():
    key, cert = _pki.create_ca('x', 5)
    assert _pki.name_constraint_violations(cert, ['anything.org'], ['8.8.8.8']) == []


def test_signed_by_works_for_rsa_cas_and_rejects_others(ca):
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'RSA CA')])
    now = datetime.datetime.now(datetime.timezone.utc)
    rsa_ca = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(rsa_key.public_key())
              .serial_number(2).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
              .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
              .sign(rsa_key, hashes.SHA256()))
    leaf_key = _pki.generate_private_key()
    leaf = _pki.sign_leaf(rsa_ca, rsa_key, leaf_key.public_key(), 'cli.global.nomad', ['cli.global.nomad'], [],
                          5, False)
    assert _pki.signed_by(leaf, rsa_ca)
    assert not _pki.signed_by(leaf, ca.cert)


def test_same_subject_but_other_key_is_not_the_issuer(tmp_path):
    key_a, ca_a = _pki.create_ca('Nomad Agent CA', 5)
    key_b, ca_b = _pki.create_ca('Nomad Agent CA', 5)
    leaf = _pki.sign_leaf(ca_a, key_a, _pki.generate_private_key().public_key(), 'x', ['cli.global.nomad'], [], 5,
                          False)
    assert _pki.signed_by(leaf, ca_a) and not _pki.signed_by(leaf, ca_b)


def test_load_certificates_reads_bundles_in_order(ca, other_ca):
    bundle = 'junk before\n' + other_ca.pem + '\n' + ca.pem
    certs = _pki.load_certificates(bundle, 'bundle')
    assert [c.subject for c in certs] == [other_ca.cert.subject, ca.cert.subject]
    with pytest.raises(_pki.PKIError):
        _pki.load_certificates('nothing here', 'bundle')


def test_san_drift_is_exact(ca):
    cert = x509.load_pem_x509_certificate(ca.issue(_pki.generate_private_key().public_key(),
                                                   ['server.global.nomad', 'localhost'], ['127.0.0.1']).encode())
    assert _pki.san_drift(cert, ['localhost', 'server.global.nomad'], ['127.0.0.1']) is None
    assert _pki.san_drift(cert, ['server.global.nomad'], []) == 'unexpected DNS:localhost, IP:127.0.0.1'


# _pki writes keys and certificates with the one atomic writer of _files.
def test_write_file_atomic_sets_mode_and_leaves_no_temp_files(tmp_path):
    target = tmp_path / 'key.pem'
    _files.write_file_atomic(str(target), b'secret', 0o600)
    _files.write_file_atomic(str(target), b'secret2', 0o600)
    assert target.read_bytes() == b'secret2'
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert os.listdir(tmp_path) == ['key.pem']


def test_write_file_atomic_cleans_up_on_failure(tmp_path, monkeypatch):
    def broken_rename(source, destination):
        raise OSError('disk full')
    monkeypatch.setattr(_files.os, 'rename', broken_rename)
    with pytest.raises(OSError):
        _files.write_file_atomic(str(tmp_path / 'key.pem'), b'secret', 0o600)
    assert os.listdir(tmp_path) == []


def test_create_ca_with_a_p384_key_is_signed_with_sha384():
    from cryptography.hazmat.primitives.asymmetric import ec
    key = ec.generate_private_key(ec.SECP384R1())
    assert isinstance(_pki._hash_for(key), hashes.SHA384)
    assert isinstance(_pki._hash_for(_pki.generate_private_key()), hashes.SHA256)


def test_load_ca_returns_the_pair_and_names_options_and_files_in_errors(ca, other_ca):
    cert, key = _pki.load_ca(str(ca.cert_path), str(ca.key_path))
    assert cert == ca.cert and _pki.key_matches(cert, key)
    with pytest.raises(_pki.PKIError) as caught:
        _pki.load_ca(str(ca.cert_path), str(other_ca.key_path), 'ca_cert_path', 'ca_key_path')
    message = str(caught.value)
    assert message.startswith('ca_key_path %s does not belong to the certificate in ca_cert_path %s'
                              % (other_ca.key_path, ca.cert_path))
    assert 'is not the key of the CA certificate' in message


def test_load_ca_says_which_file_cannot_be_read(ca, tmp_path):
    missing = tmp_path / 'missing.pem'
    with pytest.raises(_pki.PKIError, match='key_path %s cannot be read: No such file' % missing):
        _pki.load_ca(str(ca.cert_path), str(missing))


def test_load_ca_refuses_a_leaf_certificate(ca, tmp_path):
    key = _pki.generate_private_key()
    leaf = tmp_path / 'leaf.pem'
    leaf.write_text(ca.issue(key.public_key(), ['cli.global.nomad']))
    (tmp_path / 'leaf-key.pem').write_bytes(_pki.private_key_pem(key))
    with pytest.raises(_pki.PKIError, match='cert_path %s is not a CA certificate' % leaf):
        _pki.load_ca(str(leaf), str(tmp_path / 'leaf-key.pem'))


def test_require_cryptography_fails_with_the_install_hint(monkeypatch):
    failures = []

    class Module:
        def fail_json(self, **result):
            failures.append(result)

    monkeypatch.setattr(_pki, 'HAS_CRYPTOGRAPHY', False)
    monkeypatch.setattr(_pki, 'CRYPTOGRAPHY_IMPORT_ERROR', 'Traceback: no cryptography')
    _pki.require_cryptography(Module())
    assert 'cryptography' in failures[0]['msg'] and failures[0]['exception'] == 'Traceback: no cryptography'
    monkeypatch.setattr(_pki, 'HAS_CRYPTOGRAPHY', True)
    failures.clear()
    _pki.require_cryptography(Module())
    assert failures == []
