# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""examples/ as a newcomer uses it: the inventory parses, site.yml accepts it, its values pass the preflight.

The preflight checks (site.yml --tags preflight: every role's argument spec and the preflight
role's own checks) run against the example inventory with every host on a local connection, so
no node is needed; they change nothing. The vault wiring is proven with a vault.yml made from
vault.yml.example, encrypted with a throwaway password.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import uuid

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
EXAMPLE = os.path.join(ROOT, 'examples', 'inventory')
# RFC 5737: the ranges reserved for documentation.
DOCUMENTATION = [ipaddress.ip_network(n) for n in ('192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24')]


def ansible(tool, *args, cwd=None):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.cache', 'collections'), ANSIBLE_NOCOLOR='1',
               ANSIBLE_STDOUT_CALLBACK='ansible.builtin.default')
    return subprocess.run([os.path.join(BIN, tool), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600, check=False)


def preflight(inventory, tmp_path, *extra):
    """site.yml's checks only, every host of the inventory on a local connection, as examples/README.md shows."""
    return ansible('ansible-playbook', '-i', str(inventory), os.path.join(ROOT, 'playbooks', 'site.yml'),
                   '--tags', 'preflight', '-e', 'ansible_connection=local', '-e', 'ansible_become=false',
                   '-e', 'ansible_python_interpreter=%s' % sys.executable,
                   '-e', 'nomad_secrets_dir=%s' % (tmp_path / 'secrets'), *extra)


def recap(run):
    return dict(re.findall(r'^(\S+)\s+: ok=\d+\s+changed=(\d+)\s+unreachable=0\s+failed=0', run.stdout, re.M))


@pytest.fixture(scope='module')
def listed():
    run = ansible('ansible-inventory', '-i', EXAMPLE, '--list')
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_the_example_inventory_parses_into_a_fleet(listed):
    servers = listed['nomad_servers']['hosts']
    clients = listed['nomad_clients']['hosts']
    assert len(servers) == 3 and len(clients) >= 2, (servers, clients)
    assert not set(servers) & set(clients)
    hostvars = listed['_meta']['hostvars']
    for host in servers + clients:
        assert hostvars[host]['nomad_region'] == 'eu-central' and hostvars[host]['nomad_datacenter'] == 'fra1', host
        assert hostvars[host]['nomad_firewall_http_extra_cidrs'], host
    assert hostvars['nomad-wrk-3']['nomad_client_drivers'] == ['exec', 'docker']


def test_every_example_address_is_a_documentation_address(listed):
    hostvars = listed['_meta']['hostvars']
    found = [ipaddress.ip_network(vars_['ansible_host']) for vars_ in hostvars.values()]
    found += [ipaddress.ip_network(c) for vars_ in hostvars.values() for c in vars_['nomad_firewall_http_extra_cidrs']]
    assert len(found) > 6
    for network in found:
        assert any(network.subnet_of(documentation) for documentation in DOCUMENTATION), network


def test_the_examples_hold_no_secret():
    # What git would commit (a vault a user made there is git-ignored and never ships).
    listed = subprocess.run(['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard', 'examples'],
                            cwd=ROOT, capture_output=True, text=True, check=True).stdout
    names = [name for name in listed.split('\0') if name and os.path.isfile(os.path.join(ROOT, name))]
    assert 'examples/inventory/hosts.yml' in names
    for name in names:
        with open(os.path.join(ROOT, name), encoding='utf-8') as f:
            text = f.read()
        assert '$ANSIBLE_VAULT' not in text and 'PRIVATE KEY' not in text, name
        assert not re.search(r'[A-Za-z0-9+/]{43}=', text), name  # a gossip key
        assert not re.search(r'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', text), name  # a UUID
        assert os.path.basename(name) not in ('vault.yml', 'vault.yaml'), name


def test_site_yml_accepts_the_example_inventory():
    run = ansible('ansible-playbook', '-i', EXAMPLE, os.path.join(ROOT, 'playbooks', 'site.yml'), '--syntax-check')
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_example_passes_the_preflight_and_changes_nothing(listed, tmp_path):
    run = preflight(EXAMPLE, tmp_path, '-v')  # -v: the result of each host's argument spec check is printed
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    hosts = listed['nomad_servers']['hosts'] + listed['nomad_clients']['hosts']
    assert recap(run) == dict.fromkeys(hosts, '0'), run.stdout[-2000:]
    # every role's argument spec was checked against the example's values (hardened.nomad.role_settings)
    assert run.stdout.count("Check every role's variables against its argument spec") == 1
    checked = dict(re.findall(r'^ok: \[(\S+)\] => .*"msg": "The settings of ([a-z, ]+) match their argument specs"',
                              run.stdout, re.M))
    wanted = {'common', 'install', 'tls', 'firewall', 'agent', 'acl'}
    for host in hosts:
        assert set(checked.get(host, '').split(', ')) >= wanted, (host, checked)
    assert not (tmp_path / 'secrets').exists()


def test_the_preflight_refuses_a_bad_value_in_the_example(tmp_path):
    # The same run sees the example's values: one bad one fails it, naming the variable.
    inventory = tmp_path / 'inventory'
    shutil.copytree(EXAMPLE, inventory)
    (inventory / 'host_vars' / 'nomad-wrk-3.yml').write_text('---\nnomad_client_drivers: [exec, raw_exec]\n')
    run = preflight(inventory, tmp_path)
    assert run.returncode != 0
    assert 'nomad_client_drivers' in run.stdout + run.stderr and 'raw_exec' in run.stdout + run.stderr


def test_secrets_from_a_vault_made_after_vault_yml_example(tmp_path):
    inventory = tmp_path / 'inventory'
    shutil.copytree(EXAMPLE, inventory)
    group_all = inventory / 'group_vars' / 'all'
    with open(group_all / 'vault.yml.example', encoding='utf-8') as f:
        layout = yaml.safe_load(f)
    with open(group_all / 'secrets.yml', encoding='utf-8') as f:
        wired = yaml.safe_load(f)
    # every vault variable of the layout is used by secrets.yml, and nothing else is
    assert sorted(layout) == sorted(re.search(r'\{\{ (vault_\w+) ', value).group(1) for value in wired.values())
    values = {'vault_nomad_gossip_key': base64.b64encode(secrets.token_bytes(32)).decode(),
              'vault_nomad_acl_bootstrap_secret': str(uuid.uuid4())}
    assert sorted(values) == sorted(layout)
    (group_all / 'vault.yml').write_text(yaml.safe_dump(values))
    password = tmp_path / 'vault-password'
    password.write_text(secrets.token_hex(16) + '\n')
    run = ansible('ansible-vault', 'encrypt', '--vault-password-file', str(password), str(group_all / 'vault.yml'))
    assert run.returncode == 0, run.stderr
    assert (group_all / 'vault.yml').read_text().startswith('$ANSIBLE_VAULT;1.1;AES256')

    run = preflight(inventory, tmp_path, '--vault-password-file', str(password))
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert values['vault_nomad_gossip_key'] not in run.stdout + run.stderr
    shown = ansible('ansible', '-i', str(inventory), 'nomad-srv-1', '-m', 'ansible.builtin.debug',
                    '-a', json.dumps({'msg': '{{ nomad_gossip_key }} {{ nomad_acl_bootstrap_secret }}'}),
                    '-e', 'ansible_connection=local', '--vault-password-file', str(password))
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert '%s %s' % (values['vault_nomad_gossip_key'], values['vault_nomad_acl_bootstrap_secret']) in shown.stdout
