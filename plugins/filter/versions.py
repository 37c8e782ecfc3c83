# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Filters over the version table (plugins/module_utils/_versions.py)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.hardened.nomad.plugins.module_utils import _versions


def nomad_features(version):
    """{feature: bool} for ``version``; fails with the reason for an unusable one."""
    found = _versions.problems(version)
    if found:
        raise AnsibleFilterError(found[0])
    return _versions.features(version)


def nomad_version_problems(version, settings=None, variable='nomad_version'):
    """Sentences saying why ``version`` cannot be used with ``settings`` ({variable: value}); [] when fine."""
    return _versions.problems(version, settings or {}, variable)


class FilterModule:
    def filters(self):
        return {
            'nomad_features': nomad_features,
            'nomad_version_problems': nomad_version_problems,
        }
