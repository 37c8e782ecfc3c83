# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The API client above the HTTP layer: requests, HTTP errors, translated transport errors."""

from __future__ import annotations

import http.client
import socket
import ssl
import urllib.error

import pytest

from ansible_collections.hardened.nomad.plugins.module_utils import _api
from ansible_collections.hardened.nomad.plugins.module_utils._api import NomadClient, NomadError


@pytest.fixture
def no_sleep(monkeypatch):
    monkeypatch.setattr(_api.time, 'sleep', lambda seconds: None)


def verification_error(code, message):
    error = ssl.SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: %s' % message)
    error.verify_code = code
    error.verify_message = message
    return urllib.error.URLError(error)


def alert(reason):
    error = ssl.SSLError(1, '[SSL: %s] alert (_ssl.c:2580)' % reason)
    error.reason = reason
    return error


def client(**options):
    return NomadClient(**options)


# -- requests ------------------------------------------------------------------------------------

def test_request_sends_json_and_token_and_decodes_json(fake_nomad):
    fake_nomad.bootstrap_with('3f1c2a3b-4d5e-4f60-8a9b-0c1d2e3f4a5b')
    api = client(token='3f1c2a3b-4d5e-4f60-8a9b-0c1d2e3f4a5b')
    api.post('/v1/acl/policy/p', body=dict(Name='p', Description='', Rules='x'))
    assert fake_nomad.calls[-1] == ('POST', '/v1/acl/policy/p', dict(Name='p', Description='', Rules='x'),
                                    '3f1c2a3b-4d5e-4f60-8a9b-0c1d2e3f4a5b')
    assert api.get('/v1/acl/policy/p')['Name'] == 'p'


def test_put_sends_json_with_the_put_method(fake_nomad, monkeypatch):
    monkeypatch.setattr(fake_nomad, 'route', lambda *a: (200, dict(NumNodes=1)))
    assert client(token='t').put('/v1/agent/keyring/use', body=dict(Key='k')) == dict(NumNodes=1)
    assert fake_nomad.calls[-1] == ('PUT', '/v1/agent/keyring/use', dict(Key='k'), 't')
    assert fake_nomad.writes() == [fake_nomad.calls[-1]]


def test_token_argument_overrides_and_no_token_sends_no_header(fake_nomad):
    client(token='a').get('/v1/status/leader', token='b')
    client().get('/v1/status/leader')
    assert [call[3] for call in fake_nomad.calls] == ['b', None]


def test_query_is_encoded_and_plain_text_answers_stay_text(fake_nomad, monkeypatch):
    monkeypatch.setattr(fake_nomad, 'route', lambda *a: (200, 'not json'))
    assert client().get('/v1/x', query=dict(prefix='a b')) == 'not json'
    assert fake_nomad.urls[-1] == 'https://127.0.0.1:4646/v1/x?prefix=a+b'


def test_tls_options_reach_the_request_layer(fake_nomad, tmp_path, monkeypatch):
    captured = {}
    monkeypatch.setattr(NomadClient, '_tls_context', lambda self: captured.setdefault('context', object()))
    client(timeout=4, validate_certs=False).get('/v1/status/leader')
    seen = fake_nomad.requests_seen[-1]
    assert seen['context'] is captured['context'] and seen['timeout'] == 4 and seen['validate_certs'] is False
    assert seen['use_netrc'] is False


@pytest.mark.parametrize('address', ['127.0.0.1:4646', 'ftp://x', 'https://'])
def test_bad_address_is_refused(address):
    with pytest.raises(NomadError) as caught:
        client(address=address)
    assert 'is not a URL like https://127.0.0.1:4646' in caught.value.message


def test_path_quote_keeps_names_in_one_segment():
    assert _api.path_quote('a/b c') == 'a%2Fb%20c'


# -- HTTP errors ---------------------------------------------------------------------------------

def test_http_error_carries_status_and_nomads_text(fake_nomad, monkeypatch):
    monkeypatch.setattr(fake_nomad, 'route', lambda *a: (400, 'ACL support disabled\n'))
    with pytest.raises(NomadError) as caught:
        client().post('/v1/acl/bootstrap', body={})
    error = caught.value
    assert error.status == 400 and error.body == 'ACL support disabled'
    assert error.message == 'Nomad answered HTTP 400 to POST /v1/acl/bootstrap: ACL support disabled'


def test_permission_denied_gets_a_hint(fake_nomad):
    with pytest.raises(NomadError) as caught:
        client().get('/v1/acl/tokens')
    assert caught.value.status == 403
    assert 'Permission denied (the token is missing, unknown, or lacks the capability' in caught.value.message


def test_plain_http_to_an_https_agent_is_explained(fake_nomad, monkeypatch):
    monkeypatch.setattr(fake_nomad, 'route', lambda *a: (400, 'Client sent an HTTP request to an HTTPS server.\n'))
    with pytest.raises(NomadError) as caught:
        client(address='http://127.0.0.1:4646').get('/v1/status/leader')
    assert caught.value.message.startswith('the agent at http://127.0.0.1:4646 speaks HTTPS: use an https:// address')


# -- transport errors ----------------------------------------------------------------------------

HOST_HINT = ('(check address; Nomad certs are valid for server.<region>.nomad, localhost, 127.0.0.1 and the node '
             'address)')


@pytest.mark.parametrize('options, error, expected', [
    (dict(address='https://nomad.example:4646'), verification_error(62, 'Hostname mismatch'),
     'server certificate is not valid for nomad.example ' + HOST_HINT),
    (dict(address='https://10.0.0.9:4646'), verification_error(64, 'IP address mismatch'),
     'server certificate is not valid for 10.0.0.9 ' + HOST_HINT),
    (dict(ca_file='/etc/nomad.d/ca.pem'), verification_error(20, 'unable to get local issuer certificate'),
     'server certificate is not signed by the CA in ca_file /etc/nomad.d/ca.pem'),
    (dict(ca_file='/etc/nomad.d/ca.pem'), verification_error(19, 'self-signed certificate in certificate chain'),
     'server certificate is not signed by the CA in ca_file /etc/nomad.d/ca.pem'),
    (dict(), verification_error(20, 'unable to get local issuer certificate'),
     'not signed by a CA in the system trust store: set ca_file'),
    (dict(), verification_error(10, 'certificate has expired'),
     'server certificate of https://127.0.0.1:4646 has expired: renew it'),
    (dict(), verification_error(9, 'certificate is not yet valid'), 'is not valid yet (check the clocks)'),
    (dict(), verification_error(47, 'permitted subtree violation'), 'outside the name constraints of its CA'),
    (dict(), verification_error(7, 'certificate signature failure'),
     'failed verification: certificate signature failure'),
    (dict(), urllib.error.URLError(alert('TLSV13_ALERT_CERTIFICATE_REQUIRED')),
     'the server rejected the TLS handshake: it requires a client certificate signed by the cluster CA '
     '(set client_cert and client_key)'),
    (dict(), alert('SSLV3_ALERT_HANDSHAKE_FAILURE'),
     'the server rejected the TLS handshake: it requires a client certificate'),
    (dict(client_cert='/c.pem'), alert('TLSV1_ALERT_UNKNOWN_CA'),
     'the server rejected the client certificate in client_cert /c.pem: it must be signed by the cluster CA'),
    (dict(client_cert='/c.pem'), alert('SSLV3_ALERT_BAD_CERTIFICATE'), 'rejected the client certificate'),
    (dict(), urllib.error.URLError(alert('WRONG_VERSION_NUMBER')),
     'https://127.0.0.1:4646 does not answer with TLS: is the agent running with tls.http = true'),
    (dict(), alert('SOMETHING_ELSE'), 'TLS failure talking to Nomad at https://127.0.0.1:4646'),
    (dict(), urllib.error.URLError(ConnectionRefusedError(111, 'Connection refused')),
     'cannot connect to Nomad at https://127.0.0.1:4646: connection refused (is the agent running'),
    (dict(), urllib.error.URLError(socket.timeout('timed out')),
     'no answer from Nomad at https://127.0.0.1:4646 within 10 seconds (timeout)'),
    (dict(), socket.timeout('The read operation timed out'), 'within 10 seconds (timeout)'),
    (dict(address='https://nomad.invalid:4646'), urllib.error.URLError(socket.gaierror(-2, 'Name or service not known')),
     'cannot resolve the host name nomad.invalid'),
    # TLS 1.3: a server that wants a client certificate may simply drop the connection.
    (dict(), ConnectionResetError(104, 'Connection reset by peer'), 'requires a client certificate'),
    (dict(), http.client.RemoteDisconnected('Remote end closed connection'), 'requires a client certificate'),
    (dict(client_cert='/c.pem'), ConnectionResetError(104, 'reset'),
     'most likely it rejected the client certificate in client_cert /c.pem'),
    (dict(), ssl.SSLEOFError(8, 'EOF occurred in violation of protocol'), 'requires a client certificate'),
    (dict(), urllib.error.URLError(OSError(113, 'No route to host')),
     'cannot talk to Nomad at https://127.0.0.1:4646: [Errno 113] No route to host'),
])
def test_transport_errors_are_explained(fake_nomad, monkeypatch, options, error, expected):
    monkeypatch.setattr(NomadClient, '_check_files', lambda self: None)
    monkeypatch.setattr(NomadClient, '_tls_context', lambda self: None)
    fake_nomad.transport_errors[('GET', '/v1/status/leader')] = error
    with pytest.raises(NomadError) as caught:
        client(**options).get('/v1/status/leader')
    assert expected in caught.value.message
    assert caught.value.status is None


# -- files ---------------------------------------------------------------------------------------

def test_missing_ca_file_names_option_and_path(tmp_path):
    with pytest.raises(NomadError) as caught:
        client(ca_file=str(tmp_path / 'ca.pem')).get('/v1/status/leader')
    assert caught.value.message == 'ca_file %s does not exist' % (tmp_path / 'ca.pem')


def test_directory_instead_of_client_cert_is_named(tmp_path):
    with pytest.raises(NomadError) as caught:
        client(client_cert=str(tmp_path)).get('/v1/status/leader')
    assert caught.value.message == 'client_cert %s is not a file' % tmp_path


def test_unreadable_client_key_is_named(tmp_path, monkeypatch):
    cert, key = tmp_path / 'c.pem', tmp_path / 'k.pem'
    cert.write_text('x')
    key.write_text('x')
    real_access = _api.os.access
    monkeypatch.setattr(_api.os, 'access', lambda path, mode: path != str(key) and real_access(path, mode))
    with pytest.raises(NomadError) as caught:
        client(client_cert=str(cert), client_key=str(key)).get('/v1/status/leader')
    assert caught.value.message == 'client_key %s is not readable by this user' % key


def test_client_key_without_client_cert_is_refused(tmp_path):
    with pytest.raises(NomadError) as caught:
        client(client_key=str(tmp_path / 'k.pem')).get('/v1/status/leader')
    assert caught.value.message == 'client_key is set but client_cert is not: set both'


def test_garbage_ca_file_is_named(tmp_path):
    (tmp_path / 'ca.pem').write_text('not pem')
    with pytest.raises(NomadError) as caught:
        client(ca_file=str(tmp_path / 'ca.pem')).get('/v1/status/leader')
    assert caught.value.message.startswith('ca_file %s holds no usable PEM CA certificate' % (tmp_path / 'ca.pem'))


def test_garbage_client_cert_is_named(tmp_path, ca):
    (tmp_path / 'c.pem').write_text('not pem')
    (tmp_path / 'k.pem').write_text('not pem')
    with pytest.raises(NomadError) as caught:
        client(ca_file=str(ca.cert_path), client_cert=str(tmp_path / 'c.pem'),
               client_key=str(tmp_path / 'k.pem')).get('/v1/status/leader')
    assert caught.value.message.startswith('client_cert %s and client_key %s could not be loaded'
                                           % (tmp_path / 'c.pem', tmp_path / 'k.pem'))


def test_plain_http_needs_no_tls_files(fake_nomad):
    assert client(address='http://127.0.0.1:4646', ca_file='/nonexistent').get('/v1/status/leader') == \
        '127.0.0.1:4647'


# -- leader wait ---------------------------------------------------------------------------------

def test_leader_wait_returns_the_leader(fake_nomad, no_sleep):
    assert client().wait_for_leader(5) == '127.0.0.1:4647'


def test_leader_wait_retries_refused_connections_and_500s(fake_nomad, no_sleep, monkeypatch):
    answers = iter([urllib.error.URLError(ConnectionRefusedError(111, 'refused')), (500, 'No cluster leader'),
                    (200, ''), (200, '10.0.0.1:4647')])

    def route(*args):
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(fake_nomad, 'route', route)
    assert client().wait_for_leader(60) == '10.0.0.1:4647'


def test_leader_wait_gives_up_after_the_timeout(fake_nomad, no_sleep, monkeypatch):
    fake_nomad.leader = ''
    ticks = iter(range(0, 100))
    monkeypatch.setattr(_api.time, 'monotonic', lambda: next(ticks))
    with pytest.raises(NomadError) as caught:
        client().wait_for_leader(3)
    assert caught.value.message.startswith('no Nomad cluster leader at https://127.0.0.1:4646 within 3 seconds '
                                           '(last answer: no leader elected)')
    assert len(fake_nomad.calls) == 3


def test_leader_wait_does_not_retry_what_waiting_cannot_fix(fake_nomad, no_sleep, monkeypatch):
    monkeypatch.setattr(NomadClient, '_check_files', lambda self: None)
    monkeypatch.setattr(NomadClient, '_tls_context', lambda self: None)
    fake_nomad.transport_errors[('GET', '/v1/status/leader')] = verification_error(62, 'Hostname mismatch')
    with pytest.raises(NomadError) as caught:
        client().wait_for_leader(60)
    assert 'not valid for 127.0.0.1' in caught.value.message
    assert len(fake_nomad.calls) == 1
