# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The rule for each input, written once. Private to the collection; standard library only.

Each ``*_problems`` function answers with a list of sentences, one per bad value, each naming the
variable and the fix ([] when the input is good). The preflight filters (plugins/filter/inputs.py)
run them before any host changes; the modules that take the same input (the region in _pki) use
the same function, so the two can never disagree.
"""

from __future__ import annotations

import ipaddress
import re

from ansible_collections.hardened.nomad.plugins.module_utils import _policy_rules

# A DNS label: the region goes into certificate names such as server.<region>.nomad.
REGION_RE = re.compile(r'^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$')
DATACENTER_RE = re.compile(r'^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$')
# A file name of its own under tokens/ (the token's secret file).
TOKEN_NAME_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]*$')
RESERVED_TOKEN_NAME = 'management'
LOOPBACK = ipaddress.ip_network('127.0.0.0/8')
# The plain forms the firewall's nftables template takes: an address, or an address and a prefix
# length (no netmask, no zone, no white space).
PLAIN_ADDRESS_RE = re.compile(r'^[0-9A-Fa-f:.]+$')
BATCH_RE = re.compile(r'^\s*(\d+)\s*(%?)\s*$')
PLAIN_CIDR_RE = re.compile(r'^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$')


def rolling_problems(batch, max_fail_percentage):
    """The client rollout's settings: a batch of N clients or N%% of them, a percentage from 0 to 100."""
    problems = []
    match = BATCH_RE.match(str(batch))
    if not match or int(match.group(1)) == 0 or (match.group(2) and int(match.group(1)) > 100):
        problems.append('nomad_client_rolling_batch is %r: set a number of clients (5) or a percentage of them from '
                        '1%% to 100%% (10%%)' % (batch,))
    try:
        percentage = float(max_fail_percentage)
    except (TypeError, ValueError):
        percentage = -1
    if isinstance(max_fail_percentage, bool) or not 0 <= percentage <= 100:
        problems.append('nomad_client_max_fail_percentage is %r: set a number from 0 (stop at the first client that '
                        'fails) to 100 (never stop)' % (max_fail_percentage,))
    return problems


def region_problems(region, variable='nomad_region'):
    if REGION_RE.match(str(region or '')):
        return []
    return ["%s '%s' is not a DNS label (lowercase letters, digits and '-', 1-63 characters): it goes into "
            "certificate names such as server.<region>.nomad" % (variable, '' if region is None else region)]


def datacenter_problems(datacenter, variable='nomad_datacenter'):
    if DATACENTER_RE.match(str(datacenter or '')):
        return []
    return ["%s '%s' must be 1-63 lowercase letters, digits, '-' or '_'" % (variable, '' if datacenter is None else datacenter)]


def address_problems(address, host, variable='nomad_advertise_address'):
    """The address other agents reach ``host`` on: a plain IPv4 or IPv6 address (no zone, no white space)."""
    text = str(address or '')
    try:
        if PLAIN_ADDRESS_RE.match(text):
            ipaddress.ip_address(text)
            return []
    except ValueError:
        pass
    return ["%s has no usable %s (got '%s'): it defaults to the default IPv4 address from the facts; set %s "
            "for this host to the IP other agents reach it on" % (host, variable, address or '', variable)]


def network(value):
    """The network of a plain address or CIDR (host bits allowed, as nftables takes them), or None."""
    text = str(value)
    if not PLAIN_CIDR_RE.match(text):
        return None
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def cidr_problems(cidrs_by_variable):
    """One sentence per entry that is not an IPv4 or IPv6 address or CIDR ({variable: [entries]})."""
    problems = []
    for variable, cidrs in cidrs_by_variable.items():
        for entry in cidrs or []:
            if network(entry) is None:
                problems.append("'%s' in %s is not an IPv4 or IPv6 address or CIDR (examples: 10.0.0.0/8, "
                                "192.0.2.7, fd00::/8)" % (entry, variable))
    return problems


def loopback_problems(http_bind_address, firewall_enabled, http_cidrs, extra_cidrs):
    """The roles' own health checks and ACL calls use the loopback listener: it must be bound and let through.

    ``http_bind_address`` None: the agent role is not in the play (Nomad's listener is not ours to check).
    """
    problems = []
    if http_bind_address is not None and '127.0.0.1' not in str(http_bind_address).split():
        problems.append("nomad_http_bind_address '%s' must include 127.0.0.1: the health checks and ACL calls of "
                        "these roles use the loopback listener" % http_bind_address)
    if firewall_enabled:
        networks = [network(entry) for entry in list(http_cidrs or []) + list(extra_cidrs or [])]
        if not [net for net in networks if net is not None and net.version == 4 and net.overlaps(LOOPBACK)]:
            problems.append('nomad_firewall_http_cidrs must allow loopback (127.0.0.0/8): the health checks and ACL '
                            'calls of these roles use the loopback listener')
    return problems


def tls_problems(min_version, cipher_suites, allowed_versions, allowed_suites):
    problems = []
    if min_version not in allowed_versions:
        problems.append("nomad_tls_min_version '%s' is not allowed: use one of %s"
                        % (min_version, ', '.join(allowed_versions)))
    refused = [suite for suite in cipher_suites or [] if suite not in allowed_suites]
    if refused:
        problems.append('nomad_tls_cipher_suites holds %s: only AEAD ECDHE_ECDSA suites match the ECDSA certificates '
                        '(%s)' % (', '.join(refused), ', '.join(allowed_suites)))
    return problems


def _present(items):
    return [item for item in items or [] if item.get('state', 'present') == 'present']


def acl_problems(policies, tokens, reserved_token_names):
    """The ACL policies and tokens the acl role will create, checked together; one sentence per problem.

    ``reserved_token_names(names)`` returns the names token rotation keeps for itself.
    """
    problems = []
    kept_policies = _present(policies)
    present = [policy.get('name') for policy in kept_policies]
    if 'anonymous' in present:
        problems.append("nomad_acl_policies defines a policy named 'anonymous': it would apply to every caller "
                        "without a token. Remove it")
    for policy in kept_policies:
        if 'rules' not in policy:
            problems.append("every present policy in nomad_acl_policies needs 'rules' (policy '%s' has none)"
                            % policy.get('name'))
    names = [str(token.get('name')) for token in tokens or []]
    duplicates = sorted(set(name for name in names if names.count(name) > 1))
    if duplicates:
        problems.append('token names in nomad_acl_tokens must be unique (tokens are found by name): %s'
                        % ', '.join(duplicates))
    bad_names = [name for name in names if not TOKEN_NAME_RE.match(name)]
    if bad_names:
        problems.append("token names %s in nomad_acl_tokens must be letters, digits, '.', '_' or '-': they name the "
                        "secret files" % ', '.join(bad_names))
    if RESERVED_TOKEN_NAME in names:
        problems.append("nomad_acl_tokens may not name a token 'management': that file holds the bootstrap "
                        "management secret")
    reserved = reserved_token_names(names)
    if reserved:
        problems.append("token names in nomad_acl_tokens may not start with 'management-' or end in '.retiring': "
                        "playbooks/rotate_tokens.yml uses those names (%s)" % ', '.join(reserved))
    missing = []
    for token in _present(tokens):
        for policy in token.get('policies') or []:
            if policy not in present and policy not in missing:
                missing.append(policy)
    if missing:
        problems.append('nomad_acl_tokens names policies that nomad_acl_policies does not define (or marks absent): '
                        '%s' % ', '.join(missing))
    return problems


# Nomad's own limits for a policy (nomad/structs ACLPolicy.Validate).
POLICY_NAME_RE = re.compile(r'^[a-zA-Z0-9-]{1,128}$')
MAX_POLICY_DESCRIPTION = 256


def policy_problems(policies, variable='nomad_acl_policies'):
    """One sentence per problem in the name, description or rules of each present policy."""
    found = []
    for policy in policies or []:
        if not isinstance(policy, dict) or policy.get('state', 'present') != 'present' or 'rules' not in policy:
            continue
        name = str(policy.get('name'))
        if not POLICY_NAME_RE.match(name):
            found.append("%s: policy '%s': the name must be 1-128 letters, digits or '-'" % (variable, name))
        description = str(policy.get('description') or '')
        if len(description) > MAX_POLICY_DESCRIPTION:
            found.append("%s: policy '%s': the description has %d characters, Nomad takes at most %d"
                         % (variable, name, len(description), MAX_POLICY_DESCRIPTION))
        for problem in _policy_rules.problems(str(policy['rules'])):
            found.append("%s: policy '%s': %s" % (variable, name, problem))
    return found


# Nomad's Linux releases the collection installs (nomad_<v>_linux_<arch>.zip), by the machine
# names the facts report (uname -m on Linux; the Debian names too).
RELEASE_ARCHITECTURES = {
    'x86_64': 'amd64',
    'amd64': 'amd64',
    'aarch64': 'arm64',
    'arm64': 'arm64',
}


def release_architecture(machine):
    """'amd64' or 'arm64' for ``machine``; '' for a machine Nomad has no Linux release for."""
    return RELEASE_ARCHITECTURES.get(str(machine).lower(), '')


def architecture_problems(machine, wanted, host):
    """Sentences saying why ``host`` (a ``machine``) cannot get the ``wanted`` release; [] when it can."""
    expected = release_architecture(machine)
    supported = sorted(set(RELEASE_ARCHITECTURES.values()))
    if not expected:
        return ['%s is %s (ansible_facts.architecture): Nomad has Linux releases for %s only, so the collection '
                'cannot install it there. Leave %s out of the play' % (host, machine, ' and '.join(supported), host)]
    if wanted not in supported:
        return ["nomad_architecture for %s is '%s': use %s, or leave it unset (it is detected per host)"
                % (host, wanted, ' or '.join(supported))]
    if wanted != expected:
        return ["%s is %s, which needs the %s release, but nomad_architecture for it is '%s': remove that override "
                "(the architecture is detected per host) or set it to '%s'" % (host, machine, expected, wanted, expected)]
    return []
