# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""gossip_keyring against a fake of Nomad's gossip keyring API.

The fake keyring answers like Nomad 1.11.3 (command/agent/agent_endpoint.go KeyringOperationRequest)
over Serf 0.10.2 (serf/keymanager.go, internal_query.go) and memberlist (keyring.go): every node
keeps its keys with the primary first; a list answers {Keys: {key: nodes}, Messages, NumNodes}
and never says which key is primary; a node that fails makes the call HTTP 500
"<n>/<m> nodes reported failure", a node that does not answer "<n>/<m> nodes reported success".
"""

from __future__ import annotations

import base64
import hashlib
import json
import math

import pytest

from ansible.module_utils import basic

from ansible_collections.hardened.nomad.plugins.module_utils import _gossip
from ansible_collections.hardened.nomad.plugins.modules import gossip_keyring

MANAGEMENT = '3f1c2a3b-4d5e-4f60-8a9b-0c1d2e3f4a5b'
KEY_A = base64.b64encode(bytes(range(32))).decode()
KEY_B = base64.b64encode(b'\xfb' * 32).decode()  # uses "+" and "/"
KEY_C = base64.b64encode(bytes(range(100, 116))).decode()  # 16 bytes
ALL_KEYS = (KEY_A, KEY_B, KEY_C)
NODES = ('server-1.global', 'server-2.global', 'server-3.global')


def fp(key):
    return hashlib.sha256(key.encode()).hexdigest()[:8]


class FakeSerf:
    """The gossip keyring of a few servers, behind /v1/agent/keyring/*."""

    OPS = ('list', 'install', 'use', 'remove')

    def __init__(self, nomad, keys, nodes=NODES):
        self.nomad = nomad
        self.rings = dict((node, list(keys)) for node in nodes)  # primary first, like memberlist
        self.is_server = True
        self.encrypted = True
        self.agent_write_policies = set(['agent-write'])
        self.messages = {}
        # (node, op) -> how many of those requests the node does not answer (math.inf: never).
        self.drops = {}

    def allowed(self, secret):
        token = self.nomad._by_secret(secret)
        if token is None:
            return False
        return token['Type'] == 'management' or bool(set(token['Policies']) & self.agent_write_policies)

    def route(self, method, path, body, secret):
        if not self.is_server:
            return 501, 'Invalid method'
        if not self.allowed(secret):
            return 403, 'Permission denied'
        op = path[len('/v1/agent/keyring/'):]
        if op not in self.OPS:
            return 404, 'resource not found'
        key = ''
        if op != 'list':
            if body is None:
                return 400, 'Request body is empty'
            key = body.get('Key', '')
        try:
            raw = base64.b64decode(key, validate=True)
        except ValueError:
            return 500, 'illegal base64 data at input byte 0'
        counts, answered, failed = {}, 0, 0
        for node, ring in self.rings.items():
            if self.drops.get((node, op), 0) > 0:
                self.drops[(node, op)] -= 1
                continue
            answered += 1
            if not self.apply(ring, op, key, raw):
                failed += 1
                continue
            if op == 'list':
                for installed in ring:
                    counts[installed] = counts.get(installed, 0) + 1
        if failed:
            return 500, '%d/%d nodes reported failure' % (failed, len(self.rings))
        if answered != len(self.rings):
            return 500, '%d/%d nodes reported success' % (answered, len(self.rings))
        return 200, dict(Keys=counts, Messages=dict(self.messages) if op == 'list' else {},
                         NumNodes=len(self.rings))

    def apply(self, ring, op, key, raw):
        if not self.encrypted:
            return False
        if op == 'install':
            if len(raw) not in (16, 24, 32):
                return False
            if key not in ring:
                ring.append(key)
        elif op == 'use':
            if key not in ring:
                return False
            ring.remove(key)
            ring.insert(0, key)
        elif op == 'remove':
            if ring[0] == key:
                return False
            if key in ring:
                ring.remove(key)
        return True

    # -- what the tests look at ----------------------------------------------------------------

    def puts(self):
        return [(call[1].rsplit('/', 1)[1], call[2]['Key'] if call[2] else None)
                for call in self.nomad.calls if call[0] == 'PUT']

    def ops(self):
        return [call[1].rsplit('/', 1)[1] for call in self.nomad.calls]

    def everywhere(self, *keys):
        return all(ring == list(keys) for ring in self.rings.values())


@pytest.fixture
def nomad(fake_nomad, monkeypatch):
    fake_nomad.bootstrap_with(MANAGEMENT)
    fake_nomad.serf = FakeSerf(fake_nomad, [KEY_A])
    original = fake_nomad.route

    def route(method, path, body, secret):
        if path.startswith('/v1/agent/keyring/'):
            return fake_nomad.serf.route(method, path, body, secret)
        return original(method, path, body, secret)

    monkeypatch.setattr(fake_nomad, 'route', route)
    return fake_nomad


@pytest.fixture
def serf(nomad):
    return nomad.serf


@pytest.fixture(autouse=True)
def sleeps(monkeypatch):
    """No test really waits: sleeping moves a fake clock."""
    now, slept = [1000.0], []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    monkeypatch.setattr(_gossip, '_clock', lambda: now[0])
    monkeypatch.setattr(_gossip, '_sleep', sleep)
    return slept


@pytest.fixture
def run(run_module, serf):
    """Run the module; every result is checked to carry no key, installed or given."""
    def run(check_mode=False, diff=False, **args):
        args.setdefault('token', MANAGEMENT)
        result = run_module(gossip_keyring, args, check_mode=check_mode, diff=diff)
        text = json.dumps(result)
        for key in ALL_KEYS:
            assert key not in text, 'a key leaked into the result: %s' % text
        return result
    return run


# -- list ----------------------------------------------------------------------------------------

def test_list_returns_fingerprints_counts_and_primary_without_writing(run, serf):
    result = run(state='listed')
    assert result['changed'] is False and result['failed'] is False
    assert result['keys'] == {fp(KEY_A): 3}
    assert result['num_nodes'] == 3
    assert result['primary'] == fp(KEY_A)
    assert 'fingerprint' not in result
    assert serf.ops() == ['list'] and serf.puts() == []


def test_list_with_several_keys_cannot_name_the_primary(run, serf):
    serf.rings['server-1.global'].append(KEY_B)
    result = run(state='listed', key=KEY_B, diff=True)
    assert result['keys'] == {fp(KEY_A): 3, fp(KEY_B): 1}
    assert result['primary'] is None
    assert result['fingerprint'] == fp(KEY_B)
    assert result['diff']['before'] == result['diff']['after']


def test_fingerprint_is_sha256_of_the_key_text():
    assert gossip_keyring.fingerprint(KEY_A) == hashlib.sha256(KEY_A.encode('ascii')).hexdigest()[:8]
    assert len(set(fp(key) for key in ALL_KEYS)) == 3


def test_messages_of_servers_become_warnings_without_keys(run, serf, monkeypatch):
    warnings = []
    monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda self, text: warnings.append(text))
    serf.messages = {'server-2.global': 'truncated key list response, showing first 1 of 2 keys near %s' % KEY_A}
    run(state='listed')
    assert warnings == ['server server-2.global: truncated key list response, showing first 1 of 2 keys near '
                        'key %s' % fp(KEY_A)]


# -- state=primary -------------------------------------------------------------------------------

def test_rotation_installs_waits_uses_then_removes_the_others(run, serf):
    result = run(key=KEY_B, diff=True)
    assert result['changed'] is True and result['failed'] is False
    # The safe order: install, see it on every node, use, remove the old key, read back.
    assert serf.ops() == ['list', 'install', 'list', 'use', 'remove', 'list']
    assert serf.puts() == [('install', KEY_B), ('use', KEY_B), ('remove', KEY_A)]
    assert [call[0] for call in serf.nomad.writes()] == ['PUT', 'PUT', 'PUT']
    assert serf.everywhere(KEY_B)
    assert result['keys'] == {fp(KEY_B): 3} and result['num_nodes'] == 3
    assert result['primary'] == fp(KEY_B) and result['fingerprint'] == fp(KEY_B)
    assert result['diff'] == dict(before=dict(keys=[fp(KEY_A)], primary=fp(KEY_A)),
                                  after=dict(keys=[fp(KEY_B)], primary=fp(KEY_B)))


def test_key_already_primary_and_alone_is_unchanged_without_put(run, serf):
    serf.rings = dict((node, [KEY_B]) for node in NODES)
    result = run(key=KEY_B, diff=True)
    assert result['changed'] is False
    assert serf.puts() == [] and serf.ops() == ['list']
    assert result['keys'] == {fp(KEY_B): 3} and result['primary'] == fp(KEY_B)
    assert result['diff']['before'] == result['diff']['after']


def test_rerun_after_rotation_is_unchanged(run, serf):
    assert run(key=KEY_B)['changed'] is True
    calls = len(serf.nomad.calls)
    again = run(key=KEY_B)
    assert again['changed'] is False
    assert [call[0] for call in serf.nomad.calls[calls:]] == ['GET']


def test_several_other_keys_are_all_removed(run, serf):
    serf.rings = dict((node, [KEY_A, KEY_C]) for node in NODES)
    result = run(key=KEY_B)
    assert result['changed'] is True and serf.everywhere(KEY_B)
    assert sorted(put for put in serf.puts() if put[0] == 'remove') == sorted([('remove', KEY_A), ('remove', KEY_C)])


def test_key_installed_but_not_primary_is_used_without_new_install(run, serf):
    serf.rings = dict((node, [KEY_A, KEY_B]) for node in NODES)
    result = run(key=KEY_B)
    assert result['changed'] is True
    assert serf.puts() == [('use', KEY_B), ('remove', KEY_A)]
    assert serf.everywhere(KEY_B)


def test_keep_others_makes_primary_and_keeps_the_old_key(run, serf):
    result = run(key=KEY_B, remove_others=False, diff=True)
    assert result['changed'] is True
    assert serf.puts() == [('install', KEY_B), ('use', KEY_B)]
    assert serf.everywhere(KEY_B, KEY_A)
    assert result['keys'] == {fp(KEY_A): 3, fp(KEY_B): 3}
    assert result['primary'] == fp(KEY_B)  # known: the module just made it primary
    assert result['diff']['after'] == dict(keys=sorted([fp(KEY_A), fp(KEY_B)]), primary=fp(KEY_B))


def test_keep_others_rerun_cannot_see_the_primary_so_uses_again(run, serf):
    # Nomad's answer does not say which of two keys is primary: "use" is sent again (a no-op on the
    # servers) and reported as a change, as documented.
    serf.rings = dict((node, [KEY_B, KEY_A]) for node in NODES)
    result = run(key=KEY_B, remove_others=False)
    assert result['changed'] is True
    assert serf.puts() == [('use', KEY_B)]
    assert serf.everywhere(KEY_B, KEY_A)


def test_keep_others_with_the_key_alone_is_unchanged(run, serf):
    result = run(key=KEY_A, remove_others=False)
    assert result['changed'] is False and serf.puts() == []


def test_check_mode_predicts_the_rotation_without_put(run, serf):
    result = run(key=KEY_B, check_mode=True, diff=True)
    assert result['changed'] is True
    assert serf.puts() == [] and serf.nomad.writes() == [] and serf.everywhere(KEY_A)
    # Returned: the keyring as found; the diff: the prediction.
    assert result['keys'] == {fp(KEY_A): 3} and result['primary'] == fp(KEY_A)
    assert result['diff'] == dict(before=dict(keys=[fp(KEY_A)], primary=fp(KEY_A)),
                                  after=dict(keys=[fp(KEY_B)], primary=fp(KEY_B)))


def test_check_mode_when_already_primary_is_unchanged(run, serf):
    result = run(key=KEY_A, check_mode=True)
    assert result['changed'] is False and serf.puts() == []


def test_check_mode_keep_others_predicts_the_union(run, serf):
    result = run(key=KEY_B, remove_others=False, check_mode=True, diff=True)
    assert result['changed'] is True and serf.puts() == []
    assert result['diff']['after'] == dict(keys=sorted([fp(KEY_A), fp(KEY_B)]), primary=fp(KEY_B))


# -- waiting for every server --------------------------------------------------------------------

def test_waits_until_a_slow_server_has_the_key_then_rotates(run, serf, sleeps):
    # server-3 misses the first two installs: the module sends it again until all three have it.
    serf.drops[('server-3.global', 'install')] = 2
    result = run(key=KEY_B)
    assert result['changed'] is True and serf.everywhere(KEY_B)
    assert sleeps == [1.0, 1.0]
    assert serf.ops() == ['list', 'install', 'install', 'install', 'list', 'use', 'remove', 'list']


def test_key_seen_by_only_some_servers_in_list_is_waited_for(run, serf, sleeps, monkeypatch):
    # The install answers for all, but one server's list still lacks the key once (a slow write).
    original = serf.apply
    lagging = [1]

    def apply(ring, op, key, raw):
        if op == 'install' and ring is serf.rings['server-2.global'] and lagging[0]:
            lagging[0] -= 1
            return True
        return original(ring, op, key, raw)

    monkeypatch.setattr(serf, 'apply', apply)
    result = run(key=KEY_B)
    assert result['changed'] is True and serf.everywhere(KEY_B)
    assert sleeps == [1.0]
    assert serf.ops()[:5] == ['list', 'install', 'list', 'install', 'list']


def test_key_not_on_every_server_before_timeout_fails_and_changes_nothing_else(run, serf, sleeps):
    serf.drops[('server-3.global', 'install')] = math.inf
    result = run(key=KEY_B, propagation_timeout=5)
    assert result['failed'] is True
    assert result['msg'].startswith('key %s did not reach every server within 5 seconds (propagation_timeout)'
                                    % fp(KEY_B))
    assert 'only 2 of 3 servers answered the install request' in result['msg']
    assert 'was not made primary and no key was removed' in result['msg']
    assert sum(sleeps) == 5
    assert 'use' not in serf.ops() and 'remove' not in serf.ops()
    # Where it arrived it is installed, but the old key stays primary everywhere.
    assert all(ring[0] == KEY_A for ring in serf.rings.values())


def test_timeout_message_counts_servers_when_list_shows_the_gap(run, serf, monkeypatch):
    original = serf.apply
    monkeypatch.setattr(serf, 'apply', lambda ring, op, key, raw: True if (
        op == 'install' and ring is serf.rings['server-2.global']) else original(ring, op, key, raw))
    result = run(key=KEY_B, propagation_timeout=2)
    assert result['failed'] is True
    assert 'last seen: on 2 of 3 servers' in result['msg']
    assert 'use' not in serf.ops()


def test_present_waits_too(run, serf):
    serf.drops[('server-1.global', 'install')] = math.inf
    result = run(key=KEY_B, state='present', propagation_timeout=3)
    assert result['failed'] is True and 'did not reach every server within 3 seconds' in result['msg']


def test_a_server_not_answering_at_the_start_fails_before_any_change(run, serf):
    serf.drops[('server-2.global', 'list')] = math.inf
    result = run(key=KEY_B)
    assert result['failed'] is True
    assert result['msg'].startswith('only 2 of 3 servers answered the list request for the keyring in time '
                                    '(Nomad: 2/3 nodes reported success): a server is down')
    assert serf.puts() == []


def test_use_not_answered_by_all_fails_clearly_without_removing(run, serf):
    serf.drops[('server-1.global', 'use')] = 1
    result = run(key=KEY_B)
    assert result['failed'] is True
    assert 'only 2 of 3 servers answered the use request for key %s' % fp(KEY_B) in result['msg']
    assert 'remove' not in serf.ops()
    assert all(KEY_A in ring and KEY_B in ring for ring in serf.rings.values())


# -- state=present -------------------------------------------------------------------------------

def test_present_installs_without_making_primary(run, serf):
    result = run(key=KEY_B, state='present', diff=True)
    assert result['changed'] is True
    assert serf.puts() == [('install', KEY_B)]
    assert serf.everywhere(KEY_A, KEY_B)  # the old key stays primary
    assert result['keys'] == {fp(KEY_A): 3, fp(KEY_B): 3}
    assert result['primary'] == fp(KEY_A)  # installing never changes the primary
    assert result['diff'] == dict(before=dict(keys=[fp(KEY_A)], primary=fp(KEY_A)),
                                  after=dict(keys=sorted([fp(KEY_A), fp(KEY_B)]), primary=fp(KEY_A)))


def test_present_when_installed_everywhere_is_unchanged(run, serf):
    serf.rings = dict((node, [KEY_A, KEY_B]) for node in NODES)
    result = run(key=KEY_B, state='present')
    assert result['changed'] is False and serf.puts() == []
    assert result['primary'] is None


def test_present_check_mode_predicts_without_put(run, serf):
    result = run(key=KEY_B, state='present', check_mode=True)
    assert result['changed'] is True and serf.puts() == [] and serf.everywhere(KEY_A)


# -- state=absent --------------------------------------------------------------------------------

def test_absent_removes_a_secondary_key(run, serf):
    serf.rings = dict((node, [KEY_A, KEY_B]) for node in NODES)
    result = run(key=KEY_B, state='absent', diff=True)
    assert result['changed'] is True
    assert serf.puts() == [('remove', KEY_B)]
    assert serf.everywhere(KEY_A)
    assert result['keys'] == {fp(KEY_A): 3} and result['primary'] == fp(KEY_A)
    assert result['diff'] == dict(before=dict(keys=sorted([fp(KEY_A), fp(KEY_B)]), primary=None),
                                  after=dict(keys=[fp(KEY_A)], primary=None))
    assert run(key=KEY_B, state='absent')['changed'] is False


def test_absent_of_a_key_not_installed_is_unchanged(run, serf):
    result = run(key=KEY_B, state='absent')
    assert result['changed'] is False and serf.puts() == []


def test_absent_of_the_only_key_is_refused_before_any_put(run, serf):
    result = run(key=KEY_A, state='absent')
    assert result['failed'] is True
    assert result['msg'] == ('key %s is the primary key (the only key installed): Nomad never removes the primary '
                             'key. Make another key primary first (state=primary with that key)' % fp(KEY_A))
    assert serf.puts() == [] and serf.everywhere(KEY_A)


def test_absent_of_the_primary_among_several_is_refused_by_nomad_clearly(run, serf):
    serf.rings = dict((node, [KEY_A, KEY_B]) for node in NODES)
    result = run(key=KEY_A, state='absent')
    assert result['failed'] is True
    assert result['msg'] == ('3 of 3 servers refused to remove key %s (Nomad: 3/3 nodes reported failure): it is '
                             'their primary key, which Nomad never removes: make another key primary first '
                             '(state=primary)' % fp(KEY_A))
    assert serf.everywhere(KEY_A, KEY_B)


def test_absent_check_mode_predicts_without_put(run, serf):
    serf.rings = dict((node, [KEY_A, KEY_B]) for node in NODES)
    result = run(key=KEY_B, state='absent', check_mode=True, diff=True)
    assert result['changed'] is True and serf.puts() == []
    assert result['diff']['after']['keys'] == [fp(KEY_A)]
    assert serf.everywhere(KEY_A, KEY_B)


def test_absent_of_the_only_key_is_refused_in_check_mode_too(run, serf):
    result = run(key=KEY_A, state='absent', check_mode=True)
    assert result['failed'] is True and 'is the primary key' in result['msg']


# -- errors --------------------------------------------------------------------------------------

def test_token_without_agent_write_is_denied_clearly(run, serf, nomad):
    reader = nomad.add_token('reader', policies=['agent-read'])
    result = run(key=KEY_B, token=reader['SecretID'])
    assert result['failed'] is True
    assert result['msg'].startswith('Nomad answered HTTP 403 to GET /v1/agent/keyring/list: Permission denied')
    assert 'needs a token with agent:write' in result['msg']
    assert 'agent { policy = "write" }' in result['msg']
    assert serf.puts() == [] and serf.everywhere(KEY_A)


def test_token_with_agent_write_policy_is_enough(run, serf, nomad):
    writer = nomad.add_token('writer', policies=['agent-write'])
    assert run(key=KEY_B, token=writer['SecretID'])['changed'] is True


def test_no_token_is_denied(run_module, serf):
    result = run_module(gossip_keyring, dict(state='listed'))
    assert result['failed'] is True and 'HTTP 403' in result['msg'] and 'agent:write' in result['msg']


@pytest.mark.parametrize('bad, expected', [
    (KEY_B.replace('+', '-').replace('/', '_'), 'key is not valid standard base64'),
    (base64.b64encode(b'x' * 20).decode(), 'key decodes to 20 bytes; Nomad needs 16, 24 or 32 bytes'),
    (KEY_A.rstrip('='), 'key is not valid standard base64'),
    (KEY_A + '\n', 'key is not valid standard base64'),
    (' ' + KEY_A, 'key is not valid standard base64'),
    (KEY_A[:-2] + 'R=', 'key is not canonical base64'),
])
def test_invalid_key_fails_before_any_call_without_showing_it(run, serf, bad, expected):
    result = run(key=bad)
    assert result['failed'] is True and result['msg'].startswith(expected)
    assert bad.strip() not in result['msg']
    assert serf.nomad.calls == []


@pytest.mark.parametrize('state', ['primary', 'present', 'absent'])
def test_key_is_required_unless_listing(run_module, serf, state):
    result = run_module(gossip_keyring, dict(token=MANAGEMENT, state=state))
    assert result['failed'] is True and 'key' in result['msg']
    assert serf.nomad.calls == []


def test_gossip_encryption_disabled_is_explained(run, serf):
    serf.encrypted = False
    result = run(key=KEY_B)
    assert result['failed'] is True
    assert result['msg'].startswith('3 of 3 servers refused to list the keyring (Nomad: 3/3 nodes reported '
                                    'failure): is gossip encryption enabled?')
    assert serf.puts() == []


def test_install_refused_by_the_servers_is_explained(run, serf, monkeypatch):
    original = serf.apply
    monkeypatch.setattr(serf, 'apply', lambda ring, op, key, raw: False if op == 'install'
                        else original(ring, op, key, raw))
    result = run(key=KEY_B)
    assert result['failed'] is True
    assert result['msg'].startswith('3 of 3 servers refused to install key %s (Nomad: 3/3 nodes reported failure)'
                                    % fp(KEY_B))
    assert 'use' not in serf.ops()


def test_use_refused_by_the_servers_is_explained_and_nothing_is_removed(run, serf, monkeypatch):
    original = serf.apply
    monkeypatch.setattr(serf, 'apply', lambda ring, op, key, raw: (op != 'use' or ring is not serf.rings[NODES[0]])
                        and original(ring, op, key, raw))
    result = run(key=KEY_B)
    assert result['failed'] is True
    assert result['msg'] == ('1 of 3 servers refused to use key %s (Nomad: 1/3 nodes reported failure): the key is '
                             'missing on those servers' % fp(KEY_B))
    assert 'remove' not in serf.ops()


def test_client_agent_is_not_a_server(run, serf):
    serf.is_server = False
    result = run(state='listed')
    assert result['failed'] is True
    assert result['msg'].startswith('the agent at https://127.0.0.1:4646 is not a Nomad server (Nomad answered '
                                    'HTTP 501 to GET /v1/agent/keyring/list: Invalid method)')


def test_unexpected_answer_is_an_error(run, nomad, monkeypatch):
    monkeypatch.setattr(nomad.serf, 'route', lambda *args: (200, 'hello'))
    result = run(state='listed')
    assert result['failed'] is True and 'not a keyring listing' in result['msg']


def test_keys_in_nomads_error_texts_are_replaced_by_fingerprints(run, serf, monkeypatch):
    serf.rings = dict((node, [KEY_A, KEY_C]) for node in NODES)
    original = serf.route

    def route(method, path, body, secret):
        if path.endswith('/use'):
            return 400, 'cannot use %s while %s is busy' % (body['Key'], KEY_C)
        return original(method, path, body, secret)

    monkeypatch.setattr(serf, 'route', route)
    result = run(key=KEY_B)
    assert result['failed'] is True
    assert result['msg'] == ('Nomad answered HTTP 400 to PUT /v1/agent/keyring/use: cannot use key %s while key %s '
                             'is busy' % (fp(KEY_B), fp(KEY_C)))


def test_connection_refused_in_a_real_process_shows_no_key(module_process):
    # A real module process: real exit_json and no_log handling, nothing listening on the port.
    result = module_process('gossip_keyring', dict(address='http://127.0.0.1:9', key=KEY_B, token=MANAGEMENT))
    text = json.dumps(result)
    assert result['failed'] is True and 'connection refused' in result['msg']
    assert KEY_B not in text and MANAGEMENT not in text


def test_invalid_key_in_a_real_process_shows_no_key(module_process):
    bad = KEY_B.replace('+', '-')
    result = module_process('gossip_keyring', dict(address='http://127.0.0.1:9', key=bad))
    assert result['failed'] is True and 'not valid standard base64' in result['msg']
    assert bad not in json.dumps(result)


# -- servers: every server must be in the gossip pool before a change ----------------------------

@pytest.mark.parametrize('check_mode', [False, True])
def test_fewer_servers_in_the_pool_than_expected_fails_before_any_change(run, serf, check_mode):
    result = run(key=KEY_B, servers=4, check_mode=check_mode)
    assert result['failed'] is True
    assert result['msg'] == ('only 3 of the 4 servers are in the gossip pool. A server that is down would miss the '
                             'new key and could not rejoin once the old key is removed: bring every server up, then '
                             'run again. Nothing was changed')
    assert serf.puts() == [] and serf.everywhere(KEY_A)


@pytest.mark.parametrize('state', ['present', 'absent'])
def test_servers_is_checked_for_every_change(run, serf, state):
    serf.rings = dict((node, [KEY_A, KEY_B]) for node in NODES) if state == 'absent' else serf.rings
    result = run(key=KEY_B if state == 'absent' else KEY_C, state=state, servers=5)
    assert result['failed'] is True and 'only 3 of the 5 servers' in result['msg']
    assert serf.puts() == []


def test_all_servers_in_the_pool_rotates(run, serf):
    assert run(key=KEY_B, servers=3)['changed'] is True and serf.everywhere(KEY_B)


def test_servers_is_not_checked_without_a_change(run, serf):
    # Listing, or a key already primary alone: nothing would change, so nothing to refuse.
    assert run(state='listed', servers=5)['failed'] is False
    assert run(key=KEY_A, servers=5)['failed'] is False
    assert serf.puts() == []


def test_the_module_uses_the_shared_keyring(monkeypatch, run, serf):
    # One copy of the keyring operations: the module goes through _gossip.Keyring.
    used = []
    original = _gossip.Keyring.use
    monkeypatch.setattr(_gossip.Keyring, 'use', lambda self, key: used.append(fp(key)) or original(self, key))
    run(key=KEY_B)
    assert used == [fp(KEY_B)]
