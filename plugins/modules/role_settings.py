#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: role_settings
short_description: Check the variables of a play against the argument specs of this collection's roles
version_added: 0.2.0
description:
  - Validates the variables visible to the task against the C(main) argument spec of each role in O(roles), the way
    a role checks its own at entry, but for all of them before the first change.
  - On failure it reports one line per bad value, each naming the role, and not the specs (which
    M(ansible.builtin.validate_argument_spec) prints in full).
  - Runs on the controller only (an action plugin); it needs no connection to the host.
author:
  - hardened.nomad contributors (@hardened-nomad)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  roles:
    description:
      - Names of roles of hardened.nomad, for example V(install) or V(tls).
    type: list
    elements: str
    required: true
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: all
seealso:
  - module: ansible.builtin.validate_argument_spec
"""

EXAMPLES = r"""
- name: Check every role's variables against its argument spec
  hardened.nomad.role_settings:
    roles: [common, install, tls]
"""

RETURN = r"""
argument_errors:
  description: One entry per bad value, naming the role.
  returned: failure
  type: list
  elements: str
  sample: ["argument 'nomad_tls_cert_valid_days' is of type str and we were unable to convert to int (role tls)"]
roles:
  description: The roles checked.
  returned: always
  type: list
  elements: str
"""
