# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""THE version table: what each Nomad release accepts, in one place.

Private to the collection. Templates read it through the ``nomad_features`` filter and the preflight
through ``nomad_version_problems`` (plugins/filter/versions.py). docs/versions.md documents every row (a unit test keeps the two in step).
"""

from __future__ import annotations

import re

# The oldest release the collection renders a configuration for, and the newest the table was
# checked against (the default nomad_version of hardened.nomad.common).
MINIMUM_VERSION = '1.6.0'
NEWEST_COVERED = '2.0.5'

_VERSION_RE = re.compile(r'^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.]+))?(?:\+[0-9A-Za-z.]+)?$')


class Feature:
    """One version-dependent piece: a setting we render, a unit line or an API call we make.

    ``variable``/``needed`` name the user setting that requires the feature: ``needed(value)`` is
    true when that value cannot work without it (the preflight then refuses older versions).
    """

    def __init__(self, name, since, what, older, source, variable=None, needed=None):
        self.name = name
        self.since = since
        self.what = what
        self.older = older
        self.source = source
        self.variable = variable
        self.needed = needed


FEATURES = (
    Feature('sd_notify', '1.8.0',
            what='systemd unit `Type=notify` (the agent tells systemd when it is ready)',
            older='`Type=exec`; the roles wait for `/v1/agent/health` (and a leader) after every start',
            source='hashicorp/nomad PR 20528 (1.8.0)'),
    Feature('alloc_mounts_dir', '1.8.0',
            what='`client.alloc_mounts_dir` inside the data dir (the unit keeps its default sibling read-only)',
            older='key not rendered: 1.6/1.7 refuse it (`client unexpected keys alloc_mounts_dir`); they have no '
                  'unveil mounts that would need it',
            source='hashicorp/nomad PR 20115 (unveil, 1.8.0), docs PR 23733'),
    Feature('tls13_minimum', '1.8.3',
            what='`tls.tls_min_version = "tls13"`',
            older='the preflight refuses `nomad_tls_min_version: tls13` (1.6 accepts only tls10, tls11, tls12)',
            source='Nomad 1.8.3 changelog (tls: TLS 1.3 minimum)',
            variable='nomad_tls_min_version', needed=lambda value: value == 'tls13'),
    Feature('leadership_transfer', '1.7.0',
            what='the leader hands its leadership to a server restarted before it '
                 '(`PUT /v1/operator/raft/transfer-leadership`) and restarts once that server leads',
            older='the leader restarts last without a handover: one election (about 2 s measured on 1.6.3), '
                  'during which calls that need the leader fail and are retried by the client',
            source='Nomad 1.7.0 changelog (`nomad operator raft transfer-leadership`)'),
)

_BY_NAME = dict((feature.name, feature) for feature in FEATURES)


class VersionError(ValueError):
    """A version string we cannot use."""


def parse(version):
    """'1.6.3' -> (1, 6, 3). A pre-release sorts before its release: '1.8.0-rc.1' -> (1, 8, -1)."""
    match = _VERSION_RE.match(str(version).strip())
    if not match:
        raise VersionError('%r is not a Nomad release number such as "1.6.3"' % (version,))
    major, minor, patch, pre = match.groups()
    return (int(major), int(minor), int(patch) - (1 if pre else 0))


def at_least(version, since):
    return parse(version) >= parse(since)


def supported(version):
    return at_least(version, MINIMUM_VERSION)


def features(version):
    """{feature name: True/False} for one release. Raises VersionError for an unusable version."""
    if not supported(version):
        raise VersionError('Nomad %s is older than %s, the oldest release hardened.nomad supports'
                           % (version, MINIMUM_VERSION))
    return dict((feature.name, at_least(version, feature.since)) for feature in FEATURES)


def problems(version, settings=None, variable='nomad_version'):
    """Sentences saying why ``version`` cannot be used with ``settings`` ({variable: value}); [] when fine."""
    try:
        parse(version)
    except VersionError:
        return ['%s must be a Nomad release number such as "1.6.3" (quote it in YAML), not %r'
                % (variable, version)]
    if not supported(version):
        return ['%s is %s, older than %s, the oldest release hardened.nomad supports: set %s to %s or newer '
                '(the default is %s)' % (variable, version, MINIMUM_VERSION, variable, MINIMUM_VERSION,
                                         NEWEST_COVERED)]
    found = []
    for feature in FEATURES:
        if feature.variable is None or not settings or feature.variable not in settings:
            continue
        value = settings[feature.variable]
        if feature.needed(value) and not at_least(version, feature.since):
            found.append('%s: %s needs Nomad %s or newer, but %s is %s: raise %s or change %s'
                         % (feature.variable, value, feature.since, variable, version, variable,
                            feature.variable))
    return found
