# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The base of every module that talks to the Nomad HTTP API.

Private to the collection. ``NomadModule`` adds the connection options (documented once, in
the ``hardened.nomad.connection`` doc fragment) to a module's own, builds the one mTLS client
on first use, and is the one place where a failure becomes ``fail_json``::

    def main():
        module = NomadModule(argument_spec=dict(name=dict(type='str', required=True)),
                             supports_check_mode=True)
        module.run(operation)          # operation(module) -> the result dict

    def operation(module):
        node = module.client.get('/v1/node/' + path_quote(module.params['name']))
        ...
        raise ModuleFailure('what went wrong and how to fix it', extra_return_value=...)

Check mode on hosts never converged: the TLS files the run would install are not there (check mode
wrote none), so no agent answers yet. ``pending_connection_files()`` names them; a module then
predicts its change from its options alone (a cluster this run sets up starts empty) and says so
in its result with ``prediction_note()``, without calling Nomad.
"""

from __future__ import annotations

import copy
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hardened.nomad.plugins.module_utils._api import NOMAD_CONNECTION_SPEC, NomadClient, NomadError


class ModuleFailure(Exception):
    """A failure worth a clear message. ``result`` holds extra return values for fail_json."""

    def __init__(self, message, **result):
        super().__init__(message)
        self.message = message
        self.result = result


class NomadModule(AnsibleModule):
    """An AnsibleModule with the Nomad connection options and a ``client`` for them."""

    def __init__(self, argument_spec=None, **kwargs):
        spec = copy.deepcopy(NOMAD_CONNECTION_SPEC)
        spec.update(argument_spec or {})
        super().__init__(argument_spec=spec, **kwargs)
        self._client = None

    @property
    def client(self):
        """The NomadClient for the connection options, made on first use (it may raise NomadError)."""
        if self._client is None:
            self._client = NomadClient.from_params(self.params)
        return self._client

    def pending_connection_files(self):
        """In check mode, the connection files (ca_file, client_cert, client_key) that do not exist yet.

        Always empty outside check mode: a missing file is then an error the client reports.
        """
        if not self.check_mode:
            return []
        return [self.params[option] for option in ('ca_file', 'client_cert', 'client_key')
                if self.params.get(option) and not os.path.exists(self.params[option])]

    @staticmethod
    def prediction_note(pending):
        """The msg of a result predicted because the files in ``pending`` do not exist yet."""
        return ('check mode: %s not there yet (an earlier task of this run installs it), so Nomad was not asked; '
                'predicted for a new cluster' % ', '.join(pending))

    def scrub(self, text):
        """Remove what must not be shown from a failure message. Modules holding secrets that
        no_log cannot know (a key derived at run time) override this."""
        return text

    def run(self, operation):
        """exit_json with ``operation(self)``'s result; fail_json on ModuleFailure or NomadError."""
        try:
            result = operation(self)
        except ModuleFailure as exc:
            self.fail_json(msg=self.scrub(exc.message), **exc.result)
        except NomadError as exc:
            self.fail_json(msg=self.scrub(exc.message))
        self.exit_json(**result)
