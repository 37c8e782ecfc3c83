# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Checks of single inputs that preflight runs on the controller, before any host changes."""

from __future__ import annotations

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.hardened.nomad.plugins.module_utils import _acl, _gossip, _inputs, _release_key, _versions


def nomad_gossip_key_problems(key, variable='nomad_gossip_key'):
    """[] for an empty key (one is generated) or a key Nomad takes; else one sentence, never the key."""
    if key is None or str(key) == '':
        return []
    try:
        _gossip.key_size(str(key), variable)
    except _gossip.GossipKeyError as exc:
        return ['%s. Make one with `nomad operator gossip keyring generate` (or `openssl rand -base64 32`), or '
                'leave %s empty and the collection generates and keeps one' % (exc, variable)]
    return []


def nomad_renewal_problems(renew_before_days, valid_days, renew_variable='nomad_tls_renew_before_days',
                           valid_variable='nomad_tls_cert_valid_days'):
    """[] when a fresh certificate is not due for renewal at once; else one sentence with both numbers."""
    renew, valid = int(renew_before_days), int(valid_days)
    if renew < valid:
        return []
    return ['%s is %d but %s is %d: a new certificate would be due for renewal the day it is made, so every run '
            'would reissue every certificate and reload every agent. Make %s smaller than %s (default 30 of 365)'
            % (renew_variable, renew, valid_variable, valid, renew_variable, valid_variable)]


def nomad_release_key(path, variable='nomad_release_gpg_key'):
    """dict(fingerprints, problems) of the release signing key file on the controller."""
    return _release_key.inspect(str(path or ''), variable)


def nomad_rotation_token_names(names):
    """The names in names that token rotation uses for itself (management-<time>, <name>.retiring)."""
    return [name for name in names
            if name.startswith(_acl.MANAGEMENT_NAME_PREFIX) or name.endswith(_acl.RETIRING_SUFFIX)]


def nomad_host_problems(settings, host, roles):
    """Every problem of one host's settings, one sentence per bad value; [] when all are good.

    ``settings`` maps the variable names to their values for this host; ``roles`` names the roles of
    the collection in the play. A variable of a role that is not in the play is not checked (its
    value, left undefined, arrives here as None or, on ansible-core before 2.19, as ''), as the
    preflight checks only the roles loaded with it. ``architecture`` is the machine the facts report.
    """
    roles = set(roles or [])
    problems = []
    if 'install' in roles:
        problems += _inputs.architecture_problems(settings.get('architecture'), settings.get('nomad_architecture'), host)
    version_settings = {'nomad_tls_min_version': settings['nomad_tls_min_version']} if 'agent' in roles else {}
    problems += _versions.problems(str(settings.get('nomad_version'))[:40], version_settings, 'nomad_version')
    problems += _inputs.region_problems(settings.get('nomad_region'))
    problems += _inputs.rolling_problems(settings.get('nomad_client_rolling_batch'),
                                         settings.get('nomad_client_max_fail_percentage'))
    problems += _inputs.datacenter_problems(settings.get('nomad_datacenter'))
    problems += _inputs.address_problems(settings.get('nomad_advertise_address'), host)
    firewall = 'firewall' in roles and boolean(settings.get('nomad_firewall_enabled'), strict=False)
    if firewall:
        problems += _inputs.cidr_problems({
            'nomad_firewall_http_cidrs': settings.get('nomad_firewall_http_cidrs'),
            'nomad_firewall_http_extra_cidrs': settings.get('nomad_firewall_http_extra_cidrs')})
    if 'agent' in roles:
        problems += _inputs.tls_problems(settings.get('nomad_tls_min_version'), settings.get('nomad_tls_cipher_suites'),
                                         settings.get('nomad_preflight_allowed_tls_versions') or [],
                                         settings.get('nomad_preflight_allowed_cipher_suites') or [])
    problems += _inputs.loopback_problems(settings.get('nomad_http_bind_address') if 'agent' in roles else None,
                                          firewall, settings.get('nomad_firewall_http_cidrs'),
                                          settings.get('nomad_firewall_http_extra_cidrs'))
    if 'agent' in roles:
        problems += nomad_gossip_key_problems(settings.get('nomad_gossip_key'))
    if 'tls' in roles:
        problems += nomad_renewal_problems(settings.get('nomad_tls_renew_before_days'),
                                           settings.get('nomad_tls_cert_valid_days'))
    return problems


def nomad_acl_problems(policies, tokens):
    """Every problem of the ACL policies and tokens the acl role will create, one sentence each."""
    return (_inputs.acl_problems(policies, tokens, nomad_rotation_token_names)
            + _inputs.policy_problems(policies))


class FilterModule:
    def filters(self):
        return {
            'nomad_gossip_key_problems': nomad_gossip_key_problems,
            'nomad_renewal_problems': nomad_renewal_problems,
            'nomad_release_key': nomad_release_key,
            'nomad_rotation_token_names': nomad_rotation_token_names,
            'nomad_host_problems': nomad_host_problems,
            'nomad_acl_problems': nomad_acl_problems,
        }
