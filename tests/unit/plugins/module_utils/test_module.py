# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""NomadModule: the connection options, one client, failures as fail_json."""
from __future__ import annotations

import types

from ansible_collections.hardened.nomad.plugins.module_utils._api import NOMAD_CONNECTION_SPEC, NomadError
from ansible_collections.hardened.nomad.plugins.module_utils._module import ModuleFailure, NomadModule


def module_with(operation, spec=None, scrub=None):
    """A throwaway module whose main() runs operation through NomadModule.run."""
    def main():
        module = NomadModule(argument_spec=spec or {}, supports_check_mode=True)
        if scrub:
            module.scrub = scrub
        module.run(operation)
    return types.SimpleNamespace(main=main)


def test_connection_options_and_own_options(run_module):
    seen = {}

    def operation(module):
        seen.update(module.params)
        return dict(changed=False)

    result = run_module(module_with(operation, dict(name=dict(type='str', required=True))),
                        dict(name='x', address='https://127.0.0.1:14646'))
    assert result == dict(changed=False, failed=False)
    assert set(NOMAD_CONNECTION_SPEC) | {'name'} <= set(seen)
    assert seen['address'] == 'https://127.0.0.1:14646' and seen['timeout'] == 10


def test_one_client_made_on_first_use(run_module, fake_nomad):
    clients = []

    def operation(module):
        clients.extend([module.client, module.client])
        return dict(changed=False, leader=module.client.get('/v1/status/leader'))

    result = run_module(module_with(operation), dict(address='https://127.0.0.1:4646'))
    assert clients[0] is clients[1]
    assert result['leader']


def test_module_failure_keeps_its_return_values(run_module):
    def operation(module):
        raise ModuleFailure('node hn-1 is not ready: restart its agent', not_ready=['hn-1'])

    result = run_module(module_with(operation), {})
    assert result['failed'] and result['msg'] == 'node hn-1 is not ready: restart its agent'
    assert result['not_ready'] == ['hn-1']


def test_nomad_error_becomes_fail_json_through_scrub(run_module):
    def operation(module):
        raise NomadError('Nomad answered HTTP 500: key s3cr3t is bad', status=500)

    result = run_module(module_with(operation, scrub=lambda text: text.replace('s3cr3t', '<key>')), {})
    assert result['failed'] and result['msg'] == 'Nomad answered HTTP 500: key <key> is bad'


def test_a_bad_address_fails_on_first_use_of_the_client(run_module):
    def operation(module):
        return dict(changed=False, client=str(module.client))

    result = run_module(module_with(operation), dict(address='127.0.0.1:4646'))
    assert result['failed'] and 'is not a URL like https://127.0.0.1:4646' in result['msg']


def test_pending_connection_files_are_the_missing_ones_in_check_mode(run_module, tmp_path):
    present = tmp_path / 'agent.pem'
    present.write_text('x')
    files = dict(ca_file=str(tmp_path / 'ca.pem'), client_cert=str(present), client_key=str(tmp_path / 'agent-key.pem'))

    def operation(module):
        return dict(changed=False, pending=module.pending_connection_files(),
                    note=module.prediction_note(module.pending_connection_files()))

    checked = run_module(module_with(operation), files, check_mode=True)
    assert checked['pending'] == [str(tmp_path / 'ca.pem'), str(tmp_path / 'agent-key.pem')]
    assert checked['note'].startswith('check mode: %s, %s not there yet' % tuple(checked['pending']))
    # Outside check mode a missing file is the client's error, never a prediction.
    assert run_module(module_with(operation), files)['pending'] == []
    assert run_module(module_with(operation), {}, check_mode=True)['pending'] == []
