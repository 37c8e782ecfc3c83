# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The connection options: the argument spec every API module gets (NOMAD_CONNECTION_SPEC) and its
documentation (the hardened.nomad.connection doc fragment) say the same thing."""

from __future__ import annotations

import yaml

from ansible_collections.hardened.nomad.plugins.doc_fragments.connection import ModuleDocFragment
from ansible_collections.hardened.nomad.plugins.module_utils._api import NOMAD_CONNECTION_SPEC

DOCUMENTED = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)['options']


def test_the_same_options_are_documented_and_accepted():
    assert sorted(DOCUMENTED) == sorted(NOMAD_CONNECTION_SPEC)


def test_types_and_defaults_match():
    for name, spec in NOMAD_CONNECTION_SPEC.items():
        documented = DOCUMENTED[name]
        assert documented['type'] == spec['type'], name
        assert documented.get('default') == spec.get('default'), name


def test_each_environment_fallback_is_documented():
    for name, spec in NOMAD_CONNECTION_SPEC.items():
        if 'fallback' in spec:
            variables = spec['fallback'][1]
            text = ' '.join(DOCUMENTED[name]['description'])
            assert all('E(%s)' % variable in text for variable in variables), name
