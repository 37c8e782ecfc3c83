# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ACL policy rules at the edges of Nomad's HCL1 parser, shared by the unit tests of the validator
(module_utils/_policy_rules.py) and the integration test that gives each to a real Nomad agent.

ACCEPTED: the validator and the agent take them. REFUSED: both refuse them (the text is what our
message says). REFUSED_ONLY_HERE: the validator refuses them and Nomad 1.6.3 stores them, because
it ignores a key it does not know: such a key is a typo that grants nothing, and Nomad 1.11 refuses
it too.
"""

ACCEPTED = [
    'namespace "default" { policy = "read" }',
    # HCL1: a label may be a bare word, keys and block names match in any case
    'namespace default { policy = "read" }',
    'Namespace "default" { Policy = "read" }',
    'NODE { POLICY = "write" }',
    'namespace "default" { Capabilities = ["read-job", "list-jobs"] }',
    'namespace "*" { policy = "write"  capabilities = ["alloc-lifecycle", "read-logs",] }',
    'namespace "default" { variables { path "*" { capabilities = ["read", "list"] } } }',
    'node_pool "prod_*" { capabilities = ["read"] }',
    'host_volume "shared-data" { policy = "read" capabilities = ["mount-readonly"] }',
    'agent { policy = "read" }\noperator { policy = "read" }\nquota { policy = "deny" }\nplugin { policy = "list" }',
    '# a comment\n/* another */\nnode { policy = "read" } // and a third',
    '{"namespace": {"default": {"policy": "read"}}, "node": {"policy": "read"}}',
    '{"Namespace": {"default": {"Policy": "read"}}}',
]

REFUSED = [
    ('namespace "default" { policy = read }', 'read is a bare word: quote it ("read")'),
    ('namespace "default" { capabilities = [read-job] }', 'read-job is a bare word'),
    ('node { policy = write }', 'write is a bare word'),
    ('namespace "default" { policy = "raed" }', "policy = 'raed' is not one of deny, read, write, scale"),
    ('namespace "default" { capabilities = ["submit-jobs"] }', 'unknown capabilities submit-jobs'),
    ('plugin { policy = "write" }', "policy = 'write' is not one of deny, read, list"),
    ('namespace "a b" { policy = "read" }', 'the name may hold only letters'),
    ('host_volume "v" { capabilities = ["mount"] }', 'unknown capabilities mount'),
    ('namespace "default" { variables { path "*" { capabilities = ["admin"] } } }', 'unknown capabilities admin'),
    ('namespace "default" { policy = "read" ', 'expected }, found the end'),
    ('namespaces "default" { policy = "read" }', "unknown block 'namespaces'"),
    ('node { }', 'node: needs policy = one of deny, read, write'),
    ('node { policy = "all" }', "node: policy = 'all' is not one of deny, read, write"),
]

REFUSED_ONLY_HERE = [
    ('namespace "default" { polcy = "read" }', "unknown key 'polcy'"),
    ('namespace "default" { policy = "read" capabilitys = ["read-job"] }', "unknown key 'capabilitys'"),
]
