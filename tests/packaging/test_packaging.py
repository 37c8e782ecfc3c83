# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection as users get it: the tarball holds nothing secret, and the documented install ways work.

The tarball is built from a copy of the committed tree salted with what a user keeps next to a
checkout (the default nomad-secrets/ beside an inventory, molecule secrets, key and token files).
Each install way (tarball --offline, git+file, requirements.yml with type git) is then used for
real, into an empty collections path, and the installed collection is loaded by ansible-doc.
The release metadata agree: the changelog fragments lint clean, galaxy.yml's version is the newest
release of changelogs/changelog.yaml, CHANGELOG.rst is what antsibull-changelog generates from it,
and the README installs the tarball of that version.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys
import tarfile
import uuid

import pytest
import yaml
from markdown_it import MarkdownIt

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)

# Written into every salt file; made at run time, so no shipped file can hold it by accident.
MARK = 'salt-%s' % uuid.uuid4().hex
SALT = {
    # a PEM header, split so that no file of the repository looks like a key
    'nomad-secrets/ca/ca-key.pem': '-----BEGIN EC ' + 'PRIVATE KEY-----\nsalt\n',
    'nomad-secrets/tokens/management.token': 'salt-management-token\n',
    'nomad-secrets/acl-bootstrap.secret': 'salt-bootstrap-secret\n',
    'nomad-secrets/gossip.key': 'salt-gossip-key\n',
    'playbooks/nomad-secrets/operator/cli-key.pem': 'salt\n',
    'inventory.ini': '[nomad_servers]\nsalt ansible_host=192.0.2.1\n',
    'inventory/hosts.yml': 'all: {}\n',
    'group_vars/all.yml': 'nomad_gossip_key: salt\n',
    'host_vars/salt.yml': 'nomad_acl_bootstrap_secret: salt\n',
    'molecule/cluster/secrets/tokens/operator.token': 'salt\n',
    'roles/tls/files/stray-key.pem': 'salt\n',
    'agent.key': 'salt\n',
    'notes.token': 'salt\n',
    '.pytest_cache/v/cache/lastfailed': '{}\n',
    '.ansible/collections/x': 'salt\n',
    'tests/output/junit.xml': '<x/>\n',
    'hardened-nomad-0.0.1.tar.gz': 'salt\n',
    # the example inventory used from the checkout: its secrets dir and a vault made there
    'examples/inventory/nomad-secrets/tokens/management.token': 'salt\n',
    'examples/inventory/group_vars/all/vault.yml': '$ANSIBLE_VAULT;1.1;AES256\nsalt\n',
}
MUST_SHIP = ['README.md', 'LICENSE', 'meta/runtime.yml', 'playbooks/site.yml',
             'roles/agent/tasks/main.yml', 'roles/install/files/hashicorp-release.asc',
             'plugins/modules/agent_health.py', 'plugins/module_utils/_versions.py', 'plugins/filter/versions.py',
             'docs/versions.md', 'examples/README.md', 'examples/inventory/hosts.yml',
             'examples/inventory/group_vars/all/main.yml', 'examples/inventory/group_vars/all/vault.yml.example']


def run(args, cwd=None, env=None):
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, '%s failed:\n%s\n%s' % (' '.join(args), done.stdout[-3000:], done.stderr[-3000:])
    return done


def galaxy(*args, cwd=None):
    # The test bed's own collections path would satisfy an install: use none.
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH='/nonexistent', ANSIBLE_NOCOLOR='1')
    return run([os.path.join(BIN, 'ansible-galaxy'), *args], cwd=cwd, env=env)


def version():
    with open(os.path.join(ROOT, 'galaxy.yml'), encoding='utf-8') as f:
        return yaml.safe_load(f)['version']


def released_versions():
    """The releases of changelogs/changelog.yaml, oldest first (MAJOR.MINOR.PATCH)."""
    with open(os.path.join(ROOT, 'changelogs', 'changelog.yaml'), encoding='utf-8') as f:
        releases = list(yaml.safe_load(f)['releases'])
    for release in releases:
        assert re.fullmatch(r'\d+\.\d+\.\d+', release), 'changelog.yaml: %r is not MAJOR.MINOR.PATCH' % release
    return sorted(releases, key=lambda release: tuple(int(part) for part in release.split('.')))


@pytest.fixture(scope='module')
def committed_tree(tmp_path_factory):
    """A git repository of this checkout's files (tracked and new, as git would commit them)."""
    tree = tmp_path_factory.mktemp('repo') / 'hardened.nomad'
    listed = run(['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], cwd=ROOT).stdout
    for relative in filter(None, listed.split('\0')):
        source = os.path.join(ROOT, relative)
        if os.path.isfile(source):  # a deleted but still tracked file is skipped
            os.makedirs(os.path.dirname(os.path.join(tree, relative)), exist_ok=True)
            shutil.copy2(source, tree / relative)
    git = ['git', '-c', 'user.name=test', '-c', 'user.email=test@hardened-nomad.invalid']
    run(['git', 'init', '--quiet', str(tree)])
    run(git + ['add', '-A'], cwd=tree)
    run(git + ['commit', '--quiet', '-m', 'snapshot'], cwd=tree)
    return tree


@pytest.fixture(scope='module')
def tarball(committed_tree, tmp_path_factory):
    salted = tmp_path_factory.mktemp('salted') / 'hardened.nomad'
    shutil.copytree(committed_tree, salted, ignore=shutil.ignore_patterns('.git'))
    for relative, text in SALT.items():
        path = salted / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + MARK + '\n')
    out = tmp_path_factory.mktemp('dist')
    galaxy('collection', 'build', '--output-path', str(out), cwd=str(salted))
    (built,) = list(out.glob('*.tar.gz'))
    return built


def members(path):
    with tarfile.open(path) as archive:
        return archive.getnames()


def test_the_tarball_holds_nothing_secret(tarball):
    names = members(tarball)
    assert [name for name in names if name in SALT] == []
    for name in names:
        assert 'salt' not in name
        assert not name.endswith(('.pem', '.key', '.token', '.secret', '.tar.gz')), name
        assert name.split('/')[0] not in ('nomad-secrets', 'inventory', 'inventory.ini', 'group_vars', 'host_vars',
                                          '.ansible', '.pytest_cache', '.venv', '.cache'), name
        assert not name.startswith('tests/output'), name
        assert '/secrets/' not in '/' + name + '/' and 'nomad-secrets' not in name, name
    with tarfile.open(tarball) as archive:
        for member in archive.getmembers():
            if member.isfile():
                assert MARK.encode() not in archive.extractfile(member).read(), member.name


def test_the_tarball_holds_the_collection(tarball):
    names = set(members(tarball))
    for name in MUST_SHIP:
        assert name in names, name
    assert 'MANIFEST.json' in names and 'FILES.json' in names
    assert tarball.name == 'hardened-nomad-%s.tar.gz' % version()


def assert_installed(collections):
    """The installed collection loads: its modules' docs and its filters resolve from there."""
    root = collections / 'ansible_collections' / 'hardened' / 'nomad'
    assert (root / 'MANIFEST.json').is_file()
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_NOCOLOR='1')
    doc = run([os.path.join(BIN, 'ansible-doc'), 'hardened.nomad.agent_health'], env=env)
    assert doc.stdout.startswith('> MODULE hardened.nomad.agent_health (%s/' % root), doc.stdout[:300]
    doc = run([os.path.join(BIN, 'ansible-doc'), '-t', 'filter', 'hardened.nomad.nomad_features'], env=env)
    assert doc.stdout.startswith('> FILTER hardened.nomad.nomad_features (%s/' % root), doc.stdout[:300]
    listed = run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'list', 'hardened.nomad', '-p', str(collections)],
                 env=env)
    assert 'hardened.nomad' in listed.stdout and version() in listed.stdout


def test_install_from_the_tarball_offline(tarball, tmp_path):
    galaxy('collection', 'install', str(tarball), '-p', str(tmp_path), '--offline')
    assert_installed(tmp_path)
    assert not (tmp_path / 'ansible_collections' / 'hardened' / 'nomad' / 'nomad-secrets').exists()


def test_install_from_a_git_checkout(committed_tree, tmp_path):
    galaxy('collection', 'install', 'git+file://%s' % committed_tree, '-p', str(tmp_path))
    assert_installed(tmp_path)


def test_install_from_a_requirements_file_with_type_git(committed_tree, tmp_path):
    requirements = tmp_path / 'requirements.yml'
    requirements.write_text(yaml.safe_dump({'collections': [
        {'name': 'file://%s' % committed_tree, 'type': 'git', 'version': 'HEAD'}]}))
    galaxy('collection', 'install', '-r', str(requirements), '-p', str(tmp_path / 'collections'))
    assert_installed(tmp_path / 'collections')


def test_the_changelog_fragments_lint_clean(committed_tree):
    done = run([os.path.join(BIN, 'antsibull-changelog'), 'lint'], cwd=committed_tree)
    assert done.stdout == '' and done.stderr == '', done.stdout + done.stderr
    run([os.path.join(BIN, 'antsibull-changelog'), 'lint-changelog-yaml', 'changelogs/changelog.yaml'],
        cwd=committed_tree)


def test_galaxy_version_is_the_newest_release_of_the_changelog():
    releases = released_versions()
    assert version() == releases[-1], (
        'galaxy.yml says version %s, but the newest release in changelogs/changelog.yaml is %s: release the '
        'changelog with `antsibull-changelog release` (it reads the version from galaxy.yml)' % (version(), releases[-1]))


def test_changelog_rst_is_generated_from_changelog_yaml(committed_tree):
    # antsibull-changelog writes CHANGELOG.rst from changelogs/changelog.yaml; a hand edit differs.
    committed = (committed_tree / 'CHANGELOG.rst').read_text()
    (committed_tree / 'CHANGELOG.rst').unlink()
    try:
        run([os.path.join(BIN, 'antsibull-changelog'), 'generate'], cwd=committed_tree)
        assert (committed_tree / 'CHANGELOG.rst').read_text() == committed, 'run `antsibull-changelog generate`'
    finally:
        (committed_tree / 'CHANGELOG.rst').write_text(committed)


def test_the_readme_installs_the_tarball_of_this_version():
    with open(os.path.join(ROOT, 'README.md'), encoding='utf-8') as f:
        named = set(re.findall(r'hardened-nomad-(\S+?)\.tar\.gz', f.read()))
    assert named == {version()}, named


@pytest.mark.parametrize('page', ['README.md', 'examples/README.md'] + sorted(
    os.path.relpath(path, ROOT) for path in glob.glob(os.path.join(ROOT, 'docs', '*.md'))
    + glob.glob(os.path.join(ROOT, 'roles', '*', 'README.md'))))
def test_every_table_row_renders_inside_a_table(page):
    # A blank line inside a table ends it: the rows after it render as a paragraph of pipes.
    with open(os.path.join(ROOT, page), encoding='utf-8') as f:
        text = f.read()
    rendered = set()
    for token in MarkdownIt('commonmark').enable('table').parse(text):
        if token.type in ('table_open', 'fence', 'code_block') and token.map:
            rendered.update(range(*token.map))
    stray = [number + 1 for number, line in enumerate(text.splitlines())
             if line.lstrip().startswith('|') and number not in rendered]
    assert stray == [], '%s: lines %s look like table rows but are in no table' % (page, stray)
