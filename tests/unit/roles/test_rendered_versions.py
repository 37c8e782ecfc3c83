# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The agent configuration and the systemd unit, rendered by the roles for three Nomad releases.

1.6.3 is the release the test bed runs; 1.11.3 and 2.0.5 are covered by rendering only. Each
version-gated piece must be present where the release has it and absent where it would be refused.
"""

from __future__ import annotations

import re

import pytest

from rendering import render_agent_files

VERSIONS = ('1.6.3', '1.11.3', '2.0.5')


@pytest.fixture(scope='module')
def rendered(tmp_path_factory):
    return render_agent_files(tmp_path_factory.mktemp('render'), VERSIONS)


def unit_type(text):
    types = re.findall(r'^Type=(\S+)$', text, re.M)
    assert len(types) == 1, types
    return types[0]


@pytest.mark.parametrize('version, expected', [('1.6.3', 'exec'), ('1.11.3', 'notify'), ('2.0.5', 'notify')])
@pytest.mark.parametrize('role', ['server', 'client'])
def test_unit_type_notify_only_where_the_agent_has_sd_notify(rendered, version, expected, role):
    assert unit_type(rendered[version][role]['nomad.service']) == expected


@pytest.mark.parametrize('version, present', [('1.6.3', False), ('1.11.3', True), ('2.0.5', True)])
def test_alloc_mounts_dir_only_where_the_key_exists(rendered, version, present):
    client = rendered[version]['client']['nomad.hcl']
    assert (re.search(r'^\s*alloc_mounts_dir = "/var/lib/nomad/alloc_mounts"$', client, re.M) is not None) is present
    assert 'alloc_mounts_dir' not in rendered[version]['server']['nomad.hcl']


@pytest.mark.parametrize('version', VERSIONS)
def test_every_release_gets_the_hardened_core(rendered, version):
    """What makes the cluster hardened is not version-gated: every release gets all of it."""
    for role in ('server', 'client'):
        hcl = rendered[version][role]['nomad.hcl']
        for line in ('http = true', 'rpc  = true', 'verify_server_hostname = true', 'verify_https_client    = true',
                     'rpc_upgrade_mode       = false', 'tls_min_version   = "tls12"', 'enable_debug         = false',
                     'disable_update_check = true'):
            assert line in hcl, (version, role, line)
        assert re.search(r'acl \{\n  enabled = true\n\}', hcl)
        unit = rendered[version][role]['nomad.service']
        for line in ('NoNewPrivileges=yes', 'ProtectSystem=strict', 'KillSignal=SIGINT'):
            assert line in unit.splitlines(), (version, role, line)
        # exec tasks need a chroot others can read; the server keeps everything private
        assert ('UMask=0022' if role == 'client' else 'UMask=0077') in unit.splitlines()
    client = rendered[version]['client']['nomad.hcl']
    assert 'disable_remote_exec = true' in client
    assert re.search(r'"driver.denylist"\s+= "raw_exec"', client)
    assert 'CapabilityBoundingSet=' in rendered[version]['server']['nomad.service'].splitlines()


@pytest.mark.parametrize('version', VERSIONS)
def test_only_the_server_unit_names_its_user(rendered, version):
    """A client runs as root, systemd's default: with systemd 257 (Debian 13), User=root and
    NoNewPrivileges=yes leave the agent without CAP_SETUID and exec tasks cannot start as their user."""
    user_lines = re.compile(r'^(User|Group)=(.*)$', re.M)
    assert user_lines.findall(rendered[version]['client']['nomad.service']) == []
    assert user_lines.findall(rendered[version]['server']['nomad.service']) == [('User', 'nomad'), ('Group', 'nomad')]
