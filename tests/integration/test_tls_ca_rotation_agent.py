# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A whole CA rotation, the six steps of playbooks/rotate_ca.yml, against a real Nomad agent.

tls_ca (state next, promote, retire), tls_node_csr and tls_ca_sign run through the real
`ansible` CLI on a secrets directory laid out as the tls role lays it out. The trust bundles
are written as the role writes them: the signing CA first, then (entry point
ca_trust_rotation) the rotation_certificates tls_ca reports. After each step that changes the
agent's files it gets SIGHUP, what the `nomad reload` handler sends, and the API is called over
mTLS: it answers every call, the process is never restarted, and in the end the old CA's client
certificate is refused while the new one works.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time

import pytest

from ansible_collections.hardened.nomad.plugins.module_utils._api import NomadClient, NomadError
from conftest import AGENT_CONFIG, NAME_NOT_IN_CERT, free_ports, stop, wait_until_serving


class Rotation:
    """The controller's secrets directory, the node's TLS files and the steps on them."""

    def __init__(self, ansible_module, root):
        self.run = ansible_module
        self.secrets = root / 'secrets'
        self.node = root / 'node'
        for directory in (self.secrets / 'ca', self.secrets / 'operator', self.node):
            directory.mkdir(parents=True)
        self.bundle = str(self.secrets / 'operator' / 'ca-bundle.pem')

    def ca(self, state='present'):
        result = self.run('tls_ca', dict(state=state, cert_path=str(self.secrets / 'ca' / 'ca.pem'),
                                         key_path=str(self.secrets / 'ca' / 'ca-key.pem')))
        assert not result['failed'], result
        return result

    def trust(self, rotation):
        """Node and operator bundles as the role writes them; returns the bundle text."""
        ca = self.ca()
        certs = [ca['certificate']] + (ca['rotation_certificates'] if rotation else [])
        text = '\n'.join(cert.strip() for cert in certs) + '\n'
        for path in (self.node / 'ca.pem', self.bundle):
            with open(path, 'w') as handle:
                handle.write(text)
        return text

    def issue(self, bundle, name, role):
        """What issue.yml does for one pair: check, sign on the controller when needed, install."""
        args = dict(key_path=str(self.node / (name + '-key.pem')), cert_path=str(self.node / (name + '.pem')),
                    ca_certificate=bundle, role=role)
        check = self.run('tls_node_csr', args)
        assert not check['failed'], check
        if check['certificate_needed']:
            signed = self.run('tls_ca_sign', dict(csr=check['csr'], role=role,
                                                  ca_cert_path=str(self.secrets / 'ca' / 'ca.pem'),
                                                  ca_key_path=str(self.secrets / 'ca' / 'ca-key.pem')))
            assert signed['changed'], signed
            with open(args['cert_path'], 'w') as handle:
                handle.write(signed['certificate'])
        return check['certificate_needed']

    def client(self, cli='cli'):
        return NomadClient(address=self.address, ca_file=self.bundle, client_cert=str(self.node / (cli + '.pem')),
                           client_key=str(self.node / (cli + '-key.pem')))

    def calls_work(self, cli='cli'):
        for dummy in range(3):
            assert self.client(cli).get('/v1/status/leader')


@pytest.fixture
def rotation(ansible_module, nomad_binary, tmp_path):
    """The CA, the server's and the operator's certificates, and a running agent using them."""
    steps = Rotation(ansible_module, tmp_path)
    assert steps.ca()['created']
    bundle = steps.trust(rotation=False)
    assert steps.issue(bundle, 'server', 'server') and steps.issue(bundle, 'cli', 'cli')
    (tmp_path / 'data').mkdir()
    ports = dict(zip(('http', 'rpc', 'serf'), free_ports(3)))
    (tmp_path / 'agent.hcl').write_text(AGENT_CONFIG.format(
        data_dir=tmp_path / 'data', other_ip=NAME_NOT_IN_CERT, ca_file=steps.node / 'ca.pem',
        cert_file=steps.node / 'server.pem', key_file=steps.node / 'server-key.pem', server_hcl='', **ports))
    steps.address = 'https://127.0.0.1:%d' % ports['http']
    with open(tmp_path / 'agent.log', 'w') as log:
        steps.process = subprocess.Popen([nomad_binary, 'agent', '-config', str(tmp_path / 'agent.hcl')], stdout=log,
                                         stderr=subprocess.STDOUT, cwd=str(tmp_path), start_new_session=True)
        try:
            wait_until_serving(steps.process, dict(address=steps.address, ca_file=steps.bundle,
                                                   client_cert=str(steps.node / 'cli.pem'),
                                                   client_key=str(steps.node / 'cli-key.pem')), tmp_path / 'agent.log')
            yield steps
        finally:
            stop(steps.process)


def reload_agent(steps):
    """SIGHUP, as the `nomad reload` handler sends it; the agent keeps its PID."""
    steps.process.send_signal(signal.SIGHUP)
    time.sleep(1)
    assert steps.process.poll() is None


def refused(steps, cli, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            steps.client(cli).get('/v1/status/leader')
        except NomadError:
            return True
        time.sleep(0.5)
    return False


def test_a_ca_rotation_step_by_step_with_reloads_only(rotation, tmp_path):
    steps = rotation
    old_ca = steps.ca()['fingerprint_sha256']
    steps.calls_work()
    for suffix in ('.pem', '-key.pem'):  # the operator's pair from the old CA, to try at the end
        shutil.copy(steps.node / ('cli' + suffix), steps.node / ('old-cli' + suffix))

    # 1. the next CA, made once
    made = steps.ca('next')
    assert made['changed'] and made['created'] and made['phase'] == 'next'
    assert not steps.ca('next')['changed']

    # 2. trust the current and the next CA
    assert steps.trust(rotation=True).count('BEGIN CERTIFICATE') == 2
    reload_agent(steps)
    steps.calls_work()

    # 3. the next CA signs from now on
    promoted = steps.ca('promote')
    assert promoted['changed'] and promoted['phase'] == 'promoted' and promoted['fingerprint_sha256'] != old_ca
    new_ca = promoted['fingerprint_sha256']

    # 4. reissue every certificate from the new CA; trust new + previous
    bundle = steps.trust(rotation=True)
    assert bundle.count('BEGIN CERTIFICATE') == 2
    assert steps.issue(bundle, 'server', 'server') and steps.issue(bundle, 'cli', 'cli')
    assert not steps.issue(bundle, 'server', 'server')
    reload_agent(steps)
    steps.calls_work()
    steps.calls_work('old-cli')  # the previous CA is still trusted

    # 5. trust only the new CA: the old CA's client certificate is refused now
    assert steps.trust(rotation=False).count('BEGIN CERTIFICATE') == 1
    reload_agent(steps)
    steps.calls_work()
    assert refused(steps, 'old-cli')

    # 6. retire the previous CA: key deleted, certificate archived
    retired = steps.ca('retire')
    assert retired['changed'] and retired['phase'] == 'none' and retired['fingerprint_sha256'] == new_ca
    assert sorted(os.listdir(steps.secrets)) == ['ca', 'ca-archive', 'operator']
    assert os.listdir(retired['archived']) == ['ca.pem']
    steps.calls_work()
    assert steps.process.poll() is None  # never restarted
