# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures for the unit tests: run a module's main() in-process, and a fake Nomad API.

The fake replaces ansible.module_utils.urls.Request inside _api, so everything above the HTTP
layer (our client, its error handling, the modules) runs for real.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import urllib.error
import uuid
from email.message import Message

import pytest

from ansible.module_utils import basic

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core before 2.19: AnsibleModule reads the JSON in basic._ANSIBLE_ARGS
    import contextlib

    @contextlib.contextmanager
    def patch_module_args(args):
        saved = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = json.dumps(dict(ANSIBLE_MODULE_ARGS=args)).encode()
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = saved

from ansible_collections.hardened.nomad.plugins.module_utils import _api


@pytest.fixture(autouse=True)
def no_nomad_environment(monkeypatch):
    # The connection options fall back to NOMAD_ADDR, NOMAD_TOKEN...; a developer's shell must not leak in.
    for name in list(os.environ):
        if name.startswith('NOMAD_'):
            monkeypatch.delenv(name)


class ModuleExit(Exception):
    def __init__(self, result):
        super().__init__(result)
        self.result = result


@pytest.fixture
def run_module(monkeypatch):
    """run_module(module, args, check_mode=False, diff=False) -> the result dict (with 'failed')."""
    def exit_json(self, **kwargs):
        kwargs.setdefault('failed', False)
        raise ModuleExit(kwargs)

    def fail_json(self, msg, **kwargs):
        kwargs.update(failed=True, msg=msg)
        raise ModuleExit(kwargs)

    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)

    def run(module, args, check_mode=False, diff=False):
        args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
        with patch_module_args(args):
            with pytest.raises(ModuleExit) as caught:
                module.main()
        return caught.value.result

    return run


@pytest.fixture
def module_process(tmp_path):
    """Run a module file in a real Python process (real exit_json, real no_log masking).

    module_process(name, args) -> the JSON result the module printed.
    """
    import ansible_collections
    collections_dir = os.path.dirname(
        [path for path in ansible_collections.__path__ if os.path.isdir(os.path.join(path, 'hardened'))][0])

    def run(name, args):
        args_file = tmp_path / ('%s-args.json' % name)
        args_file.write_text(json.dumps(dict(ANSIBLE_MODULE_ARGS=args)))
        module_file = os.path.join(collections_dir, 'ansible_collections', 'hardened', 'nomad', 'plugins',
                                   'modules', name + '.py')
        env = dict(os.environ, PYTHONPATH=collections_dir)
        completed = subprocess.run([sys.executable, module_file, str(args_file)], env=env, capture_output=True,
                                   text=True, timeout=60, check=False)
        assert completed.stdout.strip(), completed.stderr
        return json.loads(completed.stdout)

    return run


class FakeResponse:
    def __init__(self, body):
        self._body = body

    def read(self):
        return self._body


class FakeNomad:
    """A small in-memory Nomad ACL API that answers like the real one (texts from Nomad's source)."""

    def __init__(self):
        self.calls = []
        self.leader = '127.0.0.1:4647'
        self.acl_enabled = True
        self.bootstrap_index = None
        self.policies = {}
        self.tokens = {}
        self.index = 10
        # (method, path) -> exception to raise instead of answering, for transport failures.
        self.transport_errors = {}
        self.requests_seen = []
        self.urls = []
        # /v1/agent/health answers 500 this many times before 200 (an agent that is starting).
        self.unhealthy_answers = 0
        self.peers = ['10.0.0.11:4647', '10.0.0.12:4647', '10.0.0.13:4647']
        # /v1/nodes (node stubs: Name, Status); each list is answered once, the last one ever after.
        self.node_lists = [[]]
        # /v1/operator/autopilot/health servers (Name, Healthy, Voter), as Nomad 1.6 answers; each list once, the
        # last one ever after.
        self.autopilot = [[dict(Name='s%d.global' % n, Healthy=True, Voter=True) for n in (1, 2, 3)]]
        # The leader's <data_dir>: a bootstrap after the first one reads <data_dir>/server/acl-bootstrap-reset
        # like Nomad does; reset_files_seen holds (content, mode) of each reset file read.
        self.data_dir = None
        self.reset_files_seen = []
        # The FailureTolerance autopilot reports (agent_roll recomputes it from fresh answers).
        self.failure_tolerance = 1
        self.autopilot_answers = 0
        # GET /v1/agent/self's stats: this server's raft, this client's last heartbeat.
        self.self_stats = dict(raft=dict(state='Follower', last_contact='35.2ms'),
                               client=dict(last_heartbeat='1.5s'))
        # PUT /v1/operator/raft/transfer-leadership (Nomad 1.7+): the ids asked for, and an error to answer instead.
        self.transfers = []
        self.transfer_error = None

    # -- set-up helpers --------------------------------------------------------------------

    def next_index(self):
        self.index += 1
        return self.index

    def add_token(self, name, type='client', policies=None, secret=None, global_=False, ttl='',
                  expiration_time=None):
        accessor = str(uuid.uuid4())
        index = self.next_index()
        self.tokens[accessor] = dict(
            AccessorID=accessor, SecretID=secret or str(uuid.uuid4()), Name=name, Type=type,
            Policies=list(policies or []), Roles=[], Global=global_, Hash='abc',
            CreateTime='2026-01-01T00:00:00.123456789Z', ExpirationTime=expiration_time,
            ExpirationTTL=ttl, CreateIndex=index, ModifyIndex=index)
        return self.tokens[accessor]

    def bootstrap_with(self, secret):
        token = self.add_token('Bootstrap Token', type='management', secret=secret, global_=True)
        self.bootstrap_index = token['CreateIndex']
        return token

    def add_policy(self, name, rules, description=''):
        index = self.next_index()
        self.policies[name] = dict(Name=name, Description=description, Rules=rules, CreateIndex=index,
                                   ModifyIndex=index)

    # -- the HTTP layer ----------------------------------------------------------------------

    def request_factory(self, **kwargs):
        self.requests_seen.append(kwargs)
        return self

    def open(self, method, url, data=None, headers=None):
        self.urls.append(url)
        path = url.split('://', 1)[1].split('/', 1)[1]
        path = '/' + path.split('?', 1)[0]
        body = json.loads(data) if data else None
        token = (headers or {}).get('X-Nomad-Token')
        self.calls.append((method, path, body, token))
        if (method, path) in self.transport_errors:
            raise self.transport_errors[(method, path)]
        status, answer = self.route(method, path, body, token)
        if isinstance(answer, str):
            raw = answer.encode()
        else:
            raw = json.dumps(answer).encode()
        if status >= 400:
            raise urllib.error.HTTPError(url, status, 'error', Message(), io.BytesIO(raw))
        return FakeResponse(raw)

    def writes(self):
        return [call for call in self.calls if call[0] in ('POST', 'PUT', 'DELETE')]

    def _management(self, secret):
        token = self._by_secret(secret)
        return token is not None and token['Type'] == 'management'

    def _by_secret(self, secret):
        for token in self.tokens.values():
            if secret and token['SecretID'] == secret:
                return token
        return None

    def _reset_file(self):
        path = os.path.join(self.data_dir or '/nonexistent', 'server', 'acl-bootstrap-reset')
        if not os.path.exists(path):
            return None
        with open(path) as handle:
            content = handle.read().strip()
        self.reset_files_seen.append((content, os.stat(path).st_mode & 0o777))
        return content

    def route(self, method, path, body, secret):
        if path == '/v1/status/leader':
            return 200, self.leader
        if path == '/v1/status/peers':
            return 200, self.peers
        if path == '/v1/agent/health':
            if self.unhealthy_answers > 0:
                self.unhealthy_answers -= 1
                return 500, '{"server":{"ok":false,"message":"server not ready"}}'
            return 200, {'client': {'ok': True, 'message': 'ok'}, 'server': {'ok': True, 'message': 'ok'}}
        if not self.acl_enabled and path.startswith('/v1/acl/'):
            return 400, 'ACL support disabled'
        if path == '/v1/acl/bootstrap' and method == 'POST':
            if self.bootstrap_index is not None:
                specified = self._reset_file()
                if specified is None:
                    return 400, 'ACL bootstrap already done (reset index: %d)' % self.bootstrap_index
                if specified != str(self.bootstrap_index):
                    return 400, ('Invalid bootstrap reset index (specified %s, reset index: %d)'
                                 % (specified, self.bootstrap_index))
            token = self.bootstrap_with(body.get('BootstrapSecret') or str(uuid.uuid4()))
            return 200, token
        if path == '/v1/acl/token/self':
            token = self._by_secret(secret)
            if token is None:
                return 403, 'ACL token not found'
            return 200, token
        if not self._management(secret):
            return 403, 'Permission denied'
        if path == '/v1/operator/autopilot/health' and method == 'GET':
            servers = self.autopilot.pop(0) if len(self.autopilot) > 1 else self.autopilot[0]
            # A live server's stats move with every answer; a server marked Frozen keeps its last ones, as the
            # leader keeps those of a server it cannot reach.
            self.autopilot_answers += 1
            answer = [dict(server, LastIndex=server.get('LastIndex', 100) + (0 if server.get('Frozen') else
                                                                             self.autopilot_answers))
                      for server in servers]
            healthy = all(s['Healthy'] for s in servers)
            # Nomad answers 429, with the report, when the cluster is not healthy.
            return (200 if healthy else 429), dict(Healthy=healthy, FailureTolerance=self.failure_tolerance,
                                                   Servers=answer)
        if path == '/v1/agent/self' and method == 'GET':
            return 200, dict(config={}, stats=self.self_stats)
        if path == '/v1/operator/raft/transfer-leadership' and method == 'PUT':
            if self.transfer_error:
                return self.transfer_error
            wanted = self.urls[-1].split('id=', 1)[1]
            self.transfers.append(wanted)
            for server in self.autopilot[-1]:
                server['Leader'] = server.get('ID') == wanted
                if server['Leader']:
                    self.leader = server['Address']
            return 200, ''
        if path == '/v1/nodes' and method == 'GET':
            return 200, self.node_lists.pop(0) if len(self.node_lists) > 1 else self.node_lists[0]

        match = re.match(r'^/v1/acl/policy/(.+)$', path)
        if match:
            name = match.group(1)
            if method == 'GET':
                return (200, self.policies[name]) if name in self.policies else (404, 'ACL policy not found')
            if method == 'POST':
                create_index = self.policies.get(name, {}).get('CreateIndex')
                index = self.next_index()
                self.policies[name] = dict(Name=body['Name'], Description=body['Description'], Rules=body['Rules'],
                                           CreateIndex=create_index or index, ModifyIndex=index)
                return 200, ''
            if method == 'DELETE':
                self.policies.pop(name, None)
                return 200, ''
        if path == '/v1/acl/tokens' and method == 'GET':
            stubs = [dict((k, v) for k, v in token.items() if k != 'SecretID') for token in self.tokens.values()]
            return 200, stubs
        if path == '/v1/acl/token' and method == 'POST':
            ttl = {'': '', '1h': '1h0m0s', '2h': '2h0m0s', '90m': '1h30m0s'}[body.get('ExpirationTTL', '')]
            token = self.add_token(body['Name'], body['Type'], body.get('Policies'), global_=body.get('Global'),
                                   ttl=ttl, expiration_time='2099-01-01T00:00:00.5Z' if ttl else None)
            return 200, token
        match = re.match(r'^/v1/acl/token/([0-9a-f-]+)$', path)
        if match:
            accessor = match.group(1)
            if accessor not in self.tokens:
                return 404, 'ACL token not found'
            token = self.tokens[accessor]
            if method == 'GET':
                return 200, token
            if method == 'DELETE':
                del self.tokens[accessor]
                return 200, ''
            if method == 'POST':
                if body.get('Global') != token['Global']:
                    return 400, 'cannot toggle global mode of %s' % accessor
                if (body.get('ExpirationTTL') or '') != (token['ExpirationTTL'] or ''):
                    return 400, 'token 0 invalid: 1 error occurred:\n\t* cannot update expiration TTL'
                token.update(Policies=body['Policies'], Name=body['Name'], Type=body['Type'],
                             ModifyIndex=self.next_index())
                return 200, token
        return 404, 'no route %s %s' % (method, path)


@pytest.fixture
def fake_nomad(monkeypatch):
    nomad = FakeNomad()
    monkeypatch.setattr(_api, 'Request', nomad.request_factory)
    return nomad


class CertAuthority:
    """A CA made with _pki, written to files like tls_ca writes them."""

    def __init__(self, directory, name='Test CA', **constraints):
        from ansible_collections.hardened.nomad.plugins.module_utils import _pki
        self.pki = _pki
        directory.mkdir(parents=True, exist_ok=True)
        self.key, self.cert = _pki.create_ca(name, 30, **constraints)
        self.cert_path = directory / 'ca.pem'
        self.key_path = directory / 'ca-key.pem'
        self.pem = _pki.certificate_pem(self.cert).decode()
        self.cert_path.write_text(self.pem)
        self.key_path.write_bytes(_pki.private_key_pem(self.key))

    def issue(self, public_key, dns, ips=(), days=365, common_name=None):
        cert = self.pki.sign_leaf(self.cert, self.key, public_key, common_name or dns[0], list(dns), list(ips),
                                  days, server_auth=True)
        return self.pki.certificate_pem(cert).decode()


@pytest.fixture
def ca(tmp_path):
    return CertAuthority(tmp_path / 'ca', permitted_dns_domains=['nomad', 'localhost', 'example.com'])


@pytest.fixture
def other_ca(tmp_path):
    return CertAuthority(tmp_path / 'other-ca', name='Foreign CA')
