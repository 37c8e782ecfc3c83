# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Which Nomad release architecture a node needs, from its machine name (ansible_facts.architecture)."""

from __future__ import annotations

from ansible_collections.hardened.nomad.plugins.module_utils import _inputs


def nomad_release_architecture(machine):
    """'amd64' or 'arm64' for ``machine``; '' for a machine Nomad has no Linux release for."""
    return _inputs.release_architecture(machine)


def nomad_architecture_problems(machine, wanted, host):
    """Sentences saying why ``host`` (a ``machine``) cannot get the ``wanted`` release; [] when it can."""
    return _inputs.architecture_problems(machine, wanted, host)


class FilterModule:
    def filters(self):
        return {
            'nomad_release_architecture': nomad_release_architecture,
            'nomad_architecture_problems': nomad_architecture_problems,
        }
