# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import grp
import os
import pwd
import stat

import pytest
from cryptography import x509

from ansible_collections.hardened.nomad.plugins.module_utils import _pki
from ansible_collections.hardened.nomad.plugins.modules import tls_node_csr

SERVER_DNS = ['server.global.nomad', 'localhost']
SERVER_IPS = ['127.0.0.1']


@pytest.fixture
def node(tmp_path):
    directory = tmp_path / 'node'
    directory.mkdir()
    return directory


def args(node, ca, **extra):
    base = dict(key_path=str(node / 'server-key.pem'), cert_path=str(node / 'server.pem'), ca_certificate=ca.pem,
                role='server')
    base.update(extra)
    return base


def node_key(node):
    return _pki.load_private_key((node / 'server-key.pem').read_bytes(), 'key')


def csr_of(result):
    return x509.load_pem_x509_csr(result['csr'].encode())


def csr_names(result):
    """(subject, DNS names, IP addresses) the CSR asks for."""
    csr = csr_of(result)
    sans = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return (csr.subject.rfc4514_string(), sans.get_values_for_type(x509.DNSName),
            [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)])


def test_first_run_makes_a_private_key_and_asks_for_a_certificate(run_module, node, ca):
    result = run_module(tls_node_csr, args(node, ca))
    assert result['changed'] is True and result['key_created'] is True
    assert result['certificate_needed'] is True
    assert result['reasons'] == ['private key is new', 'certificate is missing']
    assert stat.S_IMODE(os.stat(node / 'server-key.pem').st_mode) == 0o600
    key = node_key(node)
    assert key.curve.name == 'secp256r1'
    subject, dns, ips = csr_names(result)
    assert subject == 'CN=server.global.nomad'
    assert dns == SERVER_DNS and ips == SERVER_IPS
    csr = csr_of(result)
    assert csr.is_signature_valid
    assert _pki.public_key_der(csr.public_key()) == _pki.public_key_der(key.public_key())


def test_good_certificate_needs_nothing_and_key_is_kept(run_module, node, ca):
    run_module(tls_node_csr, args(node, ca))
    key_bytes = (node / 'server-key.pem').read_bytes()
    (node / 'server.pem').write_text(ca.issue(node_key(node).public_key(), SERVER_DNS, SERVER_IPS))
    result = run_module(tls_node_csr, args(node, ca))
    assert result['changed'] is False and result['key_created'] is False
    assert result['certificate_needed'] is False and result['reasons'] == []
    assert (node / 'server-key.pem').read_bytes() == key_bytes
    assert 'csr' in result and result['not_after'].endswith('Z')


def test_names_per_role_and_extras(run_module, node, ca):
    result = run_module(tls_node_csr, args(node, ca, role='client', region='eu-west-1',
                                           dns_names=['Node1.Example.com', 'node1.example.com'],
                                           ip_addresses=['10.0.0.5', '10.0.0.5']))
    subject, dns, ips = csr_names(result)
    assert subject == 'CN=client.eu-west-1.nomad'
    assert dns == ['client.eu-west-1.nomad', 'localhost', 'node1.example.com']
    assert ips == ['127.0.0.1', '10.0.0.5']


def test_cli_certificates_have_no_loopback_names(run_module, node, ca):
    result = run_module(tls_node_csr, args(node, ca, role='cli'))
    subject, dns, ips = csr_names(result)
    assert subject == 'CN=cli.global.nomad'
    assert dns == ['cli.global.nomad'] and ips == []


@pytest.mark.parametrize('extra, expected', [
    (dict(region='eu.west'), 'is not a DNS label'),
    (dict(dns_names=['*.example.com']), 'wildcard'),
    (dict(dns_names=['server.global.nomad.']), None),   # the own name is fine, just deduplicated
    (dict(role='client', dns_names=['server.global.nomad']), 'reserved .nomad domain'),
    (dict(dns_names=['bad_name!']), 'not a valid DNS name'),
    (dict(ip_addresses=['10.0.0.300']), 'not an IP address'),
])
def test_bad_names_fail_before_anything_is_written(run_module, node, ca, extra, expected):
    result = run_module(tls_node_csr, args(node, ca, **extra))
    if expected is None:
        assert result['failed'] is False
        return
    assert result['failed'] is True and expected in result['msg']
    assert not (node / 'server-key.pem').exists()


def test_certificate_of_another_key_is_reissued(run_module, node, ca):
    run_module(tls_node_csr, args(node, ca))
    other_key = _pki.generate_private_key()
    (node / 'server.pem').write_text(ca.issue(other_key.public_key(), SERVER_DNS, SERVER_IPS))
    result = run_module(tls_node_csr, args(node, ca))
    assert result['certificate_needed'] is True
    assert result['reasons'] == ['certificate does not match the private key']


def test_certificate_from_another_ca_is_reissued(run_module, node, ca, other_ca):
    run_module(tls_node_csr, args(node, ca))
    (node / 'server.pem').write_text(other_ca.issue(node_key(node).public_key(), SERVER_DNS, SERVER_IPS))
    result = run_module(tls_node_csr, args(node, ca))
    assert result['certificate_needed'] is True
    assert result['reasons'] == ['certificate is not signed by the current CA (CN=Test CA)']


def test_ca_bundle_checks_against_the_first_ca_only(run_module, node, ca, other_ca):
    run_module(tls_node_csr, args(node, ca))
    (node / 'server.pem').write_text(ca.issue(node_key(node).public_key(), SERVER_DNS, SERVER_IPS))
    # During a CA rotation the new CA comes first: a cert of the old CA must be renewed.
    rotated = run_module(tls_node_csr, args(node, ca, ca_certificate=other_ca.pem + ca.pem))
    assert rotated['certificate_needed'] is True
    assert 'not signed by the current CA (CN=Foreign CA)' in rotated['reasons'][0]
    current_first = run_module(tls_node_csr, args(node, ca, ca_certificate=ca.pem + other_ca.pem))
    assert current_first['certificate_needed'] is False


def test_ca_path_works_like_ca_certificate(run_module, node, ca):
    run_module(tls_node_csr, args(node, ca))
    (node / 'server.pem').write_text(ca.issue(node_key(node).public_key(), SERVER_DNS, SERVER_IPS))
    node_args = args(node, ca, ca_path=str(ca.cert_path))
    del node_args['ca_certificate']
    assert run_module(tls_node_csr, node_args)['certificate_needed'] is False


def test_san_drift_is_reported(run_module, node, ca):
    run_module(tls_node_csr, args(node, ca))
    (node / 'server.pem').write_text(ca.issue(node_key(node).public_key(),
                                              SERVER_DNS + ['old.example.com'], SERVER_IPS))
    result = run_module(tls_node_csr, args(node, ca, ip_addresses=['10.1.1.1']))
    assert result['certificate_needed'] is True
    assert result['reasons'] == ['certificate names differ: missing IP:10.1.1.1; unexpected DNS:old.example.com']


def test_near_expiry_is_reported(run_module, node, ca):
    run_module(tls_node_csr, args(node, ca))
    (node / 'server.pem').write_text(ca.issue(node_key(node).public_key(), SERVER_DNS, SERVER_IPS, days=10))
    result = run_module(tls_node_csr, args(node, ca))
    assert result['certificate_needed'] is True
    assert result['reasons'] == ['certificate expires in 9 days (renew_before is 30)']
    assert run_module(tls_node_csr, args(node, ca, renew_before=5))['certificate_needed'] is False


def test_expired_certificate_is_reported(run_module, node, ca):
    run_module(tls_node_csr, args(node, ca))
    (node / 'server.pem').write_text(ca.issue(node_key(node).public_key(), SERVER_DNS, SERVER_IPS, days=0))
    result = run_module(tls_node_csr, args(node, ca))
    assert result['certificate_needed'] is True
    assert result['reasons'][0].startswith('certificate expired on ')


def test_unreadable_certificate_is_reported(run_module, node, ca):
    run_module(tls_node_csr, args(node, ca))
    (node / 'server.pem').write_text('not a certificate')
    result = run_module(tls_node_csr, args(node, ca))
    assert result['certificate_needed'] is True
    assert result['reasons'][0].startswith('certificate cannot be read')


def test_regenerate_makes_a_new_key(run_module, node, ca):
    run_module(tls_node_csr, args(node, ca))
    (node / 'server.pem').write_text(ca.issue(node_key(node).public_key(), SERVER_DNS, SERVER_IPS))
    old = (node / 'server-key.pem').read_bytes()
    result = run_module(tls_node_csr, args(node, ca, regenerate=True))
    assert result['changed'] is True and result['key_created'] is True
    assert (node / 'server-key.pem').read_bytes() != old
    assert result['reasons'] == ['private key was regenerated', 'certificate does not match the private key']
    assert _pki.public_key_der(csr_of(result).public_key()) == _pki.public_key_der(node_key(node).public_key())


def test_loose_key_mode_is_fixed(run_module, node, ca):
    run_module(tls_node_csr, args(node, ca))
    os.chmod(node / 'server-key.pem', 0o640)
    result = run_module(tls_node_csr, args(node, ca))
    assert result['changed'] is True and result['key_created'] is False
    assert stat.S_IMODE(os.stat(node / 'server-key.pem').st_mode) == 0o600


def test_owner_and_group_are_applied(run_module, node, ca):
    user = pwd.getpwuid(os.getuid()).pw_name
    group = grp.getgrgid(os.getgid()).gr_name
    result = run_module(tls_node_csr, args(node, ca, owner=user, group=group))
    assert result['failed'] is False
    info = os.stat(node / 'server-key.pem')
    assert (info.st_uid, info.st_gid) == (os.getuid(), os.getgid())


@pytest.mark.skipif(os.getuid() != 0, reason='changing a file owner needs root')
def test_owner_of_existing_key_is_fixed(run_module, node, ca):
    run_module(tls_node_csr, args(node, ca))
    nobody = pwd.getpwnam('nobody')
    result = run_module(tls_node_csr, args(node, ca, owner='nobody'))
    assert result['changed'] is True
    assert os.stat(node / 'server-key.pem').st_uid == nobody.pw_uid


def test_unknown_owner_fails_clearly(run_module, node, ca):
    result = run_module(tls_node_csr, args(node, ca, owner='no-such-user-xyz'))
    assert result['failed'] is True and 'owner no-such-user-xyz does not exist' in result['msg']
    assert not (node / 'server-key.pem').exists()


def test_check_mode_without_key_writes_nothing_and_returns_no_csr(run_module, node, ca):
    result = run_module(tls_node_csr, args(node, ca), check_mode=True)
    assert result['changed'] is True and result['certificate_needed'] is True
    assert 'csr' not in result
    assert os.listdir(node) == []


def test_check_mode_regenerate_keeps_the_old_key(run_module, node, ca):
    run_module(tls_node_csr, args(node, ca))
    old = (node / 'server-key.pem').read_bytes()
    result = run_module(tls_node_csr, args(node, ca, regenerate=True), check_mode=True)
    assert result['changed'] is True and result['certificate_needed'] is True and 'csr' not in result
    assert (node / 'server-key.pem').read_bytes() == old


def test_check_mode_with_key_returns_a_csr(run_module, node, ca):
    run_module(tls_node_csr, args(node, ca))
    result = run_module(tls_node_csr, args(node, ca), check_mode=True)
    assert result['changed'] is False and 'csr' in result


def test_missing_key_directory_fails_clearly(run_module, node, ca):
    result = run_module(tls_node_csr, args(node, ca, key_path=str(node / 'missing' / 'k.pem')))
    assert result['failed'] is True and 'does not exist' in result['msg']


def test_check_mode_on_a_new_node_predicts_the_key(run_module, node, ca):
    # Check mode on a node never converged: the TLS directory and the nomad user are not there yet.
    result = run_module(tls_node_csr, args(node, ca, key_path=str(node / 'tls' / 'agent-key.pem'),
                                           cert_path=str(node / 'tls' / 'agent.pem'),
                                           owner='no-such-user-xyz', group='no-such-group-xyz'), check_mode=True)
    assert result['failed'] is False
    assert result['changed'] is True and result['certificate_needed'] is True and result['key_created'] is True
    assert 'csr' not in result
    assert os.listdir(node) == []


def test_ca_is_required_and_exclusive(run_module, node, ca):
    no_ca = args(node, ca)
    del no_ca['ca_certificate']
    assert 'one of the following is required' in run_module(tls_node_csr, no_ca)['msg']
    both = args(node, ca, ca_path=str(ca.cert_path))
    assert 'mutually exclusive' in run_module(tls_node_csr, both)['msg']


def test_bad_ca_text_fails_clearly(run_module, node, ca):
    result = run_module(tls_node_csr, args(node, ca, ca_certificate='garbage'))
    assert result['failed'] is True and 'ca_certificate holds no PEM certificate' in result['msg']


# -- state=promote: the rotated pair (*.next) swapped in -------------------------------------------


def rotated_pair(run_module, node, ca):
    """The current pair and a new one beside it, as issue.yml leaves them before the swap."""
    run_module(tls_node_csr, args(node, ca))
    result = run_module(tls_node_csr, args(node, ca, key_path=str(node / 'server-key.pem.next'),
                                           cert_path=str(node / 'server.pem.next'), regenerate=True))
    (node / 'server.pem.next').write_text(ca.issue(csr_of(result).public_key(), ['server.global.nomad']))
    return (node / 'server-key.pem.next').read_bytes(), (node / 'server.pem.next').read_bytes()


def promote_args(node):
    return dict(state='promote', key_path=str(node / 'server-key.pem'), cert_path=str(node / 'server.pem'))


def test_promote_swaps_in_the_new_pair_together(run_module, node, ca):
    key, cert = rotated_pair(run_module, node, ca)
    result = run_module(tls_node_csr, promote_args(node))
    assert result['changed'] is True
    assert (node / 'server-key.pem').read_bytes() == key and (node / 'server.pem').read_bytes() == cert
    assert sorted(os.listdir(node)) == ['server-key.pem', 'server.pem']
    assert stat.S_IMODE(os.stat(node / 'server-key.pem').st_mode) == 0o600
    assert run_module(tls_node_csr, promote_args(node))['changed'] is False


def test_promote_stopped_between_the_renames_finishes(run_module, node, ca):
    key, cert = rotated_pair(run_module, node, ca)
    os.rename(node / 'server-key.pem.next', node / 'server-key.pem')  # the first rename only
    assert run_module(tls_node_csr, promote_args(node))['changed'] is True
    assert (node / 'server-key.pem').read_bytes() == key and (node / 'server.pem').read_bytes() == cert


def test_promote_refuses_a_certificate_of_another_key(run_module, node, ca):
    rotated_pair(run_module, node, ca)
    other = _pki.generate_private_key()
    (node / 'server.pem.next').write_text(ca.issue(other.public_key(), ['server.global.nomad']))
    before = {name: (node / name).read_bytes() for name in os.listdir(node)}
    result = run_module(tls_node_csr, promote_args(node))
    assert result['failed'] is True and 'does not belong to the key' in result['msg']
    assert {name: (node / name).read_bytes() for name in os.listdir(node)} == before


def test_promote_in_check_mode_predicts_without_moving(run_module, node, ca):
    rotated_pair(run_module, node, ca)
    before = sorted(os.listdir(node))
    assert run_module(tls_node_csr, promote_args(node), check_mode=True)['changed'] is True
    assert sorted(os.listdir(node)) == before


def test_promote_without_a_new_pair_changes_nothing(run_module, node, ca):
    run_module(tls_node_csr, args(node, ca))
    (node / 'server-key.pem.next').write_bytes(b'a key made by a rotation that stopped before signing')
    assert run_module(tls_node_csr, promote_args(node))['changed'] is False
