# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The client configuration the agent role writes: drivers, chroot, node placement, host volumes."""

from __future__ import annotations

import re

import pytest

from rendering import render_agent_files

VERSION = '1.6.3'


@pytest.fixture(scope='module')
def default_client(tmp_path_factory):
    return render_agent_files(tmp_path_factory.mktemp('render'), (VERSION,))[VERSION]['client']['nomad.hcl']


@pytest.fixture(scope='module')
def tuned_client(tmp_path_factory):
    tuned = dict(
        nomad_client_drivers=['exec', 'docker'],
        nomad_docker_infra_image='registry.example.internal/pause:3.3',
        nomad_client_node_pool='batch',
        nomad_client_node_class='gpu',
        nomad_client_meta={'rack': 'r1', 'zone': 2},
        nomad_client_host_volumes=[{'name': 'data', 'path': '/srv/data'},
                                   {'name': 'scratch', 'path': '/srv/scratch', 'read_only': False}],
    )
    return render_agent_files(tmp_path_factory.mktemp('render'), (VERSION,), tuned)[VERSION]['client']['nomad.hcl']


def block(hcl, header):
    """The text of the block that starts with `header {` (one nesting level is enough here)."""
    match = re.search(re.escape(header) + r' \{\n(.*?)\n  \}', hcl, re.S)
    assert match, header
    return match.group(1)


def test_only_exec_is_loaded_by_default_and_raw_exec_stays_denied(default_client):
    assert '"driver.allowlist" = "exec"' in default_client
    assert '"driver.denylist"  = "raw_exec"' in default_client
    assert 'cni_path' not in default_client
    assert 'node_pool = "default"' in default_client
    assert 'node_class' not in default_client and 'meta {' not in default_client and 'host_volume' not in default_client


def test_the_chroot_holds_no_agent_secret(default_client):
    chroot = block(default_client, 'chroot_env')
    sources = re.findall(r'^\s*"([^"]+)" = "[^"]+"$', chroot, re.M)
    assert {'/bin', '/usr', '/lib', '/etc/passwd', '/etc/ld.so.cache'} <= set(sources)
    assert '/etc' not in sources  # Nomad's default: all of /etc, the agent's key and config included
    assert not [s for s in sources if s.startswith('/etc/nomad') or s.startswith('/var/lib')]
    assert '/etc/shadow' not in sources


def test_docker_gets_cni_and_reduced_capabilities(tuned_client):
    assert '"driver.allowlist" = "exec,docker"' in tuned_client
    assert 'cni_path = "/usr/lib/cni"' in tuned_client
    docker = tuned_client[tuned_client.index('plugin "docker"'):]
    assert 'allow_privileged = false' in docker
    caps = re.search(r'allow_caps\s+= (\[.*\])', docker).group(1)
    for dropped in ('mknod', 'setfcap', 'setpcap', 'sys_chroot', 'audit_write', 'net_raw', 'sys_admin'):
        assert '"%s"' % dropped not in caps
    assert re.search(r'volumes \{\n\s+enabled = false', docker)
    assert 'infra_image      = "registry.example.internal/pause:3.3"' in docker


def test_nomads_infra_image_is_kept_unless_one_is_named(default_client):
    assert 'infra_image' not in default_client


def test_node_placement_and_host_volumes(tuned_client):
    assert 'node_pool = "batch"' in tuned_client and 'node_class = "gpu"' in tuned_client
    meta = block(tuned_client, 'meta')
    assert '"rack" = "r1"' in meta and '"zone" = "2"' in meta
    assert re.search(r'host_volume "data" \{\n\s+path      = "/srv/data"\n\s+read_only = true\n', tuned_client)
    assert re.search(r'host_volume "scratch" \{\n\s+path      = "/srv/scratch"\n\s+read_only = false\n', tuned_client)
