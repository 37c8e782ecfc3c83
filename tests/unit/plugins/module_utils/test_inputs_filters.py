# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The preflight filters of plugins/filter/inputs.py."""

from __future__ import annotations

import base64

from ansible_collections.hardened.nomad.plugins.filter import inputs


def key(size):
    return base64.b64encode(b'k' * size).decode()


def test_valid_and_empty_gossip_keys_pass():
    for size in (16, 24, 32):
        assert inputs.nomad_gossip_key_problems(key(size)) == []
    assert inputs.nomad_gossip_key_problems('') == [] and inputs.nomad_gossip_key_problems(None) == []


def test_a_20_byte_key_fails_naming_the_variable_not_the_key():
    [problem] = inputs.nomad_gossip_key_problems(key(20))
    assert problem.startswith('nomad_gossip_key decodes to 20 bytes; Nomad needs 16, 24 or 32 bytes')
    assert key(20) not in problem and 'leave nomad_gossip_key empty' in problem


def test_url_safe_base64_fails():
    assert 'not valid standard base64' in inputs.nomad_gossip_key_problems(key(32).replace('a', '-'))[0]


def test_renewal_window_gives_both_numbers():
    assert inputs.nomad_renewal_problems(30, 365) == []
    assert inputs.nomad_renewal_problems('364', '365') == []
    [problem] = inputs.nomad_renewal_problems(400, 365)
    assert problem.startswith('nomad_tls_renew_before_days is 400 but nomad_tls_cert_valid_days is 365')
    assert inputs.nomad_renewal_problems(365, 365)


def test_the_filters_are_registered():
    assert sorted(inputs.FilterModule().filters()) == ['nomad_acl_problems', 'nomad_gossip_key_problems',
                                                       'nomad_host_problems', 'nomad_release_key',
                                                       'nomad_renewal_problems', 'nomad_rotation_token_names']


def test_rotation_token_names_are_the_modules_own():
    names = ['ci', 'management-ci', 'ci.retiring', 'retiring', 'management', 'ci.retiring.old']
    assert inputs.nomad_rotation_token_names(names) == ['management-ci', 'ci.retiring']
    assert inputs.nomad_rotation_token_names([]) == []
