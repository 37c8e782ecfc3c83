# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Integration fixtures: our modules run through the real `ansible` CLI against a real Nomad agent.

The agent is a single server on loopback with mTLS (verify_https_client, verify_server_hostname)
and ACLs, using a CA and certificates made by our own TLS modules. `agent_factory` starts more
such agents, with extra settings in their server block (e.g. gossip encryption).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest

from ansible_collections.hardened.nomad.plugins.module_utils._api import NomadClient, NomadError
from rendering import collections_dir

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The test bed's release (tests/testbed/lib.sh); tests/testbed/env.sh exports both variables.
NOMAD_VERSION = os.environ.get('HARDENED_NOMAD_VERSION', '')
DEFAULT_NOMAD_BINARY = os.path.join(REPO_ROOT, '.cache', 'testbed', 'nomad', NOMAD_VERSION or 'unknown', 'nomad')
# A second loopback address the agent also serves HTTPS on; it is in no certificate, so
# connecting by it must fail the host name check.
NAME_NOT_IN_CERT = '127.0.0.2'
BOOTSTRAP_SECRET = '6f1c2a3b-4d5e-4f60-8a9b-0c1d2e3f4a5b'


class AnsibleRunner:
    """Runs one module with `ansible localhost -m hardened.nomad.<name> -a '<json>'`."""

    def __init__(self, workdir):
        self.workdir = workdir
        # NOMAD_ADDR, NOMAD_TOKEN... of the calling shell would change what the modules connect with.
        environment = dict((k, v) for k, v in os.environ.items() if not k.startswith('NOMAD_'))
        self.env = dict(
            environment,
            ANSIBLE_COLLECTIONS_PATH=collections_dir(),
            ANSIBLE_LOAD_CALLBACK_PLUGINS='1',
            ANSIBLE_STDOUT_CALLBACK='ansible.posix.json',
            ANSIBLE_LOCAL_TEMP=str(workdir / 'ansible-tmp'),
            ANSIBLE_REMOTE_TEMP=str(workdir / 'ansible-tmp'),
            ANSIBLE_NOCOLOR='1',
            ANSIBLE_DEPRECATION_WARNINGS='0',
        )
        # Our own venv's ansible, so the same ansible-core and cryptography are used.
        self.ansible = os.path.join(os.path.dirname(sys.executable), 'ansible')

    def __call__(self, module, args, check=False, diff=False):
        command = [self.ansible, 'localhost', '-i', 'localhost,', '-c', 'local',
                   '-e', 'ansible_python_interpreter=%s' % sys.executable,
                   '-m', 'hardened.nomad.%s' % module, '-a', json.dumps(args)]
        if check:
            command.append('--check')
        if diff:
            command.append('--diff')
        # cwd is a scratch dir so that no ansible.cfg of the repository changes the run.
        completed = subprocess.run(command, cwd=str(self.workdir), env=self.env, capture_output=True, text=True,
                                   timeout=120, check=False)
        try:
            report = json.loads(completed.stdout)
            result = report['plays'][0]['tasks'][0]['hosts']['localhost']
        except (ValueError, KeyError, IndexError):
            raise AssertionError('no JSON result from ansible (rc %d)\nstdout:\n%s\nstderr:\n%s'
                                 % (completed.returncode, completed.stdout, completed.stderr))
        result.setdefault('failed', False)
        assert (completed.returncode != 0) == bool(result['failed']), completed.stderr
        return result


@pytest.fixture(scope='session')
def ansible_module(tmp_path_factory):
    return AnsibleRunner(tmp_path_factory.mktemp('ansible'))


@pytest.fixture(scope='session')
def nomad_binary():
    path = os.environ.get('NOMAD_BINARY', DEFAULT_NOMAD_BINARY)
    if os.access(path, os.X_OK):
        return path
    if os.environ.get('HARDENED_NOMAD_SKIP_INTEGRATION') == '1':
        pytest.skip('HARDENED_NOMAD_SKIP_INTEGRATION=1 and no Nomad binary at %s' % path)
    pytest.fail('no executable Nomad binary at %s: run the tests through tests/testbed/env.sh (make integration), '
                'point NOMAD_BINARY at one, or set HARDENED_NOMAD_SKIP_INTEGRATION=1 to skip the integration tests'
                % path)


class Certs:
    """Paths of everything made by the TLS modules."""

    def __init__(self, directory):
        self.dir = directory

    def __getattr__(self, name):
        if name.startswith('_'):
            raise AttributeError(name)
        return str(self.dir / (name.replace('_', '-') + '.pem'))


def issue(ansible_module, certs, ca_name, cert_name, role, **names):
    """tls_node_csr + tls_ca_sign + install, the way a role does it. Returns the node results."""
    ca_cert, ca_key = getattr(certs, ca_name), getattr(certs, ca_name + '_key')
    node_args = dict(key_path=getattr(certs, cert_name + '_key'), cert_path=getattr(certs, cert_name),
                     ca_path=ca_cert, role=role, **names)
    first = ansible_module('tls_node_csr', node_args)
    assert first['changed'] and first['certificate_needed'], first
    signed = ansible_module('tls_ca_sign', dict(csr=first['csr'], ca_cert_path=ca_cert, ca_key_path=ca_key,
                                                role=role, **names))
    assert signed['changed'], signed
    with open(getattr(certs, cert_name), 'w') as handle:
        handle.write(signed['certificate'])
    second = ansible_module('tls_node_csr', node_args)
    return first, signed, second


@pytest.fixture(scope='session')
def pki(ansible_module, tmp_path_factory):
    """Cluster CA, server cert, operator (cli) cert, and a foreign CA with its own cli cert."""
    certs = Certs(tmp_path_factory.mktemp('pki'))
    results = {}
    results['ca'] = ansible_module('tls_ca', dict(key_path=certs.ca_key, cert_path=certs.ca))
    results['ca_again'] = ansible_module('tls_ca', dict(key_path=certs.ca_key, cert_path=certs.ca))
    results['server'] = issue(ansible_module, certs, 'ca', 'server', 'server')
    results['cli'] = issue(ansible_module, certs, 'ca', 'cli', 'cli')
    results['foreign_ca'] = ansible_module('tls_ca', dict(key_path=certs.foreign_ca_key, cert_path=certs.foreign_ca,
                                                          common_name='Foreign CA'))
    results['foreign_cli'] = issue(ansible_module, certs, 'foreign_ca', 'foreign_cli', 'cli')
    certs.results = results
    return certs


def free_ports(count):
    """Distinct free ports: all sockets stay bound until every port is chosen, so none repeats.

    (Binding and closing one socket per port can hand out the same port twice; the agent then
    fails with "address already in use".)
    """
    sockets = [socket.socket() for dummy in range(count)]
    try:
        for sock in sockets:
            sock.bind(('127.0.0.1', 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


AGENT_CONFIG = """
data_dir  = "{data_dir}"
bind_addr = "127.0.0.1"
# HTTPS also on {other_ip}: an address no certificate names, for the host name check test.
addresses {{
  http = "127.0.0.1 {other_ip}"
}}
advertise {{
  http = "127.0.0.1"
  rpc  = "127.0.0.1"
  serf = "127.0.0.1"
}}
ports {{
  http = {http}
  rpc  = {rpc}
  serf = {serf}
}}
disable_update_check = true
server {{
  enabled          = true
  bootstrap_expect = 1
{server_hcl}}}
acl {{
  enabled = true
}}
tls {{
  http                   = true
  rpc                    = true
  verify_https_client    = true
  verify_server_hostname = true
  ca_file                = "{ca_file}"
  cert_file              = "{cert_file}"
  key_file               = "{key_file}"
}}
"""


@pytest.fixture(scope='session')
def agent_factory(nomad_binary, pki, tmp_path_factory):
    """agent_factory(name='agent', server_hcl='') -> a context manager running one more agent.

    Each agent is a single server like the shared `agent` (same mTLS, ACLs and certificates of
    `pki`) with its own ports and data dir. ``server_hcl`` is added inside its server block,
    e.g. 'encrypt = "..."'. The context yields the connection options (with the cli cert) plus
    data_dir, unnamed_ip and unnamed_address; the agent stops when the context ends.
    """
    @contextlib.contextmanager
    def start(name='agent', server_hcl=''):
        workdir = tmp_path_factory.mktemp(name)
        (workdir / 'config').mkdir()
        (workdir / 'data').mkdir()
        ports = dict(zip(('http', 'rpc', 'serf'), free_ports(3)))
        extra = textwrap.dedent(server_hcl).strip()
        (workdir / 'config' / 'agent.hcl').write_text(AGENT_CONFIG.format(
            data_dir=workdir / 'data', other_ip=NAME_NOT_IN_CERT, ca_file=pki.ca, cert_file=pki.server,
            key_file=pki.server_key, server_hcl=textwrap.indent(extra + '\n', '  ') if extra else '', **ports))
        log = open(workdir / 'agent.log', 'w')
        process = subprocess.Popen([nomad_binary, 'agent', '-config', str(workdir / 'config')], stdout=log,
                                   stderr=subprocess.STDOUT, cwd=str(workdir), start_new_session=True)
        connection = dict(address='https://127.0.0.1:%d' % ports['http'], ca_file=pki.ca, client_cert=pki.cli,
                          client_key=pki.cli_key)
        try:
            wait_until_serving(process, connection, workdir / 'agent.log')
            yield dict(connection, data_dir=str(workdir / 'data'), unnamed_ip=NAME_NOT_IN_CERT,
                       unnamed_address='https://%s:%d' % (NAME_NOT_IN_CERT, ports['http']))
        finally:
            stop(process)
            log.close()

    return start


@pytest.fixture(scope='session')
def agent(agent_factory):
    """A running single-server agent; yields its connection options (with the cli cert)."""
    with agent_factory() as running:
        yield running


def wait_until_serving(process, connection, log_path, timeout=60):
    client = NomadClient(**connection)
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise AssertionError('nomad agent exited with %s:\n%s' % (process.returncode, log_path.read_text()[-4000:]))
        try:
            client.wait_for_leader(1, interval=0.2)
            return
        except NomadError as exc:
            if time.monotonic() > deadline:
                raise AssertionError('nomad agent did not elect itself within %ds (%s):\n%s'
                                     % (timeout, exc, log_path.read_text()[-4000:]))
            time.sleep(0.3)


def stop(process):
    if process.poll() is None:
        process.send_signal(signal.SIGINT)  # Nomad's graceful shutdown signal
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope='session')
def bootstrap_secret():
    return BOOTSTRAP_SECRET


@pytest.fixture(scope='session')
def bootstrap_runs(ansible_module, agent):
    """The ACL bootstrap as a role would run it: check mode, first run, re-run, wrong secret."""
    args = dict(address=agent['address'], ca_file=agent['ca_file'], client_cert=agent['client_cert'],
                client_key=agent['client_key'], bootstrap_secret=BOOTSTRAP_SECRET, data_dir=agent['data_dir'],
                leader_timeout=30)
    runs = dict(check=ansible_module('acl_bootstrap', args, check=True))
    runs['first'] = ansible_module('acl_bootstrap', args)
    runs['second'] = ansible_module('acl_bootstrap', args)
    runs['check_after'] = ansible_module('acl_bootstrap', args, check=True)
    runs['wrong_secret'] = ansible_module('acl_bootstrap', dict(args, bootstrap_secret='00000000-1111-4222-8333-444444444444'))
    runs['no_secret'] = ansible_module('acl_bootstrap', dict((k, v) for k, v in args.items() if k != 'bootstrap_secret'))
    return runs


@pytest.fixture(scope='session')
def management(agent, bootstrap_runs):
    """Connection options with the management token."""
    assert not bootstrap_runs['first']['failed'], bootstrap_runs['first']
    return dict(address=agent['address'], ca_file=agent['ca_file'], client_cert=agent['client_cert'],
                client_key=agent['client_key'], token=BOOTSTRAP_SECRET)
