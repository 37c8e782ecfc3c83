# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import datetime
import ipaddress
import os
import stat

import pytest
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
    # The certificate of a CA made in memory only, for the tasks that predict what they would write with it.
    cert = x509.load_pem_x509_certificate(result['certificate'].encode())
    assert cert.subject.rfc4514_string() == 'CN=Nomad Agent CA'
    assert result['fingerprint_sha256'] == _pki.fingerprint_sha256(cert)


def test_check_mode_predicts_creation_in_a_directory_not_made_yet(run_module, tmp_path):
    # Check mode on a new controller: the task that makes the secrets directory only pretended to.
    args = dict(key_path=str(tmp_path / 'secrets' / 'ca' / 'ca-key.pem'), cert_path=str(tmp_path / 'secrets' / 'ca' / 'ca.pem'))
    result = run_module(tls_ca, args, check_mode=True)
    assert result['failed'] is False and result['changed'] is True and result['created'] is True
    assert 'certificate' in result
    assert os.listdir(tmp_path) == []


def test_check_mode_on_existing_ca_is_unchanged(run_module, tmp_path):
    run_module(tls_ca, ca_args(tmp_path))
    result = run_module(tls_ca, ca_args(tmp_path), check_mode=True)
    assert result['changed'] is False and 'certificate' in result


# -- the rotation: state=next, promote, retire -------------------------------------------------------


def rotation_args(secrets, state, **extra):
    return dict(dict(key_path=str(secrets / 'ca' / 'ca-key.pem'), cert_path=str(secrets / 'ca' / 'ca.pem')),
                state=state, **extra)


def fingerprint(path):
    return _pki.fingerprint_sha256(load(path))


def layout(secrets):
    """Every file below the secrets directory, relative, sorted (archive stamps shown as <time>)."""
    names = []
    for root, _dirs, files in os.walk(secrets):
        for name in files:
            relative = os.path.relpath(os.path.join(root, name), secrets).split(os.sep)
            if relative[0] == 'ca-archive':
                relative[1] = '<time>'
            names.append('/'.join(relative))
    return sorted(names)


@pytest.fixture
def secrets(run_module, tmp_path):
    """A secrets directory with the signing CA in ca/, as the tls role leaves it."""
    directory = tmp_path / 'secrets'
    (directory / 'ca').mkdir(parents=True)
    run_module(tls_ca, rotation_args(directory, 'present'))
    return directory


def test_next_is_made_once_beside_the_current_ca(run_module, secrets):
    current = fingerprint(secrets / 'ca' / 'ca.pem')
    first = run_module(tls_ca, rotation_args(secrets, 'next', common_name='Next CA', valid_days=30))
    assert first['changed'] is True and first['created'] is True and first['phase'] == 'next'
    assert layout(secrets) == ['ca-next/ca-key.pem', 'ca-next/ca.pem', 'ca/ca-key.pem', 'ca/ca.pem']
    assert first['fingerprint_sha256'] == current  # the signing CA is still the current one
    made = load(secrets / 'ca-next' / 'ca.pem')
    assert made.subject.rfc4514_string() == 'CN=Next CA'
    assert first['rotation_certificates'] == [(secrets / 'ca-next' / 'ca.pem').read_text()]
    assert stat.S_IMODE(os.stat(secrets / 'ca-next').st_mode) == 0o700
    assert stat.S_IMODE(os.stat(secrets / 'ca-next' / 'ca-key.pem').st_mode) == 0o600
    key_before = (secrets / 'ca-next' / 'ca-key.pem').read_bytes()
    second = run_module(tls_ca, rotation_args(secrets, 'next'))
    assert second['changed'] is False and second['created'] is False and second['phase'] == 'next'
    assert (secrets / 'ca-next' / 'ca-key.pem').read_bytes() == key_before


def test_next_clears_what_a_run_stopped_while_making_it_left(run_module, secrets):
    staging = secrets / '.ca-next.new'
    staging.mkdir()
    (staging / 'ca-key.pem').write_text('half made')
    result = run_module(tls_ca, rotation_args(secrets, 'next'))
    assert result['created'] is True and not staging.exists()
    _pki.load_ca(str(secrets / 'ca-next' / 'ca.pem'), str(secrets / 'ca-next' / 'ca-key.pem'))


def test_next_needs_a_current_ca(run_module, tmp_path):
    (tmp_path / 'ca').mkdir()
    result = run_module(tls_ca, rotation_args(tmp_path, 'next'))
    assert result['failed'] is True and 'there is no CA in %s to rotate' % (tmp_path / 'ca') in result['msg']
    assert os.listdir(tmp_path) == ['ca']


def test_next_checks_its_settings_before_anything_changes(run_module, secrets):
    result = run_module(tls_ca, rotation_args(secrets, 'next', valid_days=0))
    assert result['failed'] is True and 'valid_days must be at least 1' in result['msg']
    assert not (secrets / 'ca-next').exists()


def test_a_broken_next_ca_is_an_error(run_module, secrets):
    run_module(tls_ca, rotation_args(secrets, 'next'))
    (secrets / 'ca-next' / 'ca-key.pem').write_bytes((secrets / 'ca' / 'ca-key.pem').read_bytes())
    for state in ('next', 'promote'):
        result = run_module(tls_ca, rotation_args(secrets, state))
        assert result['failed'] is True and 'the next CA key' in result['msg']
        assert 'does not belong to the certificate' in result['msg']
    assert not (secrets / 'ca-previous').exists()


def test_promote_moves_current_to_previous_and_next_to_current(run_module, secrets):
    current = fingerprint(secrets / 'ca' / 'ca.pem')
    run_module(tls_ca, rotation_args(secrets, 'next'))
    upcoming = fingerprint(secrets / 'ca-next' / 'ca.pem')
    result = run_module(tls_ca, rotation_args(secrets, 'promote'))
    assert result['changed'] is True and result['phase'] == 'promoted'
    assert layout(secrets) == ['ca-previous/ca-key.pem', 'ca-previous/ca.pem', 'ca/ca-key.pem', 'ca/ca.pem']
    assert fingerprint(secrets / 'ca' / 'ca.pem') == upcoming == result['fingerprint_sha256']
    assert fingerprint(secrets / 'ca-previous' / 'ca.pem') == current
    assert result['rotation_certificates'] == [(secrets / 'ca-previous' / 'ca.pem').read_text()]
    again = run_module(tls_ca, rotation_args(secrets, 'promote'))
    assert again['changed'] is False and again['phase'] == 'promoted'
    # past the promotion there is no next CA to make
    after = run_module(tls_ca, rotation_args(secrets, 'next'))
    assert after['changed'] is False and after['phase'] == 'promoted' and not (secrets / 'ca-next').exists()


def test_promote_without_a_next_ca_is_an_error(run_module, secrets):
    result = run_module(tls_ca, rotation_args(secrets, 'promote'))
    assert result['failed'] is True and 'there is no next CA in' in result['msg'] and 'state=next' in result['msg']


def test_promotion_stopped_between_its_renames_is_finished(run_module, secrets):
    run_module(tls_ca, rotation_args(secrets, 'next'))
    upcoming = fingerprint(secrets / 'ca-next' / 'ca.pem')
    os.rename(secrets / 'ca', secrets / 'ca-previous')  # the first rename only
    (secrets / 'ca').mkdir(mode=0o700)  # what the role's secrets_dir.yml makes meanwhile
    for state in ('present', 'retire'):
        result = run_module(tls_ca, rotation_args(secrets, state))
        if state == 'present':
            assert result['failed'] is True and 'run playbooks/rotate_ca.yml again' in result['msg']
        else:
            assert result['changed'] is False and result['phase'] == 'promoting'
        assert not os.listdir(secrets / 'ca')
    result = run_module(tls_ca, rotation_args(secrets, 'promote'))
    assert result['changed'] is True and result['phase'] == 'promoted'
    assert fingerprint(secrets / 'ca' / 'ca.pem') == upcoming


def test_next_finishes_a_stopped_promotion(run_module, secrets):
    run_module(tls_ca, rotation_args(secrets, 'next'))
    upcoming = fingerprint(secrets / 'ca-next' / 'ca.pem')
    os.rename(secrets / 'ca', secrets / 'ca-previous')
    result = run_module(tls_ca, rotation_args(secrets, 'next'))
    assert result['changed'] is True and result['created'] is False and result['phase'] == 'promoted'
    assert fingerprint(secrets / 'ca' / 'ca.pem') == upcoming


def test_retire_deletes_the_key_and_archives_the_certificate(run_module, secrets):
    previous = (secrets / 'ca' / 'ca.pem').read_text()
    run_module(tls_ca, rotation_args(secrets, 'next'))
    run_module(tls_ca, rotation_args(secrets, 'promote'))
    result = run_module(tls_ca, rotation_args(secrets, 'retire'))
    assert result['changed'] is True and result['phase'] == 'none' and result['rotation_certificates'] == []
    assert layout(secrets) == ['ca-archive/<time>/ca.pem', 'ca/ca-key.pem', 'ca/ca.pem']
    assert (secrets / 'ca-archive').joinpath(os.path.basename(result['archived']), 'ca.pem').read_text() == previous
    assert stat.S_IMODE(os.stat(secrets / 'ca-archive').st_mode) == 0o700
    again = run_module(tls_ca, rotation_args(secrets, 'retire'))
    assert again['changed'] is False and 'archived' not in again


def test_retire_stopped_after_deleting_the_key_finishes(run_module, secrets):
    run_module(tls_ca, rotation_args(secrets, 'next'))
    run_module(tls_ca, rotation_args(secrets, 'promote'))
    os.unlink(secrets / 'ca-previous' / 'ca-key.pem')
    result = run_module(tls_ca, rotation_args(secrets, 'retire'))
    assert result['changed'] is True
    assert layout(secrets) == ['ca-archive/<time>/ca.pem', 'ca/ca-key.pem', 'ca/ca.pem']


def test_two_retirements_in_one_second_keep_both_certificates(run_module, secrets, monkeypatch):
    moment = _pki.utcnow()
    monkeypatch.setattr(_pki, 'utcnow', lambda: moment)
    for _round in range(2):
        run_module(tls_ca, rotation_args(secrets, 'next'))
        run_module(tls_ca, rotation_args(secrets, 'promote'))
        result = run_module(tls_ca, rotation_args(secrets, 'retire'))
    assert result['archived'].endswith('Z-2')
    assert len(list((secrets / 'ca-archive').glob('*/ca.pem'))) == 2


def test_every_step_run_again_resumes_the_rotation(run_module, secrets):
    """A run stopped after step 1 or 3 (next, promote), run again from step 1, ends where it would have."""
    steps = ['next', 'promote', 'retire']
    for stopped_after, upcoming_dir in ((0, 'ca-next'), (1, 'ca')):
        for state in steps[:stopped_after + 1]:
            run_module(tls_ca, rotation_args(secrets, state))
        upcoming = fingerprint(secrets / upcoming_dir / 'ca.pem')
        for state in steps:
            result = run_module(tls_ca, rotation_args(secrets, state))
            assert result['failed'] is False, result
        assert result['phase'] == 'none'
        assert fingerprint(secrets / 'ca' / 'ca.pem') == upcoming  # no second new CA
    assert layout(secrets) == ['ca-archive/<time>/ca.pem'] * 2 + ['ca/ca-key.pem', 'ca/ca.pem']
    # a finished rotation run again is a new rotation
    signing = fingerprint(secrets / 'ca' / 'ca.pem')
    for state in steps:
        run_module(tls_ca, rotation_args(secrets, state))
    assert fingerprint(secrets / 'ca' / 'ca.pem') != signing


def test_check_mode_predicts_each_step_without_writing(run_module, secrets):
    before = layout(secrets)
    result = run_module(tls_ca, rotation_args(secrets, 'next'), check_mode=True)
    assert result['changed'] is True and result['created'] is True and layout(secrets) == before
    run_module(tls_ca, rotation_args(secrets, 'next'))
    before = layout(secrets)
    result = run_module(tls_ca, rotation_args(secrets, 'promote'), check_mode=True)
    assert result['changed'] is True and result['phase'] == 'next' and layout(secrets) == before
    run_module(tls_ca, rotation_args(secrets, 'promote'))
    before = layout(secrets)
    result = run_module(tls_ca, rotation_args(secrets, 'retire'), check_mode=True)
    assert result['changed'] is True and result['archived'].startswith(str(secrets / 'ca-archive'))
    assert layout(secrets) == before and not (secrets / 'ca-archive').exists()


def test_present_reports_the_rotation_certificates_to_trust(run_module, secrets):
    assert run_module(tls_ca, rotation_args(secrets, 'present'))['rotation_certificates'] == []
    run_module(tls_ca, rotation_args(secrets, 'next'))
    result = run_module(tls_ca, rotation_args(secrets, 'present'))
    assert result['changed'] is False and result['phase'] == 'next'
    assert result['rotation_certificates'] == [(secrets / 'ca-next' / 'ca.pem').read_text()]


def test_rotation_needs_key_and_certificate_in_one_directory(run_module, secrets):
    args = rotation_args(secrets, 'next', key_path=str(secrets / 'ca-key.pem'))
    result = run_module(tls_ca, args)
    assert result['failed'] is True and 'must be in the same directory' in result['msg']


def test_next_previous_and_archive_directories_can_be_named(run_module, secrets):
    named = dict(next_dir=str(secrets / 'upcoming'), previous_dir=str(secrets / 'old'), archive_dir=str(secrets / 'done'))
    for state in ('next', 'promote'):
        run_module(tls_ca, rotation_args(secrets, state, **named))
    assert sorted(os.listdir(secrets)) == ['ca', 'old']
    run_module(tls_ca, rotation_args(secrets, 'retire', **named))
    assert sorted(os.listdir(secrets)) == ['ca', 'done']
