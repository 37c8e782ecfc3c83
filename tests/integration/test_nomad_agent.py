# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Our modules, run through Ansible, against a real Nomad agent with mTLS and ACLs."""

from __future__ import annotations

import json
import os
import socket
import stat

import pytest

from ansible_collections.hardened.nomad.plugins.module_utils._api import NomadClient

MASKED = 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'


# -- TLS modules (their certificates are what the agent runs on) --------------------------------

def test_tls_ca_is_made_once_and_then_loaded(pki):
    assert pki.results['ca']['changed'] is True
    assert pki.results['ca_again']['changed'] is False
    assert pki.results['ca_again']['fingerprint_sha256'] == pki.results['ca']['fingerprint_sha256']
    assert stat.S_IMODE(os.stat(pki.ca_key).st_mode) == 0o600


def test_node_csr_sign_install_loop_converges(pki):
    for name in ('server', 'cli', 'foreign_cli'):
        first, signed, second = pki.results[name]
        assert first['reasons'] == ['private key is new', 'certificate is missing']
        assert second['changed'] is False and second['certificate_needed'] is False, second
    assert stat.S_IMODE(os.stat(pki.server_key).st_mode) == 0o600


def test_signer_refuses_a_client_asking_for_the_server_name(ansible_module, pki):
    # A client node's CSR that also asks for server.global.nomad must never be signed.
    node = ansible_module('tls_node_csr', dict(key_path=pki.server_key, cert_path=pki.server, ca_path=pki.ca,
                                               role='server'))
    result = ansible_module('tls_ca_sign', dict(csr=node['csr'], ca_cert_path=pki.ca, ca_key_path=pki.ca_key,
                                                role='client'))
    assert result['failed'] is True
    assert 'SAN DNS:server.global.nomad is the name of role server, but this request is for role client' \
        in result['msg']


def test_agent_serves_with_our_certificates(agent):
    client = NomadClient(**dict((k, agent[k]) for k in ('address', 'ca_file', 'client_cert', 'client_key')))
    assert client.get('/v1/status/leader').startswith('127.0.0.1:')


# -- TLS failures, explained ---------------------------------------------------------------------

def connection(agent, **overrides):
    options = dict((k, agent[k]) for k in ('address', 'ca_file', 'client_cert', 'client_key'))
    options.update(overrides)
    return dict((k, v) for k, v in options.items() if v is not None)


def test_call_without_client_certificate_fails_clearly(ansible_module, agent):
    result = ansible_module('acl_bootstrap', dict(connection(agent, client_cert=None, client_key=None),
                                                  leader_timeout=5))
    assert result['failed'] is True
    assert result['msg'] == ('the server rejected the TLS handshake: it requires a client certificate signed by '
                             'the cluster CA (set client_cert and client_key)')


def test_client_certificate_of_a_foreign_ca_fails_clearly(ansible_module, agent, pki):
    result = ansible_module('acl_bootstrap', dict(connection(agent, client_cert=pki.foreign_cli,
                                                             client_key=pki.foreign_cli_key), leader_timeout=5))
    assert result['failed'] is True
    assert 'rejected the client certificate in client_cert %s' % pki.foreign_cli in result['msg']
    assert 'signed by the cluster CA' in result['msg']


def test_server_name_not_in_certificate_fails_clearly(ansible_module, agent):
    # The agent serves HTTPS on this address too, but no certificate names it.
    result = ansible_module('acl_bootstrap', dict(connection(agent, address=agent['unnamed_address']),
                                                  leader_timeout=5))
    assert result['failed'] is True
    assert result['msg'].startswith('server certificate is not valid for %s (check address; Nomad certs are valid '
                                    'for server.<region>.nomad, localhost, 127.0.0.1' % agent['unnamed_ip'])


def test_ca_file_of_another_ca_fails_clearly(ansible_module, agent, pki):
    result = ansible_module('acl_bootstrap', dict(connection(agent, ca_file=pki.foreign_ca), leader_timeout=5))
    assert result['failed'] is True
    assert result['msg'].startswith('server certificate is not signed by the CA in ca_file %s' % pki.foreign_ca)


def test_missing_client_key_file_fails_clearly(ansible_module, agent, pki):
    result = ansible_module('acl_bootstrap', dict(connection(agent, client_key=pki.cli_key + '.missing'),
                                                  leader_timeout=5))
    assert result['failed'] is True and result['msg'] == 'client_key %s.missing does not exist' % pki.cli_key


# -- agent health (the restart handlers' wait) ---------------------------------------------------

def test_agent_health_of_a_server_names_its_leader_and_peers(ansible_module, agent):
    result = ansible_module('agent_health', dict(connection(agent), servers=1, wait=30))
    assert result['failed'] is False and result['changed'] is False, result
    assert result['leader'].startswith('127.0.0.1:') and result['peers'] == [result['leader']]


def test_agent_health_waits_then_says_which_servers_are_missing(ansible_module, agent):
    result = ansible_module('agent_health', dict(connection(agent), servers=3, wait=2, interval=0.5))
    assert result['failed'] is True
    assert result['msg'].startswith('%s is still not ready after 2 seconds: 1 of 3 servers are raft peers (127.0.0.1:'
                                    % agent['address'])


def test_agent_health_of_an_agent_that_is_not_running(ansible_module, agent):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(('127.0.0.1', 0))
        port = probe.getsockname()[1]
    result = ansible_module('agent_health', dict(connection(agent, address='https://127.0.0.1:%d' % port),
                                                 wait=1, interval=0.5))
    assert result['failed'] is True
    assert result['msg'].startswith('https://127.0.0.1:%d is still not ready after 1 seconds: the agent is not '
                                    'healthy: ' % port)
    assert 'refused' in result['msg']


# -- ACL bootstrap -------------------------------------------------------------------------------

def test_bootstrap_check_mode_predicts_a_change_before_bootstrap(bootstrap_runs):
    assert bootstrap_runs['check']['changed'] is True
    assert 'secret_id' not in bootstrap_runs['check']


def test_first_bootstrap_is_changed_and_returns_the_management_token(bootstrap_runs, bootstrap_secret):
    first = bootstrap_runs['first']
    assert first['changed'] is True and first['failed'] is False
    assert first['accessor_id']
    # The secret equals the no_log bootstrap_secret, so Ansible masks it in the output.
    assert first['secret_id'] == MASKED
    assert isinstance(first['reset_index'], int)
    assert bootstrap_secret not in json.dumps(first)


def test_second_bootstrap_is_unchanged(bootstrap_runs):
    second = bootstrap_runs['second']
    assert second['changed'] is False and second['failed'] is False
    assert second['accessor_id'] == bootstrap_runs['first']['accessor_id']
    assert bootstrap_runs['check_after']['changed'] is False


def test_wrong_secret_fails_with_the_reset_index_and_how_to_reset(bootstrap_runs, agent):
    wrong = bootstrap_runs['wrong_secret']
    index = bootstrap_runs['first']['reset_index']
    assert wrong['failed'] is True
    assert 'already done (reset index: %d)' % index in wrong['msg']
    assert 'not a valid management token' in wrong['msg']
    assert 'write %d to %s/server/acl-bootstrap-reset on the leader' % (index, agent['data_dir']) in wrong['msg']


def test_bootstrap_without_secret_after_bootstrap_fails_with_reset_index(bootstrap_runs):
    result = bootstrap_runs['no_secret']
    assert result['failed'] is True
    assert 'reset index: %d' % bootstrap_runs['first']['reset_index'] in result['msg']
    assert 'no bootstrap_secret was given' in result['msg']


def test_management_token_works_and_anonymous_is_denied(agent, management):
    anonymous = NomadClient(**dict((k, agent[k]) for k in ('address', 'ca_file', 'client_cert', 'client_key')))
    with pytest.raises(Exception) as denied:
        anonymous.get('/v1/acl/tokens')
    assert 'HTTP 403' in str(denied.value)
    assert NomadClient(**management).get('/v1/acl/token/self')['Type'] == 'management'


# -- ACL policies --------------------------------------------------------------------------------

READ_RULES = 'node {\n  policy = "read"\n}\n'
WRITE_RULES = 'node {\n  policy = "write"\n}\n'


def test_policy_create_noop_update_delete(ansible_module, management):
    args = dict(management, name='it-readonly', description='read nodes', rules=READ_RULES)

    predicted = ansible_module('acl_policy', args, check=True, diff=True)
    assert predicted['changed'] is True and 'policy' not in predicted
    assert predicted['diff'] == dict(before={}, after=dict(name='it-readonly', description='read nodes',
                                                           rules=READ_RULES.rstrip()))

    created = ansible_module('acl_policy', args, diff=True)
    assert created['changed'] is True
    assert created['policy']['Name'] == 'it-readonly' and created['policy']['Rules'] == READ_RULES

    # Trailing white space differences are not a change.
    same = ansible_module('acl_policy', dict(args, rules=READ_RULES + '   \n\n'))
    assert same['changed'] is False

    check_update = ansible_module('acl_policy', dict(args, rules=WRITE_RULES), check=True)
    assert check_update['changed'] is True
    assert ansible_module('acl_policy', args)['changed'] is False  # the check run wrote nothing

    updated = ansible_module('acl_policy', dict(args, rules=WRITE_RULES, description='write nodes'), diff=True)
    assert updated['changed'] is True
    assert updated['diff']['before']['rules'] == READ_RULES.rstrip()
    assert updated['diff']['after']['description'] == 'write nodes'
    assert updated['policy']['Rules'] == WRITE_RULES

    check_delete = ansible_module('acl_policy', dict(management, name='it-readonly', state='absent'), check=True)
    assert check_delete['changed'] is True
    deleted = ansible_module('acl_policy', dict(management, name='it-readonly', state='absent'))
    assert deleted['changed'] is True
    again = ansible_module('acl_policy', dict(management, name='it-readonly', state='absent'))
    assert again['changed'] is False


def test_invalid_policy_rules_fail_with_nomads_message(ansible_module, management):
    result = ansible_module('acl_policy', dict(management, name='it-bad', rules='nod { policy = "read" }'))
    assert result['failed'] is True
    assert 'HTTP 400' in result['msg'] and 'failed to parse rules' in result['msg']


def test_policy_call_without_token_is_denied_clearly(ansible_module, agent):
    result = ansible_module('acl_policy', dict(connection(agent), name='it-x', rules=READ_RULES))
    assert result['failed'] is True and 'HTTP 403' in result['msg'] and 'Permission denied' in result['msg']


# -- ACL tokens ----------------------------------------------------------------------------------

@pytest.fixture(scope='module')
def policies(ansible_module, management):
    for name, rules in (('it-read', READ_RULES), ('it-write', WRITE_RULES)):
        assert not ansible_module('acl_policy', dict(management, name=name, rules=rules))['failed']


def test_token_create_noop_update_delete(ansible_module, management, policies):
    args = dict(management, name='it-monitoring', policies=['it-read'])

    predicted = ansible_module('acl_token', args, check=True, diff=True)
    assert predicted['changed'] is True and 'secret_id' not in predicted
    assert predicted['diff']['after'] == {'name': 'it-monitoring', 'type': 'client', 'policies': ['it-read'],
                                          'global': False, 'expiration_ttl': None}

    created = ansible_module('acl_token', args, diff=True)
    assert created['changed'] is True
    accessor, secret = created['accessor_id'], created['secret_id']
    assert len(secret) == 36 and 'SecretID' not in created['token']
    assert secret not in json.dumps(created['diff'])

    same = ansible_module('acl_token', args)
    assert same['changed'] is False
    assert (same['accessor_id'], same['secret_id']) == (accessor, secret)  # existing secret read back

    updated = ansible_module('acl_token', dict(args, policies=['it-write', 'it-read']), diff=True)
    assert updated['changed'] is True
    assert (updated['accessor_id'], updated['secret_id']) == (accessor, secret)  # updated in place
    assert updated['diff']['before']['policies'] == ['it-read']
    assert updated['diff']['after']['policies'] == ['it-read', 'it-write']
    assert sorted(updated['token']['Policies']) == ['it-read', 'it-write']

    refused = ansible_module('acl_token', dict(args, type='management', policies=[]))
    assert refused['failed'] is True
    assert 'type from client to management' in refused['msg'] and 'recreate: true' in refused['msg']

    recreated = ansible_module('acl_token', dict(args, type='management', policies=[], recreate=True))
    assert recreated['changed'] is True and recreated['token']['Type'] == 'management'
    assert recreated['accessor_id'] != accessor and recreated['secret_id'] != secret

    deleted = ansible_module('acl_token', dict(management, name='it-monitoring', state='absent'))
    assert deleted['changed'] is True and deleted['accessor_id'] == recreated['accessor_id']
    assert ansible_module('acl_token', dict(management, name='it-monitoring', state='absent'))['changed'] is False


def test_token_with_ttl_keeps_it_and_updates_policies_in_place(ansible_module, management, policies):
    args = dict(management, name='it-short-lived', policies=['it-read'], expiration_ttl='1h')
    created = ansible_module('acl_token', args)
    assert created['changed'] is True and created['token']['ExpirationTTL'] == '1h0m0s'
    assert ansible_module('acl_token', dict(args, expiration_ttl='60m'))['changed'] is False
    updated = ansible_module('acl_token', dict(args, policies=['it-write']))
    assert updated['changed'] is True and updated['accessor_id'] == created['accessor_id']
    changed_ttl = ansible_module('acl_token', dict(args, policies=['it-write'], expiration_ttl='2h'))
    assert changed_ttl['failed'] is True and 'expiration_ttl from 1h0m0s to 2h0m0s' in changed_ttl['msg']
    ansible_module('acl_token', dict(management, name='it-short-lived', state='absent'))


def test_duplicate_token_names_fail_listing_the_accessors(ansible_module, management, policies):
    client = NomadClient(**management)
    made = [client.post('/v1/acl/token', body=dict(Name='it-twin', Type='client', Policies=['it-read']))
            for attempt in range(2)]
    try:
        result = ansible_module('acl_token', dict(management, name='it-twin', policies=['it-read']))
        assert result['failed'] is True
        assert '2 tokens are named it-twin' in result['msg']
        for token in made:
            assert token['AccessorID'] in result['msg']
    finally:
        for token in made:
            client.delete('/v1/acl/token/' + token['AccessorID'])
