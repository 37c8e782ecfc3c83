# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Filters over ACL policies (plugins/module_utils/_policy_rules.py)."""

from __future__ import annotations

import re

from ansible_collections.hardened.nomad.plugins.module_utils import _policy_rules


# Nomad's own limits (nomad/structs ACLPolicy.Validate).
POLICY_NAME_RE = re.compile(r'^[a-zA-Z0-9-]{1,128}$')
MAX_DESCRIPTION = 256


def nomad_policy_problems(policies, variable='nomad_acl_policies'):
    """One sentence per problem in the name, description or rules of each present policy; [] when Nomad will take
    them all."""
    found = []
    for policy in policies or []:
        if not isinstance(policy, dict) or policy.get('state', 'present') != 'present' or 'rules' not in policy:
            continue
        name = str(policy.get('name'))
        if not POLICY_NAME_RE.match(name):
            found.append("%s: policy '%s': the name must be 1-128 letters, digits or '-'" % (variable, name))
        description = str(policy.get('description') or '')
        if len(description) > MAX_DESCRIPTION:
            found.append("%s: policy '%s': the description has %d characters, Nomad takes at most %d"
                         % (variable, name, len(description), MAX_DESCRIPTION))
        for problem in _policy_rules.problems(str(policy['rules'])):
            found.append("%s: policy '%s': %s" % (variable, name, problem))
    return found


class FilterModule:
    def filters(self):
        return {'nomad_policy_problems': nomad_policy_problems}
