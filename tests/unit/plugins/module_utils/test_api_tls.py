# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""TLS error translation against real TLS servers on loopback (real OpenSSL errors, no mocks).

The servers are Python's, set up like a Nomad agent with verify_https_client = true.
"""

from __future__ import annotations

import http.server
import json
import socket
import ssl
import threading

import pytest

from ansible_collections.hardened.nomad.plugins.module_utils import _pki
from ansible_collections.hardened.nomad.plugins.module_utils._api import NomadClient, NomadError


class LeaderHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps('127.0.0.1:4647').encode()
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # failed handshakes are what these tests provoke


def write_leaf(ca, directory, name, dns, ips=(), server_auth=True):
    key = _pki.generate_private_key()
    cert = _pki.sign_leaf(ca.cert, ca.key, key.public_key(), dns[0], list(dns), list(ips), 30, server_auth)
    (directory / (name + '.pem')).write_bytes(_pki.certificate_pem(cert))
    (directory / (name + '-key.pem')).write_bytes(_pki.private_key_pem(key))
    return str(directory / (name + '.pem')), str(directory / (name + '-key.pem'))


@pytest.fixture
def start_server():
    """start_server(ssl_context or None) -> port of a server answering /v1/status/leader."""
    servers = []

    def start(context):
        server = QuietServer(('127.0.0.1', 0), LeaderHandler)
        if context is not None:
            server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, kwargs=dict(poll_interval=0.05), daemon=True).start()
        servers.append(server)
        return server.server_address[1]

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def certs(tmp_path, ca, other_ca):
    return dict(
        ca=str(ca.cert_path), other_ca=str(other_ca.cert_path),
        cli=write_leaf(ca, tmp_path, 'cli', ['cli.global.nomad'], server_auth=False),
        foreign=write_leaf(other_ca, tmp_path, 'foreign', ['cli.global.nomad'], server_auth=False),
    )


@pytest.fixture
def agent_like(tmp_path, ca, start_server):
    """agent_like(dns, ips) -> port of a server demanding client certs signed by ``ca``."""
    def start(dns, ips=()):
        cert, key = write_leaf(ca, tmp_path, 'server-%d' % len(dns + tuple(ips)), dns, ips)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(ca.cert_path))
        context.load_cert_chain(cert, key)
        context.verify_mode = ssl.CERT_REQUIRED
        return start_server(context)
    return start


NOMAD_NAMES = (('server.global.nomad', 'localhost'), ('127.0.0.1',))


def call(address, ca_file=None, cert=(None, None)):
    client = NomadClient(address=address, ca_file=ca_file, client_cert=cert[0], client_key=cert[1], timeout=5)
    return client.get('/v1/status/leader')


def error_of(*args, **kwargs):
    with pytest.raises(NomadError) as caught:
        call(*args, **kwargs)
    return caught.value.message


def test_good_mtls_call_by_ip_and_by_localhost(agent_like, certs):
    port = agent_like(*NOMAD_NAMES)
    assert call('https://127.0.0.1:%d' % port, certs['ca'], certs['cli']) == '127.0.0.1:4647'
    assert call('https://localhost:%d' % port, certs['ca'], certs['cli']) == '127.0.0.1:4647'


def test_ip_not_in_certificate(agent_like, certs):
    port = agent_like(('server.global.nomad',))
    assert error_of('https://127.0.0.1:%d' % port, certs['ca'], certs['cli']) == (
        'server certificate is not valid for 127.0.0.1 (check address; Nomad certs are valid for '
        'server.<region>.nomad, localhost, 127.0.0.1 and the node address)')


def test_host_name_not_in_certificate(agent_like, certs):
    port = agent_like(('server.global.nomad',))
    message = error_of('https://localhost:%d' % port, certs['ca'], certs['cli'])
    assert message.startswith('server certificate is not valid for localhost (check address;')


def test_server_certificate_of_another_ca(agent_like, certs):
    port = agent_like(*NOMAD_NAMES)
    message = error_of('https://127.0.0.1:%d' % port, certs['other_ca'], certs['cli'])
    assert message.startswith('server certificate is not signed by the CA in ca_file %s' % certs['other_ca'])


def test_no_client_certificate(agent_like, certs):
    port = agent_like(*NOMAD_NAMES)
    assert error_of('https://127.0.0.1:%d' % port, certs['ca']) == (
        'the server rejected the TLS handshake: it requires a client certificate signed by the cluster CA '
        '(set client_cert and client_key)')


def test_client_certificate_of_another_ca(agent_like, certs):
    port = agent_like(*NOMAD_NAMES)
    message = error_of('https://127.0.0.1:%d' % port, certs['ca'], certs['foreign'])
    # Depending on timing the alert arrives (rejected ...) or only the closed connection does.
    assert 'rejected the client certificate in client_cert %s' % certs['foreign'][0] in message
    assert 'signed by the cluster CA' in message


def test_key_that_does_not_belong_to_the_certificate(agent_like, certs):
    port = agent_like(*NOMAD_NAMES)
    message = error_of('https://127.0.0.1:%d' % port, certs['ca'], (certs['cli'][0], certs['foreign'][1]))
    assert message.startswith('client_cert %s and client_key %s could not be loaded'
                              % (certs['cli'][0], certs['foreign'][1]))


def test_connection_refused():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    assert error_of('https://127.0.0.1:%d' % port) == (
        'cannot connect to Nomad at https://127.0.0.1:%d: connection refused (is the agent running and listening '
        'on that address and port?)' % port)


def test_plain_http_server_behind_an_https_address(start_server):
    port = start_server(None)
    assert 'does not answer with TLS' in error_of('https://127.0.0.1:%d' % port)
    assert call('http://127.0.0.1:%d' % port) == '127.0.0.1:4647'
