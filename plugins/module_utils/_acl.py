# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Nomad ACLs: the CRUD base for ACL objects, tokens, the token naming scheme, Go durations,
and the multi-step operations on them (token rotation, bootstrap, bootstrap reset).

Private to the collection. Everything here runs inside a ``NomadModule`` (plugins/module_utils/_module.py):
failures are ``ModuleFailure`` with a message that says what to do, and never holds a secret.
"""

from __future__ import annotations

import copy
import datetime
import os
import re
import time
import uuid

from ansible_collections.hardened.nomad.plugins.module_utils._api import NomadError, path_quote
from ansible_collections.hardened.nomad.plugins.module_utils._files import FileWriteError, write_file_atomic
from ansible_collections.hardened.nomad.plugins.module_utils._module import ModuleFailure

# -- the token naming scheme -------------------------------------------------------------------

# Nomad names the token of a bootstrap (and of a bootstrap reset) so.
BOOTSTRAP_TOKEN_NAME = 'Bootstrap Token'
# A rotated management token is named after the UTC time it was made: management-20260822T101530Z.
MANAGEMENT_NAME_PREFIX = 'management-'
MANAGEMENT_TIME_FORMAT = '%Y%m%dT%H%M%SZ'
# The management tokens this collection makes (and may therefore delete when it replaces them).
COLLECTION_MANAGEMENT_NAME_RE = re.compile(r'^(Bootstrap Token|management-[0-9]{8}T[0-9]{6}Z)$')
# During a rotation the old token of <name> is renamed <name>.retiring (its secret keeps working).
RETIRING_SUFFIX = '.retiring'


def management_token_name(now=None):
    """The name of a new management token: management-<UTC time>."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return MANAGEMENT_NAME_PREFIX + now.strftime(MANAGEMENT_TIME_FORMAT)


def is_collection_management_token(stub):
    """True for a management token this collection made (the bootstrap token or management-<time>)."""
    return stub.get('Type') == 'management' and bool(COLLECTION_MANAGEMENT_NAME_RE.match(stub.get('Name') or ''))


def retiring_name(name):
    return name + RETIRING_SUFFIX


# -- Go durations and Nomad times --------------------------------------------------------------

_DURATION_UNITS_NS = {'ns': 1, 'us': 10 ** 3, '\u00b5s': 10 ** 3, 'ms': 10 ** 6, 's': 10 ** 9, 'm': 60 * 10 ** 9,
                      'h': 3600 * 10 ** 9}
_DURATION_RE = re.compile(r'^(\d+(?:\.\d+)?(?:ns|us|\u00b5s|ms|s|m|h))+$')
_DURATION_PART_RE = re.compile(r'(\d+(?:\.\d+)?)(ns|us|\u00b5s|ms|s|m|h)')
_TIME_RE = re.compile(r'^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d+)?(Z|[+-]\d\d:\d\d)$')


def duration_ns(text):
    """Nanoseconds of a Go duration ("720h", "1h30m"); 0 for empty. ValueError when malformed."""
    if text in (None, '', '0', '0s'):
        return 0
    if isinstance(text, (int, float)):
        return int(text)
    if not _DURATION_RE.match(text):
        raise ValueError(text)
    return int(sum(float(number) * _DURATION_UNITS_NS[unit] for number, unit in _DURATION_PART_RE.findall(text)))


def go_duration(ns):
    """Go's Duration.String() for whole seconds ("720h0m0s"); None for no expiration."""
    if not ns:
        return None
    if ns % 10 ** 9:
        return '%dns' % ns
    seconds = ns // 10 ** 9
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return '%dh%dm%ds' % (hours, minutes, seconds)
    if minutes:
        return '%dm%ds' % (minutes, seconds)
    return '%ds' % seconds


def parse_time(text):
    """An aware datetime from Nomad's RFC 3339 time, or None for none / Go's zero time."""
    match = _TIME_RE.match(text or '')
    if not match:
        return None
    moment = datetime.datetime.strptime(match.group(1), '%Y-%m-%dT%H:%M:%S')
    if moment.year <= 1:
        return None
    zone = match.group(2)
    offset = datetime.timedelta(0)
    if zone != 'Z':
        sign = 1 if zone[0] == '+' else -1
        offset = sign * datetime.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    return moment.replace(tzinfo=datetime.timezone(offset))


def is_expired(token, now=None):
    expires = parse_time(token.get('ExpirationTime'))
    return expires is not None and expires <= (now or datetime.datetime.now(datetime.timezone.utc))


# -- what a secret is worth: GET /v1/acl/token/self ---------------------------------------------

def acl_disabled_error(exc):
    return ModuleFailure('ACLs are disabled on the Nomad agent at the address (%s): set acl { enabled = true } '
                         'on every server and client and restart them' % exc.message)


def token_self(client, secret):
    """The token Nomad has for this secret, or None when Nomad refuses the secret."""
    if not secret:
        return None
    try:
        token = client.get('/v1/acl/token/self', token=secret)
    except NomadError as exc:
        if 'ACL support disabled' in (exc.body or ''):
            raise acl_disabled_error(exc)
        # 1.11 answers an unknown secret with 403, 1.6 with 404.
        if exc.status in (403, 404):
            return None
        raise
    return token if isinstance(token, dict) else None


def management_token(client, secret):
    """The token for this secret when it is a management token, else None."""
    token = token_self(client, secret)
    if token is not None and token.get('Type') == 'management':
        return token
    return None


def wait_for_token(client, secret, timeout, wanted_type=None):
    """The token once its secret works (a new token reaches the other servers through Raft), else None."""
    deadline = time.monotonic() + timeout
    while True:
        token = token_self(client, secret)
        if token is not None and wanted_type in (None, token.get('Type')):
            return token
        if time.monotonic() >= deadline:
            return None
        time.sleep(1)


def wait_until_refused(client, secret, timeout):
    """True once Nomad refuses the secret, False if it still works after timeout seconds."""
    deadline = time.monotonic() + timeout
    while token_self(client, secret) is not None:
        if time.monotonic() >= deadline:
            return False
        time.sleep(1)
    return True


# -- the CRUD base -----------------------------------------------------------------------------

def acl_object_spec(own_options):
    """A module's options plus state; NomadModule adds the connection options."""
    spec = copy.deepcopy(own_options)
    spec['state'] = dict(type='str', default='present', choices=['present', 'absent'])
    return spec


class NomadACLObject:
    """Subclasses implement read(), create(), update(existing), delete(existing), view(obj).

    read() returns the object as Nomad has it, or None when it does not exist.
    view(obj) returns what the diff and comparison show; wanted_view() what the task asks for.
    ``params`` defaults to the module's; an operation that manages several objects passes each one's.
    """

    def __init__(self, module, params=None):
        self.module = module
        self.params = module.params if params is None else params

    @property
    def client(self):
        return self.module.client

    # -- to implement ------------------------------------------------------------------------

    def read(self):
        raise NotImplementedError

    def create(self):
        raise NotImplementedError

    def update(self, existing):
        raise NotImplementedError

    def delete(self, existing):
        raise NotImplementedError

    def view(self, obj):
        raise NotImplementedError

    def wanted_view(self):
        raise NotImplementedError

    def result(self, obj):
        """Extra return values for the object after the run (None when absent or only predicted)."""
        return {}

    def gone_result(self, gone):
        """Return values describing a deleted object."""
        return {}

    def validate(self):
        """Check the options before any call; raise ModuleFailure."""

    def check_update_allowed(self, existing):
        """Raise ModuleFailure when the wanted change cannot be made in place."""

    # -- the flow ----------------------------------------------------------------------------

    def needs_update(self, existing):
        return self.view(existing) != self.wanted_view()

    def run(self):
        """The whole module: validate, then read -> compare -> write; exit_json or fail_json."""
        self.module.run(lambda module: self.apply())

    def apply(self):
        self.validate()
        return self._apply()

    def _apply(self):
        check_mode = self.module.check_mode
        # Check mode before the run's TLS files exist: the cluster it sets up has no ACL objects yet.
        pending = self.module.pending_connection_files()
        existing = None if pending else self.read()
        before = self.view(existing) if existing is not None else {}
        result = self._decide(check_mode, existing, before)
        if pending:
            result['msg'] = self.module.prediction_note(pending)
        return result

    def _decide(self, check_mode, existing, before):
        if self.params['state'] == 'absent':
            if existing is None:
                return self._result(False, None, before, {})
            if not check_mode:
                self.delete(existing)
            return self._result(True, None, before, {}, gone=existing)

        if existing is None:
            after = self.wanted_view()
            current = None if check_mode else self.create()
            return self._result(True, current, before, after)

        if not self.needs_update(existing):
            return self._result(False, existing, before, before)
        self.check_update_allowed(existing)
        after = self.wanted_view()
        current = existing if check_mode else self.update(existing)
        # In check mode the returned object is the unchanged one; the diff shows the prediction.
        return self._result(True, current, before, after)

    def _result(self, changed, current, before, after, gone=None):
        result = dict(changed=changed)
        if current is not None:
            result.update(self.result(current))
        elif gone is not None:
            result.update(self.gone_result(gone))
        if self.module._diff:
            result['diff'] = dict(before=before, after=after)
        return result


# -- tokens ------------------------------------------------------------------------------------

IMMUTABLE_TOKEN_FIELDS = ('type', 'global', 'expiration_ttl')

# The options of one token (acl_token's own, and each entry of acl_token_rotate's tokens).
TOKEN_OPTIONS = dict(
    name=dict(type='str', required=True),
    type=dict(type='str', default='client', choices=['client', 'management']),
    policies=dict(type='list', elements='str', default=[]),
    expiration_ttl=dict(type='str'),
    recreate=dict(type='bool', default=False),
    **{'global': dict(type='bool', default=False)}
)


def token_stubs(client):
    return client.get('/v1/acl/tokens') or []


def named(stubs, name):
    return [stub for stub in stubs if stub.get('Name') == name]


def read_token(client, accessor):
    return client.get('/v1/acl/token/' + path_quote(accessor))


def delete_token(client, accessor):
    client.delete('/v1/acl/token/' + path_quote(accessor))


class ACLToken(NomadACLObject):
    def validate(self):
        params = self.params
        if not params['name'].strip():
            raise ModuleFailure('name must not be empty')
        if params['state'] == 'absent':
            return
        if params['type'] == 'client' and not params['policies']:
            raise ModuleFailure('policies are required for a client token')
        if params['type'] == 'management' and params['policies']:
            raise ModuleFailure('policies must be empty for a management token (it may do anything)')
        try:
            duration_ns(params['expiration_ttl'])
        except ValueError:
            raise ModuleFailure('expiration_ttl %r is not a Go duration like "720h" or "1h30m"'
                                % params['expiration_ttl'])

    def read(self):
        matches = named(token_stubs(self.client), self.params['name'])
        if not matches:
            return None
        if len(matches) > 1:
            raise ModuleFailure('%d tokens are named %s (accessor IDs: %s); names must be unique for this module. '
                                'Delete or rename all but one'
                                % (len(matches), self.params['name'], ', '.join(stub['AccessorID'] for stub in matches)))
        return read_token(self.client, matches[0]['AccessorID'])

    def create(self):
        body = dict(Name=self.params['name'], Type=self.params['type'], Policies=self.params['policies'],
                    Global=self.params['global'])
        if self.params['expiration_ttl']:
            body['ExpirationTTL'] = self.params['expiration_ttl']
        return self.client.post('/v1/acl/token', body=body)

    def update(self, existing):
        if self.immutable_changes(existing) or is_expired(existing):
            self.delete(existing)
            return self.create()
        body = dict(AccessorID=existing['AccessorID'], Name=existing['Name'], Type=existing['Type'],
                    Policies=self.params['policies'], Global=existing.get('Global', False),
                    # Keep role links made outside this module; Nomad would drop them otherwise.
                    Roles=[dict(ID=role['ID']) for role in existing.get('Roles') or []])
        if existing.get('ExpirationTTL') or existing.get('ExpirationTime'):
            # Nomad refuses an update that does not repeat the token's expiration unchanged.
            body.update(ExpirationTTL=existing.get('ExpirationTTL'), ExpirationTime=existing.get('ExpirationTime'))
        return self.client.post('/v1/acl/token/' + path_quote(existing['AccessorID']), body=body)

    def delete(self, existing):
        delete_token(self.client, existing['AccessorID'])

    def view(self, obj):
        return dict(name=obj.get('Name'), type=obj.get('Type'), policies=sorted(obj.get('Policies') or []),
                    **{'global': bool(obj.get('Global')),
                       'expiration_ttl': go_duration(duration_ns(obj.get('ExpirationTTL')))})

    def wanted_view(self):
        params = self.params
        return dict(name=params['name'], type=params['type'], policies=sorted(set(params['policies'])),
                    **{'global': params['global'],
                       'expiration_ttl': go_duration(duration_ns(params['expiration_ttl']))})

    def immutable_changes(self, existing):
        have, want = self.view(existing), self.wanted_view()
        return ['%s from %s to %s' % (field, have[field], want[field])
                for field in IMMUTABLE_TOKEN_FIELDS if have[field] != want[field]]

    def needs_update(self, existing):
        return super().needs_update(existing) or is_expired(existing)

    def check_update_allowed(self, existing):
        changes = self.immutable_changes(existing)
        if changes and not self.params['recreate'] and not is_expired(existing):
            # Nomad cannot change global or expiration in place; a type change in place would give a
            # secret already handed out other rights, so the module does not do that either.
            raise ModuleFailure('token %s (accessor %s) would change %s, which cannot be changed in place. '
                                'Set recreate: true to delete it and make a new token (with a new secret)'
                                % (self.params['name'], existing['AccessorID'], ', '.join(changes)))

    def result(self, obj):
        token = dict((key, value) for key, value in obj.items() if key != 'SecretID')
        return dict(name=self.params['name'], accessor_id=obj.get('AccessorID'), secret_id=obj.get('SecretID'),
                    token=token)

    def gone_result(self, gone):
        return dict(name=self.params['name'], accessor_id=gone.get('AccessorID'))


# -- token rotation ----------------------------------------------------------------------------

def require_management(client, secret, what='the management token given as token'):
    """The management token of this secret; fails before any change when it is none."""
    if not secret:
        raise ModuleFailure('no management token was given (token is empty): the acl role reads it from '
                            'nomad_secrets_dir/tokens/management.token, nomad_acl_bootstrap_secret or '
                            'acl-bootstrap.secret. Run playbooks/site.yml first, or playbooks/acl_bootstrap_reset.yml '
                            'if the token is lost')
    token = management_token(client, secret)
    if token is None:
        raise ModuleFailure('%s is not a valid management token (Nomad refuses it or it is a client token). If it is '
                            'lost, run playbooks/acl_bootstrap_reset.yml first' % what)
    return token


class TokenRotation:
    """Gives tokens new secrets in two calls, so that the caller can store each new secret in between.

    rotate(): the old token of <name> is renamed <name>.retiring (its secret keeps working), a new token
    <name> is made and checked; the management token gets a new management-<time> token. finish(): the
    <name>.retiring tokens and the earlier management tokens are deleted and their secrets checked to be
    refused. A run that stops in between is resumed: rotate() keeps a <name> it finds beside a
    <name>.retiring, and finish() deletes what an earlier run left.
    """

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.check_mode = module.check_mode
        self.timeout = self.params['verify_timeout']

    @property
    def client(self):
        return self.module.client

    # -- choosing -------------------------------------------------------------------------------

    def specs(self):
        """The token entries to rotate: the present ones of tokens, narrowed to names when given."""
        present = [dict(entry, state='present') for entry in self.params['tokens']
                   if entry.get('state') in (None, 'present')]
        names = self.params['names']
        if names is None:
            return present
        wanted = [name.strip() for name in names if name and name.strip()]
        known = [entry['name'] for entry in present]
        unknown = [name for name in wanted if name not in known]
        if unknown:
            raise ModuleFailure('names lists %s, which %s not among the present tokens of tokens (%s; in the acl role '
                                'nomad_acl_rotate_tokens and nomad_acl_tokens): only tokens this collection manages '
                                'are rotated' % (', '.join(unknown), 'is' if len(unknown) == 1 else 'are',
                                                 ', '.join(known) or 'none'))
        return [entry for entry in present if entry['name'] in wanted]

    def plan(self, specs):
        """(spec, current stub, retiring stub) per token, checked before any change."""
        stubs = token_stubs(self.client)
        plan = []
        for spec in specs:
            try:
                ACLToken(self.module, spec).validate()
            except ModuleFailure as exc:
                raise ModuleFailure('token %s of tokens: %s. Nothing was changed' % (spec['name'], exc.message))
            current, retiring = named(stubs, spec['name']), named(stubs, retiring_name(spec['name']))
            if len(current) > 1 or len(retiring) > 1:
                raise ModuleFailure('several tokens in Nomad are named %s or %s (accessor IDs %s): delete all but '
                                    'one with `nomad acl token delete`. Nothing was changed'
                                    % (spec['name'], retiring_name(spec['name']),
                                       ', '.join(stub['AccessorID'] for stub in current + retiring)))
            for policy in spec['policies'] if spec['type'] == 'client' else []:
                self.require_policy(spec['name'], policy)
            plan.append((spec, current[0] if current else None, retiring[0] if retiring else None))
        return plan

    def require_policy(self, token_name, policy):
        try:
            self.client.get('/v1/acl/policy/' + path_quote(policy))
        except NomadError as exc:
            if exc.status != 404:
                raise
            raise ModuleFailure('token %s names the policy %s, which Nomad does not have: add it to '
                                'nomad_acl_policies and run playbooks/site.yml. Nothing was changed'
                                % (token_name, policy))

    # -- rotate ---------------------------------------------------------------------------------

    def rotate(self):
        caller = require_management(self.client, self.params['token'])
        result = dict(changed=False, tokens=[])
        plan = self.plan(self.specs())
        if self.params['management']:
            result['management'] = self.rotate_management(caller)
            result['changed'] = True
            # The other tokens are made with the new management token.
            if result['management'].get('secret_id'):
                self.client.token = result['management']['secret_id']
        for spec, current, retiring in plan:
            entry = self.rotate_token(spec, current, retiring)
            result['changed'] = result['changed'] or entry['changed']
            result['tokens'].append(entry)
        return result

    def rotate_management(self, caller):
        name = self.free_management_name()
        entry = dict(name=name, old_accessor_id=caller['AccessorID'])
        if self.check_mode:
            return entry
        body = dict(Name=name, Type='management', Global=bool(caller.get('Global')))
        made = self.client.post('/v1/acl/token', body=body)
        entry['accessor_id'] = made['AccessorID']
        if wait_for_token(self.client, made['SecretID'], self.timeout, 'management') is None:
            raise ModuleFailure('the new management token %s (accessor %s) does not work after %d seconds. Nothing was '
                                'deleted or written; the stored management token still works: run again'
                                % (name, made['AccessorID'], self.timeout))
        entry['secret_id'] = made['SecretID']
        return entry

    def free_management_name(self, attempts=3):
        """management-<UTC time> not yet taken: a second rotation within the same second waits for the next one."""
        for attempt in range(attempts):
            name = management_token_name()
            if not named(token_stubs(self.client), name):
                return name
            if attempt + 1 < attempts:
                time.sleep(1.0 - (time.time() % 1.0) + 0.01)
        raise ModuleFailure('a token named %s already exists, so no new management token was made: run again in '
                            'a second. Nothing was changed; the stored management token still works' % name)

    def rotate_token(self, spec, current, retiring):
        name = spec['name']
        entry = dict(name=name, changed=False)
        old = retiring or current
        if old is not None:
            entry['old_accessor_id'] = old['AccessorID']
        if retiring is None and current is not None:
            entry['changed'] = True
            if self.check_mode:
                # The rename would free the name: the new token is made.
                return entry
            # Nomad keeps the secret, type, policies and expiry of an updated token.
            full = read_token(self.client, current['AccessorID'])
            self.client.post('/v1/acl/token/' + path_quote(current['AccessorID']),
                             body=dict(full, Name=retiring_name(name)))
        # <name> is missing now, or (a resumed run) the new token an interrupted run made.
        made = ACLToken(self.module, spec)._apply()
        entry['changed'] = entry['changed'] or made['changed']
        if self.check_mode:
            return entry
        if wait_for_token(self.client, made['secret_id'], self.timeout) is None:
            raise ModuleFailure('the new token %s (accessor %s) does not work after %d seconds. The old token is kept as '
                                '%s with its secret, and its secret file is unchanged: run again'
                                % (name, made['accessor_id'], self.timeout, retiring_name(name)))
        entry.update(accessor_id=made['accessor_id'], secret_id=made['secret_id'])
        return entry

    # -- finish ---------------------------------------------------------------------------------

    def finish(self):
        caller = require_management(self.client, self.params['token'],
                                    'the management token given as token (the new one, once stored)')
        specs = self.specs()
        stubs = token_stubs(self.client)
        deleted = []
        for spec in specs:
            deleted.extend(self.finish_token(spec['name'], stubs))
        if self.params['management']:
            deleted.extend(self.retire_management(caller, stubs))
        return dict(changed=bool(deleted), deleted=deleted)

    def finish_token(self, name, stubs):
        retiring = named(stubs, retiring_name(name))
        if not retiring:
            return []
        if len(retiring) > 1 or len(named(stubs, name)) != 1:
            raise ModuleFailure('%s is kept: Nomad has %d tokens named %s and %d named %s, and it deletes the retiring '
                                'token only beside exactly one new token. Run the rotation (state=rotated) first, or '
                                'delete the extra tokens with `nomad acl token delete`'
                                % (retiring_name(name), len(named(stubs, name)), name, len(retiring),
                                   retiring_name(name)))
        old = read_token(self.client, retiring[0]['AccessorID'])
        gone = dict(name=retiring_name(name), accessor_id=old['AccessorID'])
        if self.check_mode:
            return [gone]
        delete_token(self.client, old['AccessorID'])
        if not wait_until_refused(self.client, old['SecretID'], self.timeout):
            raise ModuleFailure('the old secret of %s still works although %s was deleted and the new secret is '
                                'stored: delete the token with `nomad acl token delete %s`'
                                % (name, retiring_name(name), old['AccessorID']))
        return [gone]

    def retire_management(self, caller, stubs):
        old = management_token(self.client, self.params['old_secret'])
        doomed = [stub for stub in stubs if stub.get('Type') == 'management'
                  and stub['AccessorID'] != caller['AccessorID']
                  and (is_collection_management_token(stub) or (old is not None and stub['AccessorID'] == old['AccessorID']))]
        gone = [dict(name=stub.get('Name'), accessor_id=stub['AccessorID']) for stub in doomed]
        if self.check_mode:
            return gone
        failed = []
        for stub in doomed:
            try:
                delete_token(self.client, stub['AccessorID'])
            except NomadError as exc:
                if exc.status != 404:  # gone meanwhile is what we want
                    failed.append('%s %s (%s)' % (stub.get('Name'), stub['AccessorID'], exc.message))
        if failed:
            raise ModuleFailure('the new management token is in place, but deleting %s failed: delete them with '
                                '`nomad acl token delete`' % ', '.join(failed))
        if old is not None and old['AccessorID'] != caller['AccessorID'] \
                and not wait_until_refused(self.client, self.params['old_secret'], self.timeout):
            raise ModuleFailure('the old management token still works (accessor %s) although the new one is stored: '
                                'delete it with `nomad acl token delete %s`' % (old['AccessorID'], old['AccessorID']))
        return gone


# -- bootstrap and its reset -------------------------------------------------------------------

UUID_RE = re.compile(r'^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')
RESET_INDEX_RE = re.compile(r'reset index: (\d+)')
RESET_FILE = os.path.join('server', 'acl-bootstrap-reset')


def reset_index(text):
    """The reset index in Nomad's "ACL bootstrap already done (reset index: N)" answer, or None."""
    match = RESET_INDEX_RE.search(text or '')
    return int(match.group(1)) if match else None


def reset_instructions(index, data_dir):
    return ('To bootstrap again, write %s to %s/server/acl-bootstrap-reset on the leader, run the bootstrap again, '
            'then delete that file' % (index, data_dir or '<data_dir>'))


def token_result(token, **extra):
    return dict(extra, accessor_id=token['AccessorID'], secret_id=token['SecretID'])


def post_bootstrap(client, secret):
    """POST /v1/acl/bootstrap: (token, None), or (None, (reset index, Nomad's text)) when already done."""
    try:
        return client.post('/v1/acl/bootstrap', body=dict(BootstrapSecret=secret)), None
    except NomadError as exc:
        text = exc.body or exc.message
        if 'ACL support disabled' in text:
            raise acl_disabled_error(exc)
        index = reset_index(text)
        if exc.status != 400 or index is None:
            raise
        return None, (index, text)


def bootstrap(module):
    """Bootstrap with bootstrap_secret, or prove it was done with it (state=present)."""
    params, client = module.params, module.client
    secret = params['bootstrap_secret']
    result = dict(leader=client.wait_for_leader(params['leader_timeout']))

    if secret is not None:
        token = management_token(client, secret)
        if token is not None:
            return token_result(token, changed=False, **result)
    if module.check_mode:
        return dict(result, changed=True)

    token, done = post_bootstrap(client, secret or str(uuid.uuid4()))
    if token is not None:
        # The reset index of a bootstrap is the Raft index that wrote its token.
        if token.get('CreateIndex'):
            result['reset_index'] = token['CreateIndex']
        return token_result(token, changed=True, **result)
    index, text = done
    if 'Invalid bootstrap reset index' in text:
        raise ModuleFailure('the acl-bootstrap-reset file on the leader holds the wrong index (%s). %s'
                            % (text, reset_instructions(index, params['data_dir'])))
    if secret is None:
        reason = 'no bootstrap_secret was given, so this run cannot prove the bootstrap was its own'
    else:
        # Another run may have bootstrapped with this very secret since the check above.
        token = management_token(client, secret)
        if token is not None:
            return token_result(token, changed=False, reset_index=index, **result)
        reason = 'the given bootstrap_secret is not a valid management token'
    raise ModuleFailure('the ACL bootstrap was already done (reset index: %d) and %s. %s'
                        % (index, reason, reset_instructions(index, params['data_dir'])))


class BootstrapReset:
    """A new management token when the stored one is lost (state=reset), run ON THE LEADER.

    Nothing is done while stored_secret works (unless force). bootstrap_secret is the new secret, kept
    by the caller before the call (acl-bootstrap.secret.next), so a run that stops half-way is finished
    with it: a bootstrap_secret that already is a management token is returned as it is. Otherwise the
    reset index is read from Nomad's answer, written to <data_dir>/server/acl-bootstrap-reset (0600, the
    owner of <data_dir>/server: the agent's user), the bootstrap is made with the new secret and the reset
    file is removed, also on failure. The new token is checked before it is returned.
    """

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.client = module.client
        self.path = os.path.join(self.params['data_dir'] or '', RESET_FILE)

    def run(self):
        params, client = self.params, self.client
        pending = management_token(client, params['bootstrap_secret'])
        stored = management_token(client, params['stored_secret'])
        if pending is not None and (stored is None or stored['AccessorID'] != pending['AccessorID']):
            # An interrupted run bootstrapped already: its token is what the caller must store.
            if self.module.check_mode:
                return dict(changed=True, reset=False, accessor_id=pending['AccessorID'])
            return token_result(pending, changed=True, reset=False)
        if stored is not None and not params['force']:
            return dict(changed=False, reset=False, accessor_id=stored['AccessorID'])
        if self.module.check_mode:
            return dict(changed=True, reset=True)
        if not params['bootstrap_secret']:
            raise ModuleFailure('bootstrap_secret is required with state=reset: the new secret (a UUID), kept before '
                                'the reset so that an interrupted run is finished with it')
        if not params['data_dir']:
            raise ModuleFailure('data_dir is required with state=reset: the reset file goes to '
                                '<data_dir>/server/acl-bootstrap-reset on the leader')
        leader = client.wait_for_leader(params['leader_timeout'])
        if params['leader'] and leader != params['leader']:
            raise ModuleFailure('the leader changed from %s to %s since it was looked up: run again'
                                % (params['leader'], leader))
        token, done = post_bootstrap(client, params['bootstrap_secret'])
        index = None
        if token is None:
            index = done[0]
            token = self.bootstrap_with_reset_file(index)
        if wait_for_token(client, params['bootstrap_secret'], params['verify_timeout'], 'management') is None:
            raise ModuleFailure('the bootstrap answered, but the new secret is not a working management token after %d '
                                'seconds; nothing else was changed: run again (with the same bootstrap_secret)'
                                % params['verify_timeout'])
        result = token_result(token, changed=True, reset=True, leader=leader)
        if index is not None:
            result['reset_index'] = index
        return result

    def bootstrap_with_reset_file(self, index):
        directory = os.path.dirname(self.path)
        try:
            owner = os.stat(directory)
        except OSError as exc:
            raise ModuleFailure('the reset file must go to %s, but %s cannot be read (%s): is this the leader, and is '
                                'data_dir the agent\'s data_dir?' % (self.path, directory, exc.strerror))
        try:
            write_file_atomic(self.path, ('%d' % index).encode(), mode=0o600, uid=owner.st_uid, gid=owner.st_gid)
        except (FileWriteError, OSError) as exc:
            raise ModuleFailure('could not write the reset file %s: %s' % (self.path, exc))
        try:
            token, done = post_bootstrap(self.client, self.params['bootstrap_secret'])
        finally:
            left = self.remove_reset_file()
        if left:
            raise ModuleFailure('the reset file %s could not be removed (%s): remove it by hand, else anyone with '
                                'API access can bootstrap again' % (self.path, left))
        if token is None:
            raise ModuleFailure('the bootstrap failed although the reset file %s was written (%s); the file was '
                                'removed. If the leader changed meanwhile, run again: the same bootstrap_secret is '
                                'used' % (self.path, done[1]))
        return token

    def remove_reset_file(self):
        """None when the reset file is gone, else why it is not."""
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            return exc.strerror
        return None


def check_bootstrap_secret(secret, option='bootstrap_secret'):
    """Fail before any call when the secret is not a UUID, without echoing it."""
    if secret is not None and not UUID_RE.match(secret):
        raise ModuleFailure('%s must be a UUID like 9f7c2a51-6b2e-4f0b-9d1e-3c5a7b8d0e4f (got %d characters that are '
                            'not one)' % (option, len(secret)))
