# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Keys, CSRs and certificates for Nomad's mTLS, and the name policy of each role.

Private to the collection. Needs the ``cryptography`` package; modules call
require_cryptography(module) first, which fails with missing_required_lib() when it is absent.
Files are read and written with _files (the one atomic writer).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import re
import shutil
import traceback

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.hardened.nomad.plugins.module_utils import _inputs
from ansible_collections.hardened.nomad.plugins.module_utils._files import FileWriteError, read_file, write_file_atomic

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
except ImportError:
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None

ROLES = ('server', 'client', 'cli')
# Roles whose agents serve HTTPS on the node, so local tools reach them by localhost/127.0.0.1.
ROLES_WITH_LOOPBACK_NAMES = ('server', 'client')
LOOPBACK_DNS = 'localhost'
LOOPBACK_IP = '127.0.0.1'

_LABEL_RE = re.compile(r'^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$')
_ROLE_NAME_RE = re.compile(r'^(?P<role>[^.]+)\.(?P<region>[^.]+)\.nomad$')

_PEM_CERT_RE = re.compile(r'-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----', re.DOTALL)


class PKIError(Exception):
    """A problem with names, keys or certificates, worded for the user."""


# What a module turns into fail_json(msg=str(error)): each names the file or option at fault.
ERRORS = (PKIError, FileWriteError, OSError)


def require_cryptography(module):
    """Fail the module with the usual install hint when ``cryptography`` cannot be imported."""
    if not HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib('cryptography'), exception=CRYPTOGRAPHY_IMPORT_ERROR)


# -- name policy -------------------------------------------------------------------------------

def validate_region(region):
    """The preflight's rule for nomad_region (module_utils/_inputs.py), so the two never disagree."""
    for problem in _inputs.region_problems(region, 'region'):
        raise PKIError(problem)


def role_name(role, region):
    """The name Nomad checks for a role: server.<region>.nomad, client.<region>.nomad, cli.<region>.nomad."""
    if role not in ROLES:
        raise PKIError('role must be one of %s, not %r' % (', '.join(ROLES), role))
    validate_region(region)
    return ('%s.%s.nomad' % (role, region)).lower()


def normalize_dns_name(name, option='dns_names'):
    """Lower-case a host name and check it is a plain DNS name (no wildcard)."""
    value = (name or '').strip().lower().rstrip('.')
    if '*' in value:
        raise PKIError('%s: %s is a wildcard; wildcard names are never issued' % (option, name))
    if not value or len(value) > 253 or not all(_LABEL_RE.match(label) for label in value.split('.')):
        raise PKIError('%s: %r is not a valid DNS name' % (option, name))
    return value


def normalize_ip(address, option='ip_addresses'):
    try:
        return str(ipaddress.ip_address(str(address).strip()))
    except ValueError:
        raise PKIError('%s: %r is not an IP address' % (option, address))


def allowed_names(role, region, dns_names=None, ip_addresses=None):
    """The exact SANs a certificate for this role, region and extras must carry.

    Returns (dns names, ip addresses), both lists in a stable order without duplicates.
    Extra names in the reserved .nomad domain are refused: only the role's own name may be
    there, or a client certificate could be made to carry server.<region>.nomad.
    """
    own_name = role_name(role, region)
    dns = [own_name]
    ips = []
    if role in ROLES_WITH_LOOPBACK_NAMES:
        dns.append(LOOPBACK_DNS)
        ips.append(LOOPBACK_IP)
    for name in dns_names or []:
        value = normalize_dns_name(name)
        if value != own_name and (value == 'nomad' or value.endswith('.nomad')):
            raise PKIError('dns_names: %s is in the reserved .nomad domain; a %s certificate only carries %s there'
                           % (value, role, own_name))
        if value not in dns:
            dns.append(value)
    for address in ip_addresses or []:
        value = normalize_ip(address)
        if value not in ips:
            ips.append(value)
    return dns, ips


def refusal_reason(kind, value, role, region, allowed_dns, allowed_ips):
    """Why a requested SAN is not issued (a sentence naming it), or None when it is allowed."""
    if kind == 'DNS':
        name = value.lower().rstrip('.')
        if name in allowed_dns:
            return None
        label = 'SAN DNS:%s' % value
        if '*' in name:
            return '%s is a wildcard; wildcard names are never issued' % label
        match = _ROLE_NAME_RE.match(name)
        if match and match.group('role') in ROLES:
            if match.group('role') != role:
                return ('%s is the name of role %s, but this request is for role %s'
                        % (label, match.group('role'), role))
            return '%s is for region %s, but this request is for region %s' % (label, match.group('region'), region)
        if name == 'nomad' or name.endswith('.nomad'):
            return '%s is in the reserved .nomad domain' % label
        return '%s is not allowed for this request (allowed DNS names: %s)' % (label, ', '.join(allowed_dns))
    if kind == 'IP':
        if value in allowed_ips:
            return None
        return 'SAN IP:%s is not allowed for this request (allowed IP addresses: %s)' % (
            value, ', '.join(allowed_ips) or 'none')
    return 'SAN %s:%s is of a type that is never issued (only DNS names and IP addresses are)' % (kind, value)


def san_entries(extension_value):
    """(kind, value) pairs of a SubjectAlternativeName extension value."""
    entries = []
    for general_name in extension_value:
        if isinstance(general_name, x509.DNSName):
            entries.append(('DNS', general_name.value))
        elif isinstance(general_name, x509.IPAddress):
            entries.append(('IP', str(general_name.value)))
        elif isinstance(general_name, x509.RFC822Name):
            entries.append(('email', general_name.value))
        elif isinstance(general_name, x509.UniformResourceIdentifier):
            entries.append(('URI', general_name.value))
        else:
            entries.append((type(general_name).__name__, str(general_name.value)))
    return entries


def sans_of(cert_or_csr):
    """(kind, value) SAN pairs of a certificate or CSR; empty when it has no SAN extension."""
    try:
        extension = cert_or_csr.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return san_entries(extension.value)


def san_drift(cert, wanted_dns, wanted_ips):
    """Describe how the certificate's SANs differ from the wanted ones, or None when exactly equal."""
    have = set()
    for kind, value in sans_of(cert):
        if kind == 'DNS':
            value = value.lower().rstrip('.')
        have.add((kind, value))
    want = set(('DNS', name) for name in wanted_dns) | set(('IP', ip) for ip in wanted_ips)
    if have == want:
        return None
    parts = []
    missing = sorted(want - have)
    extra = sorted(have - want)
    if missing:
        parts.append('missing ' + ', '.join('%s:%s' % pair for pair in missing))
    if extra:
        parts.append('unexpected ' + ', '.join('%s:%s' % pair for pair in extra))
    return '; '.join(parts)


# -- keys ----------------------------------------------------------------------------------------

def generate_private_key():
    """A new ECDSA P-256 key, what `nomad tls` makes."""
    return ec.generate_private_key(ec.SECP256R1())


def private_key_pem(key):
    return key.private_bytes(encoding=serialization.Encoding.PEM,
                             format=serialization.PrivateFormat.PKCS8,
                             encryption_algorithm=serialization.NoEncryption())


def load_private_key(data, path):
    try:
        return serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise PKIError('%s is not an unencrypted PEM private key (%s)' % (path, exc))


def public_key_der(public_key):
    return public_key.public_bytes(encoding=serialization.Encoding.DER,
                                   format=serialization.PublicFormat.SubjectPublicKeyInfo)


def key_matches(cert, private_key):
    return public_key_der(cert.public_key()) == public_key_der(private_key.public_key())


def check_key_strength(public_key, what):
    """Refuse keys weaker than Nomad's own defaults would be."""
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        if public_key.curve.name not in ('secp256r1', 'secp384r1', 'secp521r1'):
            raise PKIError('%s uses the curve %s; use P-256, P-384 or P-521' % (what, public_key.curve.name))
    elif isinstance(public_key, rsa.RSAPublicKey):
        if public_key.key_size < 2048:
            raise PKIError('%s is a %d-bit RSA key; at least 2048 bits are needed' % (what, public_key.key_size))
    else:
        raise PKIError('%s is a %s key; only ECDSA and RSA keys are accepted' % (what, type(public_key).__name__))


# -- certificates --------------------------------------------------------------------------------

def load_certificate(data, what):
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError as exc:
        raise PKIError('%s is not a PEM certificate (%s)' % (what, exc))


def load_certificates(text, what):
    """All certificates of a PEM bundle, in order. The first is the current CA."""
    if isinstance(text, bytes):
        text = text.decode('ascii', 'replace')
    blocks = _PEM_CERT_RE.findall(text)
    if not blocks:
        raise PKIError('%s holds no PEM certificate' % what)
    return [load_certificate(block.encode('ascii'), what) for block in blocks]


def load_csr(text):
    if isinstance(text, str):
        text = text.encode('ascii', 'replace')
    try:
        return x509.load_pem_x509_csr(text)
    except ValueError as exc:
        raise PKIError('csr is not a PEM certificate signing request (%s)' % exc)


def not_after(cert):
    """Expiry as an aware UTC datetime (works with old and new cryptography)."""
    value = getattr(cert, 'not_valid_after_utc', None)
    if value is None:
        value = cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)
    return value


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def iso8601(moment):
    return moment.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def serial_hex(cert):
    """Serial number in upper-case hex, as `openssl x509 -serial` prints it."""
    return '%X' % cert.serial_number


def fingerprint_sha256(cert):
    digest = cert.fingerprint(hashes.SHA256())
    return ':'.join('%02X' % byte for byte in bytearray(digest))


def certificate_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def is_ca(cert):
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def signed_by(cert, issuer):
    """True when ``issuer``'s key made ``cert``'s signature (and the names chain)."""
    if cert.issuer != issuer.subject:
        return False
    public_key = issuer.public_key()
    try:
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
        elif isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(),
                              cert.signature_hash_algorithm)
        else:
            public_key.verify(cert.signature, cert.tbs_certificate_bytes)
    except (InvalidSignature, TypeError, ValueError):
        return False
    return True


def _dns_permitted(name, constraint):
    # RFC 5280 / Go: "nomad" permits nomad and any *.nomad; ".nomad" permits only subdomains.
    constraint = constraint.lower()
    if constraint.startswith('.'):
        return name.endswith(constraint)
    return name == constraint or name.endswith('.' + constraint)


def name_constraint_violations(ca_cert, dns_names, ip_addresses):
    """SANs the CA's NameConstraints would make clients reject, as 'DNS:x' / 'IP:y' strings."""
    try:
        constraints = ca_cert.extensions.get_extension_for_class(x509.NameConstraints).value
    except x509.ExtensionNotFound:
        return []
    permitted = constraints.permitted_subtrees or []
    excluded = constraints.excluded_subtrees or []
    permitted_dns = [n.value for n in permitted if isinstance(n, x509.DNSName)]
    permitted_ips = [n.value for n in permitted if isinstance(n, x509.IPAddress)]
    excluded_dns = [n.value for n in excluded if isinstance(n, x509.DNSName)]
    excluded_ips = [n.value for n in excluded if isinstance(n, x509.IPAddress)]
    violations = []
    for name in dns_names:
        if any(_dns_permitted(name, c) for c in excluded_dns) or (
                permitted_dns and not any(_dns_permitted(name, c) for c in permitted_dns)):
            violations.append('DNS:%s' % name)
    for address in ip_addresses:
        ip = ipaddress.ip_address(address)
        if any(ip in net for net in excluded_ips) or (permitted_ips and not any(ip in net for net in permitted_ips)):
            violations.append('IP:%s' % address)
    return violations


def build_csr(private_key, common_name, dns_names, ip_addresses):
    names = [x509.DNSName(name) for name in dns_names]
    names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ip_addresses]
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
           .add_extension(x509.SubjectAlternativeName(names), critical=False)
           .sign(private_key, hashes.SHA256()))
    return csr.public_bytes(serialization.Encoding.PEM)


def _skew_tolerant_start():
    # A minute in the past, so a node whose clock is slightly behind accepts the certificate.
    return utcnow() - datetime.timedelta(minutes=1)


def _hash_for(private_key):
    if isinstance(private_key, ec.EllipticCurvePrivateKey) and private_key.curve.key_size > 256:
        return hashes.SHA384()
    return hashes.SHA256()


def create_ca(common_name, valid_days, permitted_dns_domains=None, permitted_ip_ranges=None):
    """A new self-signed CA: (private key, certificate).

    ``permitted_dns_domains`` None means no NameConstraints extension at all.
    """
    key = generate_private_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    start = _skew_tolerant_start()
    builder = (x509.CertificateBuilder()
               .subject_name(name)
               .issuer_name(name)
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(start)
               .not_valid_after(start + datetime.timedelta(days=valid_days))
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                            key_encipherment=False, data_encipherment=False, key_agreement=False,
                                            key_cert_sign=True, crl_sign=True, encipher_only=False,
                                            decipher_only=False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    if permitted_dns_domains is not None:
        subtrees = [x509.DNSName(domain) for domain in permitted_dns_domains]
        subtrees += [x509.IPAddress(network) for network in permitted_ip_ranges or []]
        builder = builder.add_extension(x509.NameConstraints(permitted_subtrees=subtrees, excluded_subtrees=None),
                                        critical=True)
    return key, builder.sign(key, hashes.SHA256())


def sign_leaf(ca_cert, ca_key, public_key, common_name, dns_names, ip_addresses, valid_days, server_auth):
    """Issue a leaf certificate for ``public_key`` with exactly the given names."""
    names = [x509.DNSName(name) for name in dns_names]
    names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ip_addresses]
    usages = [ExtendedKeyUsageOID.CLIENT_AUTH]
    if server_auth:
        usages.insert(0, ExtendedKeyUsageOID.SERVER_AUTH)
    try:
        ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        authority_key_id = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski)
    except x509.ExtensionNotFound:
        authority_key_id = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key())
    start = _skew_tolerant_start()
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
               .issuer_name(ca_cert.subject)
               .public_key(public_key)
               .serial_number(x509.random_serial_number())
               .not_valid_before(start)
               .not_valid_after(start + datetime.timedelta(days=valid_days))
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                            key_encipherment=True, data_encipherment=False, key_agreement=False,
                                            key_cert_sign=False, crl_sign=False, encipher_only=False,
                                            decipher_only=False), critical=True)
               .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
               .add_extension(x509.SubjectAlternativeName(names), critical=False)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
               .add_extension(authority_key_id, critical=False))
    return builder.sign(ca_key, _hash_for(ca_key))


# -- the CA and its rotation ---------------------------------------------------------------------

def _read(path, option):
    try:
        return read_file(path)
    except OSError as exc:
        raise PKIError('%s %s cannot be read: %s' % (option, path, exc.strerror or exc))


def load_ca(cert_path, key_path, cert_option='cert_path', key_option='key_path'):
    """(certificate, private key) of the CA in these files, checked to be a CA and to belong together.

    Errors name the option and the file; nothing is changed. Whether an expired CA is an error is
    the caller's choice (see not_after()).
    """
    cert = load_certificate(_read(cert_path, cert_option), '%s %s' % (cert_option, cert_path))
    key = load_private_key(_read(key_path, key_option), '%s %s' % (key_option, key_path))
    if not key_matches(cert, key):
        raise PKIError('%s %s does not belong to the certificate in %s %s: it is not the key of the CA certificate. '
                       'Nothing was changed; put back the key that belongs to it'
                       % (key_option, key_path, cert_option, cert_path))
    if not is_ca(cert):
        raise PKIError('%s %s is not a CA certificate (basicConstraints CA:true is missing)' % (cert_option, cert_path))
    return cert, key


def _sync_directory(path):
    """Make the renames in ``path`` durable before the next step relies on them."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def swap_in_next_pair(key_path, cert_path, check_mode=False, suffix='.next'):
    """Rename ``key_path.next`` over key_path, then ``cert_path.next`` over cert_path, back to back.

    Only once the new certificate is proven to belong to the new key, so no reader sees a key
    with a certificate of another. Returns True when the pair moved (or would). Without a new
    certificate there is nothing to swap in; stopped between the two renames, the next call
    moves the certificate to the key already in place.
    """
    next_key, next_cert = key_path + suffix, cert_path + suffix
    if not os.path.exists(next_cert):
        return False
    key_file = next_key if os.path.exists(next_key) else key_path
    cert = load_certificate(_read(next_cert, 'the new certificate'), 'the new certificate %s' % next_cert)
    key = load_private_key(_read(key_file, 'the new key'), 'the new key %s' % key_file)
    if not key_matches(cert, key):
        raise PKIError('the new certificate %s does not belong to the key %s: nothing was swapped in. Remove %s and '
                       'rotate again' % (next_cert, key_file, next_cert))
    if check_mode:
        return True
    if key_file == next_key:
        os.rename(next_key, key_path)
    os.rename(next_cert, cert_path)
    for directory in sorted(set(os.path.dirname(os.path.abspath(path)) for path in (key_path, cert_path))):
        _sync_directory(directory)
    return True


class CARotation:
    """The signing CA's directory and the three beside it that a CA rotation uses.

    ``<ca>/`` holds the signing CA (cert_path and key_path), ``<ca>-next/`` the next CA (step 1,
    made whole in one rename), ``<ca>-previous/`` the CA before the promotion (trusted until every
    certificate is reissued), ``<ca>-archive/<UTC time>/`` a retired CA's certificate (its key is
    deleted). Every step is one or two renames and finds out from these directories what is done,
    so a run stopped anywhere is finished by running the steps again.
    """

    def __init__(self, cert_path, key_path, next_dir=None, previous_dir=None, archive_dir=None):
        self.cert_path, self.key_path = cert_path, key_path
        self.directory = os.path.dirname(os.path.abspath(cert_path))
        self.cert_name, self.key_name = os.path.basename(cert_path), os.path.basename(key_path)
        self.next_dir = next_dir or self.directory + '-next'
        self.previous_dir = previous_dir or self.directory + '-previous'
        self.archive_dir = archive_dir or self.directory + '-archive'

    def files(self, directory):
        return os.path.join(directory, self.cert_name), os.path.join(directory, self.key_name)

    def require_one_directory(self):
        if os.path.dirname(os.path.abspath(self.key_path)) != self.directory:
            raise PKIError('a CA rotation moves the directory of the CA: cert_path %s and key_path %s must be in the '
                           'same directory' % (self.cert_path, self.key_path))

    def signing_ca_present(self):
        # An empty directory (the role makes it before the CA) is no CA.
        return any(os.path.exists(path) for path in self.files(self.directory))

    def phase(self):
        """Where a rotation stands: none, next (a next CA waits), promoting (stopped between the two
        renames of the promotion) or promoted (the previous CA is kept until it is retired)."""
        current = self.signing_ca_present()
        upcoming, previous = os.path.isdir(self.next_dir), os.path.isdir(self.previous_dir)
        if upcoming and previous:
            if current:
                raise PKIError('a next CA (%s) and a previous CA (%s) both exist beside the signing CA in %s; no step '
                               'of a rotation leaves that. Retire the previous CA (state=retire) or remove %s, then '
                               'run again' % (self.next_dir, self.previous_dir, self.directory, self.next_dir))
            return 'promoting'
        if previous:
            if not current:
                raise PKIError('the previous CA %s exists but there is no signing CA in %s: restore the signing CA '
                               'from a backup' % (self.previous_dir, self.directory))
            return 'promoted'
        return 'next' if upcoming else 'none'

    def rotation_certificates(self):
        """PEM certificates of the rotation's other CA (the next one, or the previous one), to trust too."""
        pems = []
        for directory in (self.next_dir, self.previous_dir):
            path = self.files(directory)[0]
            if os.path.isfile(path):
                pems.append(certificate_pem(load_certificate(_read(path, 'CA certificate'), path)).decode('ascii'))
        return pems

    def load_signing_ca(self):
        if not self.signing_ca_present():
            raise PKIError('there is no CA in %s to rotate: create it first (the tls role, site.yml)' % self.directory)
        return load_ca(self.cert_path, self.key_path)

    def load_next(self):
        cert_path, key_path = self.files(self.next_dir)
        return load_ca(cert_path, key_path, 'the next CA certificate', 'the next CA key')

    def make_next(self, create, check_mode):
        """Step 1: the next CA in next_dir, whole or not at all.

        Returns 'created' when it was (or would be) made, 'promoted' when it finished a stopped
        promotion instead, None when there was nothing to do.

        ``create()`` returns (key, certificate) of a new CA. An existing next CA is only loaded;
        past the promotion there is nothing to make, and a promotion stopped half-way is finished.
        """
        self.require_one_directory()
        phase = self.phase()
        if phase == 'promoting':
            return 'promoted' if self.promote(check_mode) else None
        if phase == 'promoted':
            return None
        self.load_signing_ca()
        if phase == 'next':
            self.load_next()
            return None
        parent = os.path.dirname(os.path.abspath(self.next_dir))
        if not os.path.isdir(parent):
            raise PKIError('the directory %s of next_dir %s does not exist' % (parent, self.next_dir))
        if check_mode:
            return 'created'
        staging = os.path.join(parent, '.%s.new' % os.path.basename(self.next_dir))
        if os.path.isdir(staging):
            shutil.rmtree(staging)  # a run stopped while making it; never trusted anywhere
        os.mkdir(staging, 0o700)
        os.chmod(staging, 0o700)
        key, cert = create()
        cert_path, key_path = self.files(staging)
        write_file_atomic(key_path, private_key_pem(key), 0o600)
        write_file_atomic(cert_path, certificate_pem(cert), 0o644)
        os.rename(staging, self.next_dir)
        _sync_directory(parent)
        return 'created'

    def promote(self, check_mode):
        """Step 3: the signing CA moves to previous_dir, the next CA becomes the signing CA.

        True when something moved (or would). Stopped between the two renames, it does the second.
        """
        self.require_one_directory()
        phase = self.phase()
        if phase == 'promoted':
            return False
        if phase == 'none':
            raise PKIError('there is no next CA in %s to promote: make it first (state=next, step 1 of '
                           'playbooks/rotate_ca.yml)' % self.next_dir)
        self.load_next()
        if phase == 'next':
            self.load_signing_ca()
        if check_mode:
            return True
        if phase == 'next':
            os.rename(self.directory, self.previous_dir)
            _sync_directory(os.path.dirname(os.path.abspath(self.previous_dir)))
        # onto nothing, or onto the empty directory the role may have made meanwhile
        os.rename(self.next_dir, self.directory)
        _sync_directory(os.path.dirname(self.directory))
        return True

    def retire(self, check_mode):
        """Step 6: the previous CA's key is deleted, then its certificate moves to archive_dir/<UTC time>.

        Returns the archive directory it went to (or would go to), None when there is nothing to retire.
        """
        self.require_one_directory()
        if self.phase() != 'promoted':
            return None
        stamp = os.path.join(self.archive_dir, utcnow().strftime('%Y%m%dT%H%M%SZ'))
        target, count = stamp, 1
        while os.path.exists(target):
            count += 1
            target = '%s-%d' % (stamp, count)
        if check_mode:
            return target
        key_path = self.files(self.previous_dir)[1]
        if os.path.exists(key_path):
            os.unlink(key_path)
        if not os.path.isdir(self.archive_dir):
            os.mkdir(self.archive_dir, 0o700)
            os.chmod(self.archive_dir, 0o700)
        os.rename(self.previous_dir, target)
        _sync_directory(self.archive_dir)
        return target
