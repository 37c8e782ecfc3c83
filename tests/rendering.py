# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Render the agent configuration and the systemd unit with the roles' own templates."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def collections_dir():
    """The collections path that holds this checkout as hardened.nomad (tests/conftest.py sets it up)."""
    import ansible_collections
    for path in ansible_collections.__path__:
        if os.path.isdir(os.path.join(path, 'hardened', 'nomad')):
            return os.path.dirname(path)
    raise RuntimeError('hardened.nomad is not importable; tests/conftest.py should have set it up')


def render_agent_files(workdir, versions, host_vars=None):
    """Render nomad.hcl and nomad.service as the roles do, for one server and one client per version.

    Returns {version: {'server': {'nomad.hcl': text, 'nomad.service': text}, 'client': {...}}}.
    ``host_vars`` are given to every host (they win over the role defaults, as in an inventory).
    Runs tests/render/render.yml with the roles' defaults and vars as the inventory's group vars
    (host vars win, as in a real inventory), so the templates see exactly what a play gives them.
    """
    merged = {}
    for role, kind in (('common', 'defaults'), ('common', 'vars'), ('install', 'defaults'), ('install', 'vars'),
                       ('agent', 'defaults'), ('agent', 'vars')):
        with open(os.path.join(ROOT, 'roles', role, kind, 'main.yml'), encoding='utf-8') as f:
            merged.update(yaml.safe_load(f) or {})
    merged.update(repo=ROOT, out=str(workdir), ansible_connection='local', ansible_python_interpreter=sys.executable,
                  nomad_secrets_dir=str(workdir / 'secrets'))
    groups = {}
    for number, version in enumerate(versions):
        label = version.replace('.', '_')
        common = dict(host_vars or {}, nomad_version=version, nomad_servers_group='servers_' + label,
                      nomad_clients_group='clients_' + label)
        address = '192.0.2.%d' % (10 + number)
        groups['servers_' + label] = {'hosts': {'server-' + version: dict(
            common, nomad_advertise_address=address, __nomad_address=address)}}
        groups['clients_' + label] = {'hosts': {'client-' + version: dict(
            common, nomad_advertise_address='198.51.100.%d' % (10 + number),
            __nomad_address='198.51.100.%d' % (10 + number))}}
    inventory = workdir / 'inventory.json'
    inventory.write_text(json.dumps({'all': {'vars': merged, 'children': groups}}))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_dir(), ANSIBLE_NOCOLOR='1',
               ANSIBLE_LOCAL_TEMP=str(workdir / 'tmp'), ANSIBLE_REMOTE_TEMP=str(workdir / 'tmp'))
    playbook = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
    done = subprocess.run([playbook, '-i', str(inventory), os.path.join(ROOT, 'tests', 'render', 'render.yml')],
                          env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise AssertionError('rendering failed:\n%s\n%s' % (done.stdout[-4000:], done.stderr[-4000:]))
    rendered = {}
    for version in versions:
        rendered[version] = {}
        for role in ('server', 'client'):
            folder = workdir / ('%s-%s' % (role, version))
            rendered[version][role] = dict((name, (folder / name).read_text()) for name in ('nomad.hcl', 'nomad.service'))
    return rendered
