# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""gossip_keyring, run through Ansible, against a real Nomad server with gossip encryption.

The shared agent of conftest.py has no server.encrypt, so this file starts its own single server
with conftest's `agent_factory`: the same mTLS (verify_https_client, verify_server_hostname) and
ACLs, the certificates of the shared `pki` fixture, and key A as its first gossip key. What the
server really holds is read from its <data_dir>/server/serf.keyring (the keys, primary first),
not only from the module.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os

import pytest

from ansible_collections.hardened.nomad.plugins.module_utils._api import NomadClient

BOOTSTRAP_SECRET = '7a2c2a3b-4d5e-4f60-8a9b-0c1d2e3f4a5b'
KEY_A = base64.b64encode(os.urandom(32)).decode()
KEY_B = base64.b64encode(os.urandom(32)).decode()
KEY_C = base64.b64encode(os.urandom(32)).decode()
ALL_KEYS = (KEY_A, KEY_B, KEY_C)


def fp(key):
    return hashlib.sha256(key.encode()).hexdigest()[:8]


class Server:
    def __init__(self, connection, data_dir):
        self.connection = connection
        self.data_dir = data_dir
        self.management = dict(connection, token=BOOTSTRAP_SECRET)
        self.client = NomadClient(**self.management)

    def keyring_file(self):
        """The server's own record: its keys, the primary first."""
        with open(os.path.join(self.data_dir, 'server', 'serf.keyring')) as handle:
            return json.load(handle)

    def listed(self):
        return self.client.get('/v1/agent/keyring/list')

    def reset(self, primary, *others):
        """Set the keyring with the raw API (not the module): ``primary`` first, then ``others``."""
        for key in (primary,) + others:
            self.client.put('/v1/agent/keyring/install', body=dict(Key=key))
        self.client.put('/v1/agent/keyring/use', body=dict(Key=primary))
        for key in self.keyring_file():
            if key not in (primary,) + others:
                self.client.put('/v1/agent/keyring/remove', body=dict(Key=key))
        assert self.keyring_file()[0] == primary and sorted(self.keyring_file()) == sorted((primary,) + others)


@pytest.fixture(scope='module')
def server(agent_factory, ansible_module):
    with agent_factory('gossip-agent', server_hcl='encrypt = "%s"' % KEY_A) as agent:
        connection = dict((k, agent[k]) for k in ('address', 'ca_file', 'client_cert', 'client_key'))
        boot = ansible_module('acl_bootstrap', dict(connection, bootstrap_secret=BOOTSTRAP_SECRET,
                                                    data_dir=agent['data_dir'], leader_timeout=30))
        assert not boot['failed'], boot
        yield Server(connection, agent['data_dir'])


@pytest.fixture
def keyring(ansible_module, server):
    """keyring(check=False, diff=False, **args): run gossip_keyring with the management token.

    Every result is checked to carry none of the keys.
    """
    def run(check=False, diff=False, **args):
        result = ansible_module('gossip_keyring', dict(server.management, **args), check=check, diff=diff)
        text = json.dumps(result)
        for key in ALL_KEYS:
            assert key not in text, 'a key leaked into the result: %s' % text
        return result
    return run


def test_server_starts_with_key_a_alone(keyring, server):
    assert server.keyring_file() == [KEY_A]
    result = keyring(state='listed')
    assert result['changed'] is False and result['failed'] is False
    assert result['keys'] == {fp(KEY_A): 1}
    assert result['num_nodes'] == 1
    assert result['primary'] == fp(KEY_A)


def test_rotation_to_b_then_rerun_is_unchanged(keyring, server):
    server.reset(KEY_A)
    rotated = keyring(key=KEY_B, diff=True)
    assert rotated['changed'] is True and rotated['failed'] is False, rotated
    assert rotated['keys'] == {fp(KEY_B): 1} and rotated['primary'] == fp(KEY_B)
    assert rotated['fingerprint'] == fp(KEY_B)
    assert rotated['diff'] == dict(before=dict(keys=[fp(KEY_A)], primary=fp(KEY_A)),
                                   after=dict(keys=[fp(KEY_B)], primary=fp(KEY_B)))
    # The server itself: B alone, and the API lists only B.
    assert server.keyring_file() == [KEY_B]
    assert server.listed()['Keys'] == {KEY_B: 1}
    listed = keyring(state='listed')
    assert listed['keys'] == {fp(KEY_B): 1} and listed['primary'] == fp(KEY_B)

    again = keyring(key=KEY_B, diff=True)
    assert again['changed'] is False and again['failed'] is False
    assert again['diff']['before'] == again['diff']['after']
    assert server.keyring_file() == [KEY_B]


def test_check_mode_with_c_predicts_a_change_and_changes_nothing(keyring, server):
    server.reset(KEY_B)
    predicted = keyring(key=KEY_C, check=True, diff=True)
    assert predicted['changed'] is True and predicted['failed'] is False, predicted
    assert predicted['diff'] == dict(before=dict(keys=[fp(KEY_B)], primary=fp(KEY_B)),
                                     after=dict(keys=[fp(KEY_C)], primary=fp(KEY_C)))
    assert predicted['keys'] == {fp(KEY_B): 1}  # as found
    assert server.keyring_file() == [KEY_B]
    assert keyring(state='listed')['keys'] == {fp(KEY_B): 1}


def test_absent_of_the_only_primary_key_fails_clearly(keyring, server):
    server.reset(KEY_B)
    result = keyring(key=KEY_B, state='absent')
    assert result['failed'] is True
    assert result['msg'] == ('key %s is the primary key (the only key installed): Nomad never removes the primary '
                             'key. Make another key primary first (state=primary with that key)' % fp(KEY_B))
    assert server.keyring_file() == [KEY_B]


def test_absent_of_the_primary_among_several_is_refused_by_nomad_clearly(keyring, server):
    server.reset(KEY_B, KEY_A)
    result = keyring(key=KEY_B, state='absent')
    assert result['failed'] is True
    assert result['msg'] == ('1 of 1 servers refused to remove key %s (Nomad: 1/1 nodes reported failure): it is '
                             'their primary key, which Nomad never removes: make another key primary first '
                             '(state=primary)' % fp(KEY_B))
    assert server.keyring_file() == [KEY_B, KEY_A]

    removed = keyring(key=KEY_A, state='absent', diff=True)
    assert removed['changed'] is True and removed['failed'] is False, removed
    assert removed['keys'] == {fp(KEY_B): 1} and removed['primary'] == fp(KEY_B)
    assert server.keyring_file() == [KEY_B]
    assert keyring(key=KEY_A, state='absent')['changed'] is False


def test_present_stages_a_key_and_keep_others_switches_primary(keyring, server):
    server.reset(KEY_B)
    staged = keyring(key=KEY_A, state='present')
    assert staged['changed'] is True and staged['failed'] is False, staged
    assert staged['keys'] == {fp(KEY_A): 1, fp(KEY_B): 1} and staged['primary'] == fp(KEY_B)
    assert server.keyring_file() == [KEY_B, KEY_A]  # B stays primary
    assert keyring(key=KEY_A, state='present')['changed'] is False

    predicted = keyring(key=KEY_A, state='present', check=True)
    assert predicted['changed'] is False

    switched = keyring(key=KEY_A, remove_others=False)
    assert switched['changed'] is True and switched['primary'] == fp(KEY_A)
    assert server.keyring_file() == [KEY_A, KEY_B]  # A primary, B kept

    back = keyring(key=KEY_B)
    assert back['changed'] is True and back['keys'] == {fp(KEY_B): 1}
    assert server.keyring_file() == [KEY_B]


@pytest.fixture(scope='module')
def agent_read_token(ansible_module, server):
    """A client token whose policy reads the agent but may not write it."""
    policy = ansible_module('acl_policy', dict(server.management, name='it-gossip-agent-read',
                                               rules='agent {\n  policy = "read"\n}\nnode {\n  policy = "read"\n}\n'))
    assert not policy['failed'], policy
    token = ansible_module('acl_token', dict(server.management, name='it-gossip-agent-read',
                                             policies=['it-gossip-agent-read']))
    assert not token['failed'], token
    return token['secret_id']


def test_token_without_agent_write_fails_clearly(keyring, server, agent_read_token):
    server.reset(KEY_B)
    for args in (dict(state='listed'), dict(key=KEY_C)):
        result = keyring(token=agent_read_token, **args)
        assert result['failed'] is True
        assert result['msg'].startswith('Nomad answered HTTP 403 to GET /v1/agent/keyring/list: Permission denied')
        assert 'needs a token with agent:write' in result['msg'] and 'agent { policy = "write" }' in result['msg']
    assert server.keyring_file() == [KEY_B]


def test_token_with_an_agent_write_policy_is_enough(ansible_module, keyring, server):
    policy = ansible_module('acl_policy', dict(server.management, name='it-gossip-agent-write',
                                               rules='agent {\n  policy = "write"\n}\n'))
    assert not policy['failed'], policy
    token = ansible_module('acl_token', dict(server.management, name='it-gossip-agent-write',
                                             policies=['it-gossip-agent-write']))
    result = keyring(token=token['secret_id'], state='listed')
    assert result['failed'] is False and result['keys'] == {fp(server.keyring_file()[0]): 1}


# -- the Keyring class of _gossip, on the real API -----------------------------------------------

def test_keyring_class_lists_installs_uses_and_removes(server):
    from ansible_collections.hardened.nomad.plugins.module_utils import _gossip
    server.reset(KEY_B)
    warnings = []
    keyring = _gossip.Keyring(server.client, warn=warnings.append)
    listing = keyring.list()
    assert listing.keys == {KEY_B: 1} and listing.num_nodes == 1 and listing.primary == KEY_B
    assert listing.fingerprints() == {fp(KEY_B): 1}
    after = keyring.install_everywhere(KEY_C, timeout=10)
    assert after.on_all(KEY_C) and after.primary is None and server.keyring_file() == [KEY_B, KEY_C]
    keyring.use(KEY_C)
    assert server.keyring_file()[0] == KEY_C
    with pytest.raises(_gossip.KeyringError) as caught:
        keyring.remove(KEY_C)  # the primary key: Nomad refuses
    assert str(caught.value).startswith('1 of 1 servers refused to remove key %s' % fp(KEY_C))
    keyring.remove(KEY_B)
    assert keyring.list().primary == KEY_C and server.keyring_file() == [KEY_C]
    assert keyring.scrub('x %s y' % KEY_B) == 'x key %s y' % fp(KEY_B)
    assert warnings == []


def test_keyring_class_explains_a_token_without_agent_write(server, agent_read_token):
    from ansible_collections.hardened.nomad.plugins.module_utils import _gossip
    client = NomadClient(**dict(server.connection, token=agent_read_token))
    with pytest.raises(_gossip.KeyringError, match='needs a token with agent:write'):
        _gossip.Keyring(client).list()


# -- the rotation as rotate_gossip_key.yml runs it -----------------------------------------------

def test_servers_missing_from_the_pool_refuse_the_rotation(keyring, server):
    server.reset(KEY_B)
    result = keyring(key=KEY_C, servers=2)
    assert result['failed'] is True
    assert result['msg'].startswith('only 1 of the 2 servers are in the gossip pool')
    assert server.keyring_file() == [KEY_B]
    assert keyring(key=KEY_C, servers=1)['changed'] is True and server.keyring_file() == [KEY_C]


def test_rotation_chosen_by_gossip_key_resumes_after_an_interruption(ansible_module, keyring, server, tmp_path):
    server.reset(KEY_A)
    key_file = tmp_path / 'gossip.key'
    key_file.write_text(KEY_A + '\n')
    os.chmod(str(key_file), 0o600)
    choose = dict(state='next', path=str(key_file), rotate=True, return_key=True)

    first = ansible_module('gossip_key', choose)
    assert first['failed'] is False and first['source'] == 'new' and first['changed'] is True
    new_key = first['key']
    assert (tmp_path / 'gossip.key.next').read_text() == new_key + '\n'
    # Interrupted before the keyring call: the next run rolls out the same key.
    second = ansible_module('gossip_key', choose)
    assert second['source'] == 'pending' and second['key'] == new_key and second['changed'] is False

    rolled = ansible_module('gossip_keyring', dict(server.management, key=new_key, servers=1))
    assert rolled['failed'] is False and rolled['primary'] == second['fingerprint'] == fp(new_key), rolled
    assert server.keyring_file() == [new_key]
    finished = ansible_module('gossip_key', dict(state='finished', path=str(key_file), key=new_key))
    assert finished['changed'] is True and finished['fingerprint'] == fp(new_key)
    assert key_file.read_text() == new_key + '\n' and not (tmp_path / 'gossip.key.next').exists()

    # Already rotated: a plain run chooses nothing and the keyring holds the stored key alone.
    plain = ansible_module('gossip_key', dict(state='next', path=str(key_file), left_out=['server-2']))
    assert plain['failed'] is False and plain['rotate'] is False and plain['fingerprint'] == fp(new_key)
    listed = keyring(state='listed')
    assert listed['primary'] == plain['fingerprint'] and listed['changed'] is False
    server.reset(KEY_A)
