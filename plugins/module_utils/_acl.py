# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Base class for modules that keep one Nomad ACL object present or absent.

Private to the collection. A concrete module says how to read, create, update and delete its
object and how to show it; the base class does read -> compare -> write, the diff, check mode
and error reporting.
"""

from __future__ import annotations

import copy

from ansible_collections.hardened.nomad.plugins.module_utils._api import NOMAD_CONNECTION_SPEC, NomadClient, NomadError


class ACLObjectError(Exception):
    """A problem worth a clear message: the module fails with it."""


def module_argument_spec(own_options):
    spec = copy.deepcopy(NOMAD_CONNECTION_SPEC)
    spec.update(own_options)
    spec['state'] = dict(type='str', default='present', choices=['present', 'absent'])
    return spec


class NomadACLObject:
    """Subclasses implement read(), create(), update(existing), delete(existing), view(obj).

    read() returns the object as Nomad has it, or None when it does not exist.
    view(obj) returns what the diff and comparison show; wanted_view() what the task asks for.
    """

    def __init__(self, module, client=None):
        self.module = module
        self.params = module.params
        self.client = client

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

    def validate(self):
        """Check the options before any call; raise ACLObjectError."""

    def check_update_allowed(self, existing):
        """Raise ACLObjectError when the wanted change cannot be made in place."""

    # -- the flow ----------------------------------------------------------------------------

    def needs_update(self, existing):
        return self.view(existing) != self.wanted_view()

    def run(self):
        try:
            self.validate()
            if self.client is None:
                self.client = NomadClient.from_params(self.params)
            result = self._apply()
        except (ACLObjectError, NomadError) as exc:
            self.module.fail_json(msg=str(exc))
        self.module.exit_json(**result)

    def _apply(self):
        check_mode = self.module.check_mode
        existing = self.read()
        before = self.view(existing) if existing is not None else {}

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

    def gone_result(self, gone):
        """Return values describing a deleted object."""
        return {}
