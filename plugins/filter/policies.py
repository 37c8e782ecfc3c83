# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Filters over ACL policies (plugins/module_utils/_policy_rules.py)."""

from __future__ import annotations

from ansible_collections.hardened.nomad.plugins.module_utils import _inputs


def nomad_policy_problems(policies, variable='nomad_acl_policies'):
    """One sentence per problem in the name, description or rules of each present policy; [] when Nomad will take
    them all."""
    return _inputs.policy_problems(policies, variable)


class FilterModule:
    def filters(self):
        return {'nomad_policy_problems': nomad_policy_problems}
