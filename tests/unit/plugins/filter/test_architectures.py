# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A node's Nomad release architecture, from the machine name its facts report."""

from __future__ import annotations

import pytest

from ansible_collections.hardened.nomad.plugins.filter.architectures import (
    nomad_architecture_problems, nomad_release_architecture)


@pytest.mark.parametrize('machine, release', [
    ('x86_64', 'amd64'), ('amd64', 'amd64'), ('aarch64', 'arm64'), ('arm64', 'arm64'), ('AARCH64', 'arm64'),
    # machines Nomad has no Linux release for (the collection installs only amd64 and arm64)
    ('armv7l', ''), ('i386', ''), ('i686', ''), ('s390x', ''), ('ppc64le', ''), ('riscv64', ''), ('', ''),
])
def test_machine_to_release_architecture(machine, release):
    assert nomad_release_architecture(machine) == release


@pytest.mark.parametrize('machine, wanted', [('x86_64', 'amd64'), ('aarch64', 'arm64'), ('arm64', 'arm64')])
def test_a_supported_machine_with_its_architecture_has_no_problem(machine, wanted):
    assert nomad_architecture_problems(machine, wanted, 'node1') == []


@pytest.mark.parametrize('wanted', ['', 'arm64', 'amd64'])
def test_an_unsupported_machine_fails_naming_the_host(wanted):
    # whatever the override: armv7l has no Nomad Linux release
    problems = nomad_architecture_problems('armv7l', wanted, 'pi-3')
    assert problems == ['pi-3 is armv7l (ansible_facts.architecture): Nomad has Linux releases for amd64 and arm64 '
                        'only, so the collection cannot install it there. Leave pi-3 out of the play']


def test_an_override_for_the_other_architecture_fails_naming_the_host_and_the_fix():
    problems = nomad_architecture_problems('aarch64', 'amd64', 'graviton-1')
    assert problems == ["graviton-1 is aarch64, which needs the arm64 release, but nomad_architecture for it is "
                        "'amd64': remove that override (the architecture is detected per host) or set it to 'arm64'"]


@pytest.mark.parametrize('wanted', ['x86_64', 'arm', '386', ''])
def test_an_override_that_is_no_release_architecture_fails(wanted):
    problems = nomad_architecture_problems('x86_64', wanted, 'node1')
    assert problems == ["nomad_architecture for node1 is '%s': use amd64 or arm64, or leave it unset "
                        "(it is detected per host)" % wanted]
