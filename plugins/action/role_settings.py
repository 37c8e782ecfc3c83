# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Checks the play's variables against the argument specs of the collection's roles, and says only what is wrong.

ansible.builtin.validate_argument_spec prints the whole spec with every failure (hundreds of lines
per host for one bad value); this prints one line per bad value, prefixed with the role.
"""

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action.validate_argument_spec import ActionModule as ValidateArgumentSpec
from ansible.parsing.yaml.loader import AnsibleLoader

ROLES_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'roles')


def role_options(role, roles_dir=ROLES_DIR):
    """The options of a role's main entry point, from its meta/argument_specs.yml."""
    path = os.path.join(roles_dir, role, 'meta', 'argument_specs.yml')
    try:
        with open(path, 'rb') as spec_file:
            data = AnsibleLoader(spec_file.read()).get_single_data()
    except (IOError, OSError) as exc:
        raise AnsibleActionFail('cannot read the argument spec of role %s (%s): %s' % (role, path, to_text(exc)))
    return data['argument_specs']['main'].get('options') or {}


class ActionModule(ValidateArgumentSpec):

    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(('roles',))

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ValidateArgumentSpec, self).run(tmp, task_vars)
        roles = self._task.args.get('roles')
        if not isinstance(roles, list) or not roles:
            raise AnsibleActionFail('roles must be a non-empty list of role names of hardened.nomad')
        errors = []
        for role in roles:
            spec = role_options(role)
            values = self.get_args_from_task_vars(spec, task_vars)
            checked = ArgumentSpecValidator(spec).validate(values)
            errors.extend('%s (role %s)' % (message, role) for message in checked.error_messages)
        result['changed'] = False
        result['roles'] = roles
        if errors:
            result['failed'] = True
            result['argument_errors'] = errors
            result['msg'] = '%d setting(s) not accepted: %s' % (len(errors), '; '.join(errors))
        else:
            result['msg'] = 'The settings of %s match their argument specs' % ', '.join(roles)
        return result
