# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One rule per input (module_utils/_inputs.py), and the preflight filters that run them per host and for the ACLs."""

from __future__ import annotations

import pytest

from ansible_collections.hardened.nomad.plugins.filter import inputs
from ansible_collections.hardened.nomad.plugins.module_utils import _inputs, _pki

ALLOWED_VERSIONS = ['tls12', 'tls13']
ALLOWED_SUITES = ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384']


# ---------------------------------------------------------------------------------------- one rule per input


@pytest.mark.parametrize('region, good', [
    ('global', True), ('eu-west-1', True), ('a', True), ('x' * 63, True),
    ('Bad_Region', False), ('EU', False), ('eu_west', False), ('eu.west', False), ('-eu', False), ('eu-', False),
    ('', False), (None, False), ('x' * 64, False), ('eu west', False),
])
def test_the_region_is_a_dns_label(region, good):
    problems = _inputs.region_problems(region)
    assert (problems == []) is good, problems
    if not good:
        assert problems[0].startswith("nomad_region '%s' is not a DNS label" % (region if region is not None else ''))


@pytest.mark.parametrize('region', ['Bad_Region', 'eu.west', ''])
def test_the_certificate_modules_refuse_the_regions_the_preflight_refuses(region):
    with pytest.raises(_pki.PKIError, match="region '%s' is not a DNS label" % region):
        _pki.role_name('server', region)


@pytest.mark.parametrize('datacenter, good', [
    ('dc1', True), ('eu_west-1a', True), ('dc 1', False), ('DC1', False), ('_dc', False), ('', False),
])
def test_the_datacenter_rule(datacenter, good):
    problems = _inputs.datacenter_problems(datacenter)
    assert (problems == []) is good
    if not good:
        assert problems == ["nomad_datacenter '%s' must be 1-63 lowercase letters, digits, '-' or '_'" % datacenter]


@pytest.mark.parametrize('address, good', [
    ('10.0.0.5', True), ('fd00::5', True), ('::1', True),
    ('', False), (None, False), ('999.1.1.1', False), ('10.0.0.0/8', False), ('node1.example.com', False),
    (' 10.0.0.5 ', False), ('fe80::1%eth0', False),  # rendered as given into bind_addr and the nftables sets
])
def test_the_advertise_address_is_an_ip_address(address, good):
    problems = _inputs.address_problems(address, 'node1')
    assert (problems == []) is good
    if not good:
        assert problems[0].startswith("node1 has no usable nomad_advertise_address (got '%s')" % (address or ''))


def test_each_bad_cidr_is_named_with_its_variable():
    problems = _inputs.cidr_problems({'nomad_firewall_http_cidrs': ['10.0.0.0/8', '127.0.0.0/8', 'fd00::/8'],
                                      'nomad_firewall_http_extra_cidrs': ['10.0.0.0/33', '192.0.2.7', 'nope', '::/129']})
    assert problems == [
        "'10.0.0.0/33' in nomad_firewall_http_extra_cidrs is not an IPv4 or IPv6 address or CIDR (examples: "
        "10.0.0.0/8, 192.0.2.7, fd00::/8)",
        "'nope' in nomad_firewall_http_extra_cidrs is not an IPv4 or IPv6 address or CIDR (examples: 10.0.0.0/8, "
        "192.0.2.7, fd00::/8)",
        "'::/129' in nomad_firewall_http_extra_cidrs is not an IPv4 or IPv6 address or CIDR (examples: 10.0.0.0/8, "
        "192.0.2.7, fd00::/8)",
    ]


def test_host_bits_in_a_cidr_are_accepted_as_nftables_takes_them():
    assert _inputs.cidr_problems({'nomad_firewall_http_cidrs': ['10.0.0.5/8']}) == []


@pytest.mark.parametrize('entry', ['127.0.0.0/255.0.0.0', ' 10.0.0.0/8', '10.0.0.0/8 ', 'fe80::/64%eth0'])
def test_only_the_plain_forms_the_firewall_template_takes_are_accepted(entry):
    [problem] = _inputs.cidr_problems({'nomad_firewall_http_cidrs': [entry]})
    assert problem.startswith("'%s' in nomad_firewall_http_cidrs is not" % entry)
    # and such an entry never counts as letting loopback in
    assert _inputs.loopback_problems('127.0.0.1', True, [entry], [])


@pytest.mark.parametrize('bind, firewall, cidrs, extra, expected', [
    ('10.0.0.5 127.0.0.1', True, ['127.0.0.0/8'], [], []),
    (None, True, ['10.0.0.0/8'], ['127.0.0.1/32'], []),
    ('127.0.0.1', True, ['0.0.0.0/0'], [], []),
    ('127.0.0.1', False, ['10.0.0.0/8'], [], []),
    ('10.0.0.5', False, [], [], ['must include 127.0.0.1']),
    ('', False, [], [], ['must include 127.0.0.1']),
    ('127.0.0.1', True, ['10.0.0.0/8'], ['::1'], ['must allow loopback']),
    ('10.0.0.5', True, ['10.0.0.0/8'], ['bad'], ['must include 127.0.0.1', 'must allow loopback']),
])
def test_the_loopback_listener_stays_reachable(bind, firewall, cidrs, extra, expected):
    problems = _inputs.loopback_problems(bind, firewall, cidrs, extra)
    assert len(problems) == len(expected)
    for problem, words in zip(problems, expected):
        assert words in problem and 'loopback listener' in problem


def test_tls_settings_each_bad_value():
    assert _inputs.tls_problems('tls12', ALLOWED_SUITES[:1], ALLOWED_VERSIONS, ALLOWED_SUITES) == []
    problems = _inputs.tls_problems('tls10', ['TLS_RSA_WITH_AES_128_CBC_SHA'] + ALLOWED_SUITES, ALLOWED_VERSIONS,
                                    ALLOWED_SUITES)
    assert problems == [
        "nomad_tls_min_version 'tls10' is not allowed: use one of tls12, tls13",
        'nomad_tls_cipher_suites holds TLS_RSA_WITH_AES_128_CBC_SHA: only AEAD ECDHE_ECDSA suites match the ECDSA '
        'certificates (%s)' % ', '.join(ALLOWED_SUITES),
    ]


# ---------------------------------------------------------------------------------------- ACL policies and tokens

READ = 'namespace "default" { policy = "read" }'
POLICIES = [{'name': 'readonly', 'rules': READ}, {'name': 'old', 'state': 'absent'}]


def acl(policies, tokens):
    return inputs.nomad_acl_problems(policies, tokens)


def test_good_policies_and_tokens_pass():
    assert acl(POLICIES, [{'name': 'ci', 'policies': ['readonly']}, {'name': 'gone', 'state': 'absent',
                                                                     'policies': ['old']}]) == []


@pytest.mark.parametrize('policies, tokens, words', [
    ([{'name': 'anonymous', 'rules': READ}], [], "policy named 'anonymous'"),
    ([{'name': 'p'}], [], "every present policy in nomad_acl_policies needs 'rules' (policy 'p' has none)"),
    (POLICIES, [{'name': 'ro', 'policies': []}, {'name': 'ro', 'policies': []}],
     'must be unique (tokens are found by name): ro'),
    (POLICIES, [{'name': '../escape'}], "token names ../escape in nomad_acl_tokens must be letters"),
    (POLICIES, [{'name': 'management', 'type': 'management'}], "may not name a token 'management'"),
    (POLICIES, [{'name': 'ci.retiring'}], 'rotate_tokens.yml uses those names (ci.retiring)'),
    (POLICIES, [{'name': 'management-20260101'}], 'rotate_tokens.yml uses those names (management-20260101)'),
    (POLICIES, [{'name': 'ci', 'policies': ['deployer', 'old']}], 'does not define (or marks absent): deployer, old'),
    ([{'name': 'p', 'rules': 'node { polcy = "read" }'}], [], "nomad_acl_policies: policy 'p': node: unknown key 'polcy'"),
    ([{'name': 'p', 'rules': 'node { policy = "raed" }'}], [], "policy 'p': node: policy = 'raed' is not one of"),
    ([{'name': 'bad name', 'rules': READ}], [], "policy 'bad name': the name must be 1-128 letters, digits or '-'"),
])
def test_each_acl_problem_is_named(policies, tokens, words):
    problems = acl(policies, tokens)
    assert words in problems[0] and len(problems) == (2 if 'polcy' in words else 1), problems  # polcy: policy unset too


def test_every_acl_problem_is_reported_not_only_the_first():
    problems = acl([{'name': 'anonymous', 'rules': READ}, {'name': 'p'}],
                   [{'name': 'management'}, {'name': 'x/y'}, {'name': 'ci', 'policies': ['nope']}])
    assert len(problems) == 5, problems


# ---------------------------------------------------------------------------------------- one host's settings

GOOD = dict(architecture='x86_64', nomad_architecture='amd64', nomad_version='1.6.3', nomad_region='global',
            nomad_datacenter='dc1', nomad_advertise_address='10.0.0.5', nomad_http_bind_address='10.0.0.5 127.0.0.1',
            nomad_firewall_enabled=True, nomad_firewall_http_cidrs=['127.0.0.0/8'],
            nomad_firewall_http_extra_cidrs=['192.0.2.0/24'], nomad_tls_min_version='tls12',
            nomad_tls_cipher_suites=ALLOWED_SUITES, nomad_preflight_allowed_tls_versions=ALLOWED_VERSIONS,
            nomad_preflight_allowed_cipher_suites=ALLOWED_SUITES, nomad_gossip_key='',
            nomad_tls_renew_before_days=30, nomad_tls_cert_valid_days=365, nomad_client_rolling_batch='10%',
            nomad_client_max_fail_percentage=10)


ALL_ROLES = ['common', 'install', 'tls', 'firewall', 'agent', 'acl']
NOT_IN_PLAY = ['nomad_architecture', 'nomad_firewall_enabled', 'nomad_firewall_http_cidrs',
               'nomad_firewall_http_extra_cidrs', 'nomad_tls_min_version', 'nomad_tls_cipher_suites', 'nomad_gossip_key',
               'nomad_tls_renew_before_days', 'nomad_tls_cert_valid_days', 'nomad_http_bind_address']


def test_a_good_host_has_no_problem():
    assert inputs.nomad_host_problems(GOOD, 'node1', ALL_ROLES) == []


@pytest.mark.parametrize('undefined', [None, ''])  # '': what ansible-core 2.17 and 2.18 render for default(none)
def test_the_variables_of_roles_not_in_the_play_are_not_checked(undefined):
    only_common = dict(GOOD, **{name: undefined for name in NOT_IN_PLAY})
    assert inputs.nomad_host_problems(only_common, 'node1', ['common']) == []


def test_a_boolean_given_as_a_string_is_read_as_ansible_reads_it():
    firewall_off = dict(GOOD, nomad_firewall_enabled='false', nomad_firewall_http_cidrs=['10.0.0.0/8'],
                        nomad_firewall_http_extra_cidrs=['bad'])
    assert inputs.nomad_host_problems(firewall_off, 'node1', ALL_ROLES) == []
    firewall_on = dict(firewall_off, nomad_firewall_enabled='yes')
    assert len(inputs.nomad_host_problems(firewall_on, 'node1', ALL_ROLES)) == 2  # the bad CIDR, no loopback


def test_one_sentence_per_bad_value_of_a_host():
    bad = dict(GOOD, nomad_region='Bad_Region', nomad_datacenter='dc 1', nomad_firewall_http_extra_cidrs=['10.0.0.0/33'],
               nomad_tls_min_version='tls10', nomad_gossip_key='AAAAAAAAAAAAAAAAAAAAAAAAAAA=',
               nomad_tls_renew_before_days=400, architecture='armv7l')
    problems = inputs.nomad_host_problems(bad, 'node1', ALL_ROLES)
    variables = ['armv7l (ansible_facts.architecture)', 'nomad_region', 'nomad_datacenter',
                 'nomad_firewall_http_extra_cidrs', 'nomad_tls_min_version', 'nomad_gossip_key',
                 'nomad_tls_renew_before_days']
    assert len(problems) == len(variables), problems
    for problem, variable in zip(problems, variables):
        assert variable in problem


def test_the_version_and_what_it_allows():
    assert 'older than 1.6.0' in inputs.nomad_host_problems(dict(GOOD, nomad_version='1.5.6'), 'node1', ALL_ROLES)[0]
    assert 'must be a Nomad release number' in inputs.nomad_host_problems(dict(GOOD, nomad_version=1.6), 'node1', ALL_ROLES)[0]
    [problem] = inputs.nomad_host_problems(dict(GOOD, nomad_tls_min_version='tls13'), 'node1', ALL_ROLES)
    assert problem.startswith('nomad_tls_min_version: tls13 needs Nomad 1.8.3 or newer, but nomad_version is 1.6.3')
    assert inputs.nomad_host_problems(dict(GOOD, nomad_tls_min_version='tls13', nomad_version='1.8.3'), 'node1', ALL_ROLES) == []
