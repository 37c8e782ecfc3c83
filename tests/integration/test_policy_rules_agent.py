# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ACL policy validator agrees with the real agent: every rule it accepts, Nomad stores; every
rule it refuses, Nomad refuses, except the unknown keys Nomad 1.6.3 ignores (tests/policy_cases.py)."""

from __future__ import annotations

import pytest
from policy_cases import ACCEPTED, REFUSED, REFUSED_ONLY_HERE

from ansible_collections.hardened.nomad.plugins.module_utils._api import NomadClient, NomadError
from ansible_collections.hardened.nomad.plugins.module_utils._policy_rules import problems


def nomad_stores(management, rules):
    """True when the agent stores the rules as a policy (written, then deleted), False when it refuses them."""
    client = NomadClient(**management)
    try:
        client.post('/v1/acl/policy/it-edge', dict(Name='it-edge', Description='', Rules=rules))
    except NomadError as exc:
        assert exc.status in (400, 500), exc.message  # a refusal of the rules, not of the call
        return False
    client.delete('/v1/acl/policy/it-edge')
    return True


@pytest.mark.parametrize('rules', ACCEPTED)
def test_what_the_validator_accepts_nomad_stores(management, rules):
    assert problems(rules) == []
    assert nomad_stores(management, rules)


@pytest.mark.parametrize('rules, _expected', REFUSED)
def test_what_the_validator_refuses_nomad_refuses(management, rules, _expected):
    assert problems(rules)
    assert not nomad_stores(management, rules)


@pytest.mark.parametrize('rules, _expected', REFUSED_ONLY_HERE)
def test_unknown_keys_nomad_1_6_ignores_are_refused_here_only(management, rules, _expected):
    assert problems(rules)
    assert nomad_stores(management, rules)
