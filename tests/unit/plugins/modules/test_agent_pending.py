# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os
import time

import pytest

from ansible.module_utils import basic

from ansible_collections.hardened.nomad.plugins.modules import agent_pending


@pytest.fixture
def node(tmp_path, monkeypatch):
    """A node: config dir, TLS files, binary and unit written, then the agent started."""
    config = tmp_path / 'nomad.d'
    (config / 'tls').mkdir(parents=True)
    files = [config / 'nomad.hcl', config / 'gossip.hcl', config / 'tls' / 'agent.pem', tmp_path / 'nomad',
             tmp_path / 'nomad.service']
    for path in files:
        path.write_text('x')
    time.sleep(0.02)
    state = dict(ActiveState='active', MainPID='4242', NeedDaemonReload='no', FragmentPath=str(tmp_path / 'nomad.service'),
                 DropInPaths='', ExecMainStartTimestampMonotonic=str(int(time.monotonic() * 1e6)))
    time.sleep(0.02)

    def run_command(module, argv, **kwargs):
        assert argv[:3] == ['systemctl', 'show', 'nomad']
        return 0, ''.join('%s=%s\n' % item for item in state.items()), ''

    monkeypatch.setattr(basic.AnsibleModule, 'run_command', run_command)
    (tmp_path / 'serf.keyring').write_text('[]')
    args = dict(binary=str(tmp_path / 'nomad'), config_dir=str(config), reload_files=[str(config / 'tls' / 'agent.pem')],
                reload_stamp=str(tmp_path / 'reloaded'), keyring=str(tmp_path / 'serf.keyring'))
    return tmp_path, state, args


def touch(path):
    os.utime(path, None)


def test_an_agent_running_what_is_on_disk_needs_nothing(run_module, node):
    _path, _state, args = node
    result = run_module(agent_pending, args)
    assert result == dict(changed=False, failed=False, active=True, need_daemon_reload=False, action='none', reasons=[])


def test_a_config_written_after_the_start_needs_a_restart(run_module, node):
    path, _state, args = node
    touch(path / 'nomad.d' / 'nomad.hcl')
    touch(path / 'nomad.d' / 'tls' / 'agent.pem')
    result = run_module(agent_pending, args)
    assert result['action'] == 'restart'
    assert result['reasons'] == ['%s changed after the agent started' % (path / 'nomad.d' / 'nomad.hcl')]


def test_gossip_hcl_needs_no_restart_while_the_server_has_a_keyring(run_module, node):
    path, _state, args = node
    touch(path / 'nomad.d' / 'gossip.hcl')
    assert run_module(agent_pending, args)['action'] == 'none'
    (path / 'serf.keyring').unlink()
    assert run_module(agent_pending, args)['action'] == 'restart'


def test_a_file_installed_with_an_old_modification_time_counts_by_its_status_change(run_module, node):
    path, _state, args = node
    os.utime(path / 'nomad.d' / 'nomad.hcl', (1, 1))
    assert run_module(agent_pending, args)['action'] == 'restart'


@pytest.mark.parametrize('name', ['nomad', 'nomad.service'])
def test_a_new_binary_or_unit_needs_a_restart(run_module, node, name):
    path, _state, args = node
    touch(path / name)
    assert run_module(agent_pending, args)['action'] == 'restart'


def test_systemd_asking_for_a_daemon_reload_needs_a_restart(run_module, node):
    _path, state, args = node
    state['NeedDaemonReload'] = 'yes'
    result = run_module(agent_pending, args)
    assert result['action'] == 'restart' and result['need_daemon_reload'] is True


def test_a_certificate_newer_than_the_last_reload_needs_a_reload(run_module, node):
    path, _state, args = node
    touch(path / 'nomad.d' / 'tls' / 'agent.pem')
    assert run_module(agent_pending, args)['action'] == 'reload'
    time.sleep(0.02)
    (path / 'reloaded').write_text('')
    assert run_module(agent_pending, args)['action'] == 'none'


def test_a_stopped_agent_needs_nothing(run_module, node, ):
    path, state, args = node
    touch(path / 'nomad.d' / 'nomad.hcl')
    state.update(ActiveState='inactive', MainPID='0')
    result = run_module(agent_pending, args)
    assert result['action'] == 'none' and result['active'] is False


def test_it_reads_only_so_check_mode_gives_the_same_answer(run_module, node):
    path, _state, args = node
    touch(path / 'nomad.d' / 'nomad.hcl')
    assert run_module(agent_pending, args, check_mode=True)['action'] == 'restart'
