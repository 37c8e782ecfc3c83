# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ACL policy rules checked against Nomad's schema (acl/policy.go) on the controller."""
from __future__ import annotations

import pytest

from policy_cases import ACCEPTED, REFUSED, REFUSED_ONLY_HERE

from ansible_collections.hardened.nomad.plugins.module_utils._policy_rules import parse, problems

GOOD = [
    'namespace "default" { policy = "read" }',
    '''# the operator persona
namespace "*" {
  policy       = "write"
  capabilities = ["alloc-lifecycle", "read-logs",]
  variables {
    path "*" { capabilities = ["read", "list"] }
  }
}
node_pool "prod_*" { capabilities = ["read"] }
host_volume "shared-data" { policy = "read" capabilities = ["mount-readonly"] }
/* cluster-wide */
agent { policy = "read" }
node { policy = "read" }
operator { policy = "read" }
quota { policy = "deny" }
plugin { policy = "list" }  // CSI
''',
    '{"namespace": {"default": {"policy": "read", "variables": {"path": {"*": {"capabilities": ["read"]}}}}},'
    ' "node": {"policy": "read"}}',
]


@pytest.mark.parametrize('rules', GOOD + ACCEPTED)
def test_valid_rules_have_no_problem(rules):
    assert problems(rules) == []


@pytest.mark.parametrize('rules, expected', REFUSED + REFUSED_ONLY_HERE)
def test_the_edges_of_hcl1_are_read_as_nomad_reads_them(rules, expected):
    found = problems(rules)
    assert any(expected in problem for problem in found), found


def test_labels_keep_their_case_and_words_are_labels():
    assert parse('Namespace Default { Policy = "read" }') == [('Namespace', ['Default'], [('Policy', [], 'read')])]
    assert problems('namespace "default" { policy = "read" }\nnode { policy = 1 }') == [
        "node: policy = '1' is not one of deny, read, write"]


@pytest.mark.parametrize('rules, expected', [
    ('namespace "default" { policy = "raed" }', 'namespace "default": policy = \'raed\' is not one of deny, read, write, scale'),
    ('namespace "default" { capabilities = ["submit-jobs"] }', 'unknown capabilities submit-jobs'),
    ('namespace "default" { polcy = "read" }', "unknown key 'polcy'"),
    ('namespaces "default" { policy = "read" }', "unknown block 'namespaces'"),
    ('node "x" { policy = "read" }', 'node "x" takes no name'),
    ('node { }', 'node: needs policy = one of deny, read, write'),
    ('plugin { policy = "write" }', "plugin: policy = 'write' is not one of deny, read, list"),
    ('namespace { policy = "read" }', 'namespace needs one name'),
    ('namespace "a b" { policy = "read" }', 'the name may hold only letters'),
    ('host_volume "v" { capabilities = ["mount"] }', 'unknown capabilities mount'),
    ('namespace "default" { variables { } }', 'variables needs at least one path'),
    ('namespace "default" { variables { path "*" { capabilities = ["admin"] } } }', 'unknown capabilities admin'),
    ('namespace "default" { policy = "read" ', 'expected }, found the end'),
    ('namespace "default" { policy = "read }', 'do not parse'),
    ('', 'the rules are empty'),
    ('{"namespace": ', 'not valid JSON'),
])
def test_bad_rules_are_named(rules, expected):
    found = problems(rules)
    assert any(expected in problem for problem in found), found


def test_every_problem_is_reported_not_only_the_first():
    found = problems('namespace "default" { policy = "raed" }\nnode { policy = "all" }\nagnet { policy = "read" }')
    assert len(found) == 3, found


def test_parse_shape():
    assert parse('namespace "a" { policy = "read" }') == [('namespace', ['a'], [('policy', [], 'read')])]
