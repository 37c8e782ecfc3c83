# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Token rotation (acl_token_rotate) and the ACL bootstrap reset (acl_bootstrap state=reset) on a real agent.

An agent of its own: the rotation deletes the bootstrap token the shared agent's tests use.
"""

from __future__ import annotations

import os

import pytest

from ansible_collections.hardened.nomad.plugins.module_utils._api import NomadClient, NomadError

FIRST = '7a1c2a3b-4d5e-4f60-8a9b-0c1d2e3f4a5b'
RESET = '8b1c2a3b-4d5e-4f60-8a9b-0c1d2e3f4a5b'
TOKENS = [dict(name='it-readonly', policies=['it-read']), dict(name='it-ops', policies=['it-read'], expiration_ttl='2h')]


@pytest.fixture(scope='module')
def lifecycle_agent(agent_factory):
    with agent_factory('acl-lifecycle') as running:
        yield running


def connection(agent, token=None):
    options = dict((k, agent[k]) for k in ('address', 'ca_file', 'client_cert', 'client_key'))
    if token:
        options['token'] = token
    return options


def works(agent, secret):
    try:
        return NomadClient(**connection(agent, secret)).get('/v1/acl/token/self')
    except NomadError as exc:
        assert exc.status in (403, 404), exc.message
        return None


@pytest.fixture(scope='module')
def bootstrapped(ansible_module, lifecycle_agent):
    result = ansible_module('acl_bootstrap', dict(connection(lifecycle_agent), bootstrap_secret=FIRST,
                                                  leader_timeout=30))
    assert result['changed'] is True, result
    policy = ansible_module('acl_policy', dict(connection(lifecycle_agent, FIRST), name='it-read',
                                               rules='node {\n  policy = "read"\n}\n'))
    assert not policy['failed'], policy
    for entry in TOKENS:
        made = ansible_module('acl_token', dict(connection(lifecycle_agent, FIRST), **entry))
        assert made['changed'] is True, made
    return lifecycle_agent


def stubs(agent, token):
    return NomadClient(**connection(agent, token)).get('/v1/acl/tokens')


def test_rotation_of_tokens_and_management_token_with_resume(ansible_module, bootstrapped):
    agent = bootstrapped
    base = dict(connection(agent, FIRST), tokens=TOKENS, management=True)
    old = dict((s['Name'], s['AccessorID']) for s in stubs(agent, FIRST))

    predicted = ansible_module('acl_token_rotate', base, check=True)
    assert predicted['changed'] is True and all('secret_id' not in e for e in predicted['tokens']), predicted
    assert sorted(s['Name'] for s in stubs(agent, FIRST)) == sorted(old)  # check mode changed nothing

    rotated = ansible_module('acl_token_rotate', base)
    assert rotated['changed'] is True and not rotated['failed'], rotated
    new_management = rotated['management']['secret_id']
    assert works(agent, new_management)['Type'] == 'management' and works(agent, FIRST)  # both work until finished
    names = sorted(s['Name'] for s in stubs(agent, new_management))
    assert 'it-readonly.retiring' in names and 'it-ops.retiring' in names and rotated['management']['name'] in names
    for entry in rotated['tokens']:
        assert entry['old_accessor_id'] == old[entry['name']]
        assert works(agent, entry['secret_id'])['Name'] == entry['name']
    # the renamed token kept its expiry; the new one has its own
    ops = [s for s in stubs(agent, new_management) if s['Name'].startswith('it-ops')]
    assert len(ops) == 2 and all(s.get('ExpirationTime') for s in ops), ops

    # a run killed before storing: the next rotation keeps the new client tokens, makes another management token
    again = ansible_module('acl_token_rotate', dict(base, token=new_management))
    assert [e['secret_id'] for e in again['tokens']] == [e['secret_id'] for e in rotated['tokens']], again
    newest = again['management']['secret_id']

    finished = ansible_module('acl_token_rotate', dict(base, state='finished', token=newest, old_secret=new_management))
    assert finished['changed'] is True, finished
    deleted = sorted(e['name'] for e in finished['deleted'])
    assert deleted == sorted(['it-readonly.retiring', 'it-ops.retiring', 'Bootstrap Token',
                              rotated['management']['name']]), deleted
    assert works(agent, FIRST) is None and works(agent, new_management) is None
    assert works(agent, newest)['Type'] == 'management'
    for entry in rotated['tokens']:
        assert works(agent, entry['secret_id'])['Name'] == entry['name']
    assert ansible_module('acl_token_rotate', dict(base, state='finished', token=newest))['changed'] is False
    bootstrapped['management'] = newest


def test_reset_of_a_lost_management_token_on_the_real_leader(ansible_module, bootstrapped):
    agent = bootstrapped
    lost = agent.get('management', FIRST)
    reset_file = os.path.join(agent['data_dir'], 'server', 'acl-bootstrap-reset')
    base = dict(connection(agent), state='reset', data_dir=agent['data_dir'], leader_timeout=30)

    nothing = ansible_module('acl_bootstrap', dict(base, stored_secret=lost))
    assert nothing['changed'] is False and nothing['reset'] is False, nothing

    needed = ansible_module('acl_bootstrap', dict(base, stored_secret='00000000-1111-4222-8333-444444444444'),
                            check=True)
    assert needed['changed'] is True and needed['reset'] is True, needed

    health = ansible_module('agent_health', dict(connection(agent), servers=1, wait=30))
    result = ansible_module('acl_bootstrap', dict(base, bootstrap_secret=RESET, leader=health['leader']))
    assert result['changed'] is True and result['reset'] is True and not result['failed'], result
    assert isinstance(result['reset_index'], int)
    assert not os.path.exists(reset_file)
    assert works(agent, RESET)['Type'] == 'management'

    # resumed with the same pending secret: returned as it is, nothing new
    resumed = ansible_module('acl_bootstrap', dict(base, bootstrap_secret=RESET, stored_secret=''))
    assert resumed['changed'] is True and resumed['reset'] is False and resumed['accessor_id'] == result['accessor_id']

    # revoke the earlier management tokens of the collection, keep the new one
    revoked = ansible_module('acl_token_rotate', dict(connection(agent, RESET), state='finished', management=True))
    assert revoked['changed'] is True and works(agent, lost) is None and works(agent, RESET), revoked
