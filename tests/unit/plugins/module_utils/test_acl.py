# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_acl: the token naming scheme, Go durations, Nomad times, the reset index parser."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.hardened.nomad.plugins.module_utils import _acl


def test_management_token_name_is_the_utc_time():
    moment = datetime.datetime(2026, 8, 22, 10, 15, 30, tzinfo=datetime.timezone.utc)
    assert _acl.management_token_name(moment) == 'management-20260822T101530Z'
    assert _acl.COLLECTION_MANAGEMENT_NAME_RE.match(_acl.management_token_name())


@pytest.mark.parametrize('stub, ours', [
    (dict(Name='Bootstrap Token', Type='management'), True),
    (dict(Name='management-20260822T101530Z', Type='management'), True),
    (dict(Name='management-20260822T101530Z', Type='client'), False),
    (dict(Name='management-2026', Type='management'), False),
    (dict(Name='my-admin', Type='management'), False),
    (dict(Name='readonly', Type='client'), False),
])
def test_collection_management_tokens_are_known_by_name(stub, ours):
    assert _acl.is_collection_management_token(stub) is ours


def test_retiring_name():
    assert _acl.retiring_name('readonly') == 'readonly.retiring'


@pytest.mark.parametrize('text, index', [
    ('ACL bootstrap already done (reset index: 7)', 7),
    ('Invalid bootstrap reset index (specified 3, reset index: 11)', 11),
    ('ACL support disabled', None), ('', None), (None, None),
])
def test_reset_index_is_read_from_nomads_answer(text, index):
    assert _acl.reset_index(text) == index


@pytest.mark.parametrize('text, ns', [
    ('720h', 720 * 3600 * 10 ** 9), ('1h30m', 5400 * 10 ** 9), ('1.5h', 5400 * 10 ** 9), ('90s', 90 * 10 ** 9),
    ('', 0), (None, 0), ('250ms', 250 * 10 ** 6),
])
def test_go_durations_parse(text, ns):
    assert _acl.duration_ns(text) == ns


@pytest.mark.parametrize('bad', ['30 days', '1d', 'h', '1h 30m', '-1h'])
def test_malformed_go_durations_are_refused(bad):
    with pytest.raises(ValueError):
        _acl.duration_ns(bad)


def test_go_duration_strings_match_nomad():
    assert _acl.go_duration(720 * 3600 * 10 ** 9) == '720h0m0s'
    assert _acl.go_duration(90 * 10 ** 9) == '1m30s'
    assert _acl.go_duration(5 * 10 ** 9) == '5s'
    assert _acl.go_duration(0) is None


def test_expiry_times_parse_with_nanoseconds_and_offsets():
    now = datetime.datetime(2026, 6, 1, tzinfo=datetime.timezone.utc)
    assert _acl.is_expired(dict(ExpirationTime='2026-05-31T23:59:59.999999999Z'), now)
    assert _acl.is_expired(dict(ExpirationTime='2026-06-01T01:30:00+02:00'), now)  # 23:30 UTC the day before
    assert not _acl.is_expired(dict(ExpirationTime='2026-06-01T03:30:00+02:00'), now)
    assert not _acl.is_expired(dict(ExpirationTime=None), now)
    assert not _acl.is_expired(dict(ExpirationTime='0001-01-01T00:00:00Z'), now)


class Clock:
    def __init__(self):
        self.now = 0.0

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(_acl.time, 'monotonic', fake.monotonic)
    monkeypatch.setattr(_acl.time, 'sleep', fake.sleep)
    return fake


def test_token_self_refused_secret_is_none_and_acls_off_is_explained(fake_nomad):
    from ansible_collections.hardened.nomad.plugins.module_utils._api import NomadClient
    from ansible_collections.hardened.nomad.plugins.module_utils._module import ModuleFailure
    client = NomadClient()
    token = fake_nomad.add_token('ci', policies=['x'])
    assert _acl.token_self(client, token['SecretID'])['Name'] == 'ci'
    assert _acl.management_token(client, token['SecretID']) is None
    assert _acl.token_self(client, '00000000-0000-4000-8000-000000000000') is None
    assert _acl.token_self(client, '') is None and fake_nomad.calls[-1][3] == '00000000-0000-4000-8000-000000000000'
    fake_nomad.acl_enabled = False
    with pytest.raises(ModuleFailure) as failure:
        _acl.token_self(client, token['SecretID'])
    assert 'acl { enabled = true }' in failure.value.message


def test_waits_poll_until_the_deadline(fake_nomad, clock):
    from ansible_collections.hardened.nomad.plugins.module_utils._api import NomadClient
    client = NomadClient()
    token = fake_nomad.add_token('ci', policies=['x'])
    assert _acl.wait_for_token(client, token['SecretID'], 5)['Name'] == 'ci' and clock.now == 0
    assert _acl.wait_for_token(client, token['SecretID'], 5, 'management') is None and clock.now == 5
    assert _acl.wait_until_refused(client, token['SecretID'], 3) is False and clock.now == 8
    del fake_nomad.tokens[token['AccessorID']]
    assert _acl.wait_until_refused(client, token['SecretID'], 3) is True and clock.now == 8
