# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Which Nomad release architecture a node needs, from its machine name (ansible_facts.architecture)."""

from __future__ import annotations

# Nomad's Linux releases the collection installs (nomad_<v>_linux_<arch>.zip), by the machine
# names the facts report (uname -m on Linux; the Debian names too).
RELEASE_ARCHITECTURES = {
    'x86_64': 'amd64',
    'amd64': 'amd64',
    'aarch64': 'arm64',
    'arm64': 'arm64',
}


def nomad_release_architecture(machine):
    """'amd64' or 'arm64' for ``machine``; '' for a machine Nomad has no Linux release for."""
    return RELEASE_ARCHITECTURES.get(str(machine).lower(), '')


def nomad_architecture_problems(machine, wanted, host):
    """Sentences saying why ``host`` (a ``machine``) cannot get the ``wanted`` release; [] when it can."""
    expected = nomad_release_architecture(machine)
    supported = sorted(set(RELEASE_ARCHITECTURES.values()))
    if not expected:
        return ['%s is %s (ansible_facts.architecture): Nomad has Linux releases for %s only, so the collection '
                'cannot install it there. Leave %s out of the play' % (host, machine, ' and '.join(supported), host)]
    if wanted not in supported:
        return ["nomad_architecture for %s is '%s': use %s, or leave it unset (it is detected per host)"
                % (host, wanted, ' or '.join(supported))]
    if wanted != expected:
        return ["%s is %s, which needs the %s release, but nomad_architecture for it is '%s': remove that override "
                "(the architecture is detected per host) or set it to '%s'" % (host, machine, expected, wanted, expected)]
    return []


class FilterModule:
    def filters(self):
        return {
            'nomad_release_architecture': nomad_release_architecture,
            'nomad_architecture_problems': nomad_architecture_problems,
        }
