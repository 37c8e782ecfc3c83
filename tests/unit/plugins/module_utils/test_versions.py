# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The version table and the filters over it."""

from __future__ import annotations

import os

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.hardened.nomad.plugins.filter.versions import nomad_features, nomad_version_problems
from ansible_collections.hardened.nomad.plugins.module_utils import _versions

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))


@pytest.mark.parametrize('text, parsed', [
    ('1.6.3', (1, 6, 3)), ('2.0.5', (2, 0, 5)), ('v1.11.3', (1, 11, 3)), ('1.8.0-rc.1', (1, 8, -1)),
    ('1.6.3+ent', (1, 6, 3)),
])
def test_parse(text, parsed):
    assert _versions.parse(text) == parsed


@pytest.mark.parametrize('text', ['1.6', '', 'latest', '1.6.x', '1.6.3.1', None, 1.6])
def test_parse_refuses_what_is_no_release(text):
    with pytest.raises(_versions.VersionError):
        _versions.parse(text)


def test_a_pre_release_is_older_than_its_release():
    assert not _versions.at_least('1.8.0-rc.1', '1.8.0')
    assert _versions.at_least('1.8.0', '1.8.0')
    assert _versions.at_least('1.10.0', '1.9.0')  # numbers, not strings


@pytest.mark.parametrize('version, sd_notify, mounts, tls13, transfer', [
    ('1.6.0', False, False, False, False), ('1.6.3', False, False, False, False),
    ('1.7.0-rc.1', False, False, False, False), ('1.7.0', False, False, False, True),
    ('1.7.7', False, False, False, True), ('1.8.0', True, True, False, True), ('1.8.2', True, True, False, True),
    ('1.8.3', True, True, True, True), ('1.11.3', True, True, True, True), ('2.0.5', True, True, True, True),
])
def test_features(version, sd_notify, mounts, tls13, transfer):
    assert nomad_features(version) == dict(sd_notify=sd_notify, alloc_mounts_dir=mounts, tls13_minimum=tls13,
                                           leadership_transfer=transfer)


@pytest.mark.parametrize('version, words', [
    ('1.5.6', ['nomad_version is 1.5.6, older than 1.6.0', 'set nomad_version to 1.6.0 or newer']),
    ('1.6', ['nomad_version must be a Nomad release number', "not '1.6'"]),
])
def test_features_fail_with_the_reason(version, words):
    with pytest.raises(AnsibleFilterError) as exc:
        nomad_features(version)
    for word in words:
        assert word in str(exc.value)


def test_no_problem_for_a_supported_release_and_settings():
    assert nomad_version_problems('1.6.3', {'nomad_tls_min_version': 'tls12'}) == []
    assert nomad_version_problems('2.0.5', {'nomad_tls_min_version': 'tls13'}) == []
    assert nomad_version_problems('1.8.3', {'nomad_tls_min_version': 'tls13'}) == []
    assert nomad_version_problems('1.6.3') == []


def test_a_setting_that_needs_a_newer_release_is_refused_naming_both():
    problems = nomad_version_problems('1.6.3', {'nomad_tls_min_version': 'tls13'})
    assert problems == ['nomad_tls_min_version: tls13 needs Nomad 1.8.3 or newer, but nomad_version is 1.6.3: '
                        'raise nomad_version or change nomad_tls_min_version']


def test_unknown_settings_are_ignored():
    assert nomad_version_problems('1.6.3', {'nomad_region': 'eu'}) == []


def test_an_old_release_is_refused_before_any_setting():
    problems = nomad_version_problems('1.5.0', {'nomad_tls_min_version': 'tls13'})
    assert len(problems) == 1 and 'older than 1.6.0' in problems[0]


def test_the_default_release_is_the_newest_the_table_covers():
    import yaml
    with open(os.path.join(ROOT, 'roles', 'common', 'defaults', 'main.yml'), encoding='utf-8') as f:
        assert yaml.safe_load(f)['nomad_version'] == _versions.NEWEST_COVERED
    with open(os.path.join(ROOT, 'roles', 'common', 'meta', 'argument_specs.yml'), encoding='utf-8') as f:
        spec = yaml.safe_load(f)['argument_specs']['main']['options']['nomad_version']
    assert spec['default'] == _versions.NEWEST_COVERED


def test_docs_versions_lists_every_row_of_the_table():
    with open(os.path.join(ROOT, 'docs', 'versions.md'), encoding='utf-8') as f:
        page = f.read()
    for feature in _versions.FEATURES:
        rows = [line for line in page.splitlines() if line.startswith('|') and '`%s`' % feature.name in line]
        assert len(rows) == 1, feature.name
        assert '| %s |' % feature.since in rows[0], (feature.name, rows[0])
    assert _versions.MINIMUM_VERSION in page and _versions.NEWEST_COVERED in page
