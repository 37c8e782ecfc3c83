# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Nomad HTTP API client over mutual TLS.

Private to the collection. Built on ansible.module_utils.urls and the standard library only, so
managed nodes need no extra Python package.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import ssl
import time
import urllib.error
from urllib.parse import quote, urlencode, urlparse

from ansible.module_utils.basic import env_fallback
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.urls import Request

# Documented by plugins/doc_fragments/connection.py (tests/unit/.../test_connection_spec.py keeps both equal).
NOMAD_CONNECTION_SPEC = dict(
    address=dict(type='str', default='https://127.0.0.1:4646', fallback=(env_fallback, ['NOMAD_ADDR'])),
    ca_file=dict(type='path', fallback=(env_fallback, ['NOMAD_CACERT'])),
    client_cert=dict(type='path', fallback=(env_fallback, ['NOMAD_CLIENT_CERT'])),
    client_key=dict(type='path', fallback=(env_fallback, ['NOMAD_CLIENT_KEY'])),
    token=dict(type='str', no_log=True, fallback=(env_fallback, ['NOMAD_TOKEN'])),
    timeout=dict(type='int', default=10),
    validate_certs=dict(type='bool', default=True),
)

CERT_NAMES_HINT = ('Nomad certs are valid for server.<region>.nomad, localhost, 127.0.0.1 '
                   'and the node address')

# OpenSSL verify codes (X509_V_ERR_*) that Python reports in SSLCertVerificationError.verify_code.
_X509_EXPIRED = 10
_X509_NOT_YET_VALID = 9
_X509_UNKNOWN_ISSUER_CODES = (2, 18, 19, 20, 21)
_X509_PERMITTED_VIOLATION = 47
_X509_HOSTNAME_MISMATCH = 62
_X509_IP_MISMATCH = 64

# TLS alerts (OpenSSL reason names) a server sends when it refuses our client certificate.
_CLIENT_CERT_ALERTS = (
    'TLSV13_ALERT_CERTIFICATE_REQUIRED',
    'SSLV3_ALERT_HANDSHAKE_FAILURE',
    'SSLV3_ALERT_BAD_CERTIFICATE',
    'TLSV1_ALERT_UNKNOWN_CA',
    'SSLV3_ALERT_CERTIFICATE_EXPIRED',
    'SSLV3_ALERT_CERTIFICATE_UNKNOWN',
    'TLSV1_ALERT_DECRYPT_ERROR',
    'TLSV1_ALERT_ACCESS_DENIED',
)


class NomadError(Exception):
    """A failed call to Nomad. ``status`` is the HTTP status, or None when no answer came."""

    def __init__(self, message, status=None, body=None, retryable=False):
        super().__init__(message)
        self.message = message
        self.status = status
        self.body = body
        # True when trying again later may succeed (connection refused: the agent is starting).
        self.retryable = retryable


def connection_params(params):
    """The connection options out of a module's params."""
    return dict((name, params.get(name)) for name in NOMAD_CONNECTION_SPEC)


class NomadClient:
    def __init__(self, address='https://127.0.0.1:4646', ca_file=None, client_cert=None, client_key=None,
                 token=None, timeout=10, validate_certs=True):
        self.address = address.rstrip('/')
        self.ca_file = ca_file
        self.client_cert = client_cert
        self.client_key = client_key
        self.token = token
        self.timeout = timeout
        self.validate_certs = validate_certs
        parsed = urlparse(self.address)
        if parsed.scheme not in ('http', 'https') or not parsed.hostname:
            raise NomadError('address %s is not a URL like https://127.0.0.1:4646' % address)
        self.host = parsed.hostname
        self.is_https = parsed.scheme == 'https'
        self._request = None

    @classmethod
    def from_params(cls, params):
        return cls(**connection_params(params))

    # -- HTTP -------------------------------------------------------------------------------

    def get(self, path, query=None, token=None):
        return self.request('GET', path, query=query, token=token)

    def post(self, path, body=None, token=None):
        return self.request('POST', path, body=body, token=token)

    def put(self, path, body=None, token=None):
        return self.request('PUT', path, body=body, token=token)

    def delete(self, path, token=None):
        return self.request('DELETE', path, token=token)

    def request(self, method, path, body=None, query=None, token=None):
        """Call the API and return the decoded answer (JSON when it parses, else text).

        ``token`` overrides the client's token for this call.
        """
        url = self.address + path
        if query:
            url += '?' + urlencode(query)
        headers = {'Accept': 'application/json'}
        token = token if token is not None else self.token
        if token:
            headers['X-Nomad-Token'] = token
        data = None
        if body is not None:
            data = json.dumps(body).encode('utf-8')
            headers['Content-Type'] = 'application/json'
        opener = self._opener()
        try:
            response = opener.open(method, url, data=data, headers=headers)
            text = to_text(response.read(), errors='surrogate_or_strict')
        except urllib.error.HTTPError as exc:
            raise self._http_error(method, path, exc)
        except NomadError:
            raise
        except Exception as exc:  # every other failure is a transport problem: explain it
            raise NomadError(self.explain_transport_error(exc), retryable=_is_refused(exc))
        return _decode(text)

    def _opener(self):
        if self._request is None:
            self._request = Request(context=self._tls_context(), timeout=self.timeout,
                                    validate_certs=self.validate_certs, use_netrc=False,
                                    http_agent='hardened.nomad')
        return self._request

    def _tls_context(self):
        """An SSLContext with the CA and client certificate, or None for plain http.

        Built here rather than inside urls.Request so that problems with the files are reported
        against the option that names them.
        """
        if not self.is_https:
            return None
        self._check_files()
        try:
            if self.validate_certs:
                context = ssl.create_default_context(cafile=self.ca_file)
            else:
                context = ssl.create_default_context()
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
        except ssl.SSLError as exc:
            raise NomadError('ca_file %s holds no usable PEM CA certificate (%s)' % (self.ca_file, exc))
        if self.client_cert:
            try:
                context.load_cert_chain(self.client_cert, keyfile=self.client_key)
            except ssl.SSLError as exc:
                raise NomadError('client_cert %s and client_key %s could not be loaded: they must be PEM files '
                                 'and the key must belong to the certificate (%s)'
                                 % (self.client_cert, self.client_key or '(in client_cert)', exc))
        return context

    def _check_files(self):
        if self.client_key and not self.client_cert:
            raise NomadError('client_key is set but client_cert is not: set both')
        for option in ('ca_file', 'client_cert', 'client_key'):
            path = getattr(self, option)
            if not path:
                continue
            if not os.path.exists(path):
                raise NomadError('%s %s does not exist' % (option, path))
            if not os.path.isfile(path):
                raise NomadError('%s %s is not a file' % (option, path))
            if not os.access(path, os.R_OK):
                raise NomadError('%s %s is not readable by this user' % (option, path))

    def _http_error(self, method, path, exc):
        try:
            text = to_text(exc.read(), errors='surrogate_or_strict').strip()
        except Exception:
            text = ''
        text = text or to_text(exc.reason)
        message = 'Nomad answered HTTP %d to %s %s: %s' % (exc.code, method, path, text)
        if exc.code == 400 and 'HTTP request to an HTTPS server' in text:
            message = ('the agent at %s speaks HTTPS: use an https:// address (%s)' % (self.address, text))
        elif exc.code == 403:
            message += ' (the token is missing, unknown, or lacks the capability this call needs)'
        return NomadError(message, status=exc.code, body=text)

    # -- transport errors -------------------------------------------------------------------

    def explain_transport_error(self, exc):
        """A sentence saying what went wrong on the way to Nomad."""
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        if isinstance(reason, ssl.SSLCertVerificationError):
            return self._explain_verification(reason)
        if isinstance(reason, (ssl.SSLEOFError, ssl.SSLZeroReturnError, ConnectionResetError,
                               http.client.RemoteDisconnected, BrokenPipeError)):
            # With TLS 1.3 the server checks our certificate after the handshake and may just drop
            # the connection; the alert saying why often never arrives.
            if self.is_https and not self.client_cert:
                return self._client_cert_required()
            return ('the server closed the connection without answering (%s): most likely it rejected the client '
                    'certificate in client_cert %s, which must be signed by the cluster CA and be currently valid'
                    % (reason, self.client_cert))
        if isinstance(reason, ssl.SSLError):
            return self._explain_ssl_error(reason)
        if isinstance(reason, ConnectionRefusedError):
            return ('cannot connect to Nomad at %s: connection refused (is the agent running and listening '
                    'on that address and port?)' % self.address)
        if isinstance(reason, socket.timeout) or 'timed out' in str(reason):
            return 'no answer from Nomad at %s within %s seconds (timeout)' % (self.address, self.timeout)
        if isinstance(reason, socket.gaierror):
            return 'cannot resolve the host name %s in address %s (%s)' % (self.host, self.address, reason)
        return 'cannot talk to Nomad at %s: %s' % (self.address, reason)

    def _explain_verification(self, error):
        code = getattr(error, 'verify_code', None)
        detail = getattr(error, 'verify_message', '') or str(error)
        if code in (_X509_HOSTNAME_MISMATCH, _X509_IP_MISMATCH):
            return ('server certificate is not valid for %s (check address; %s)' % (self.host, CERT_NAMES_HINT))
        if code in _X509_UNKNOWN_ISSUER_CODES:
            if self.ca_file:
                return 'server certificate is not signed by the CA in ca_file %s (%s)' % (self.ca_file, detail)
            return ('server certificate is not signed by a CA in the system trust store: set ca_file to the '
                    'cluster CA certificate (%s)' % detail)
        if code == _X509_EXPIRED:
            return 'server certificate of %s has expired: renew it' % self.address
        if code == _X509_NOT_YET_VALID:
            return 'server certificate of %s is not valid yet (check the clocks)' % self.address
        if code == _X509_PERMITTED_VIOLATION:
            return ('server certificate of %s names a host outside the name constraints of its CA (%s)'
                    % (self.address, detail))
        return 'server certificate of %s failed verification: %s' % (self.address, detail)

    def _explain_ssl_error(self, error):
        reason = getattr(error, 'reason', None) or ''
        if reason in _CLIENT_CERT_ALERTS:
            if not self.client_cert:
                return self._client_cert_required()
            return ('the server rejected the client certificate in client_cert %s: it must be signed by the '
                    'cluster CA and be currently valid (%s)' % (self.client_cert, reason))
        if reason in ('WRONG_VERSION_NUMBER', 'UNKNOWN_PROTOCOL', 'RECORD_LAYER_FAILURE', 'PACKET_LENGTH_TOO_LONG'):
            return ('%s does not answer with TLS: is the agent running with tls.http = true on that port? (%s)'
                    % (self.address, reason))
        return 'TLS failure talking to Nomad at %s: %s' % (self.address, error)

    @staticmethod
    def _client_cert_required():
        return ('the server rejected the TLS handshake: it requires a client certificate signed by the '
                'cluster CA (set client_cert and client_key)')

    # -- helpers ----------------------------------------------------------------------------

    def wait_for_leader(self, timeout, interval=1.0):
        """Poll /v1/status/leader until a leader is known. Returns its address.

        A refused connection is retried (the agent may be starting); TLS and HTTP client errors
        are not, since waiting cannot fix them.
        """
        clock, sleep = time.monotonic, time.sleep
        deadline = clock() + timeout
        last = 'no answer yet'
        while True:
            try:
                leader = self.get('/v1/status/leader')
                if leader:
                    return leader
                last = 'no leader elected'
            except NomadError as exc:
                if not (exc.retryable or (exc.status is not None and exc.status >= 500)):
                    raise
                last = exc.message
            if clock() >= deadline:
                raise NomadError('no Nomad cluster leader at %s within %s seconds (last answer: %s); check that '
                                 'enough servers run (bootstrap_expect) and can reach each other'
                                 % (self.address, timeout, last))
            sleep(interval)


def path_quote(value):
    """Quote a name for use as one URL path segment."""
    return quote(value, safe='')


def _is_refused(exc):
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    return isinstance(reason, ConnectionRefusedError)


def _decode(text):
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text
