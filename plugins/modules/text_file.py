#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: text_file
short_description: Put a small text file in place with one module run (compare, validate, replace)
version_added: 0.2.0
description:
  - Writes O(content) to O(path) when the file differs, and sets its owner, group and mode.
  - Does in one module run what M(ansible.builtin.copy) with C(content) or M(ansible.builtin.template)
    do in two or three (a remote C(stat), then C(file) or the upload and C(copy)). On a re-run that
    changes nothing this halves the cost of each file task (see C(docs/benchmarks.md)). The content
    travels in the module arguments, so it is meant for configuration files, units and certificates,
    not for large or binary files.
  - A changed file is written to a temporary file beside O(path) (name starting with a dot), checked with
    O(validate) when given, and only then renamed over O(path), so a rejected file never replaces
    the old one.
author:
  - hardened.nomad contributors (@hardened-nomad)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.files
options:
  path:
    description:
      - The file to write. Its directory must exist.
    type: path
    required: true
  content:
    description:
      - The whole text of the file, written as UTF-8.
      - For a secret, the task must use C(no_log=true) and C(diff=false).
    type: str
    required: true
  validate:
    description:
      - Command that checks the candidate file before it replaces O(path); C(%s) stands for the
        candidate's path and must appear in it. It runs without a shell, like the C(validate) of
        M(ansible.builtin.copy). A non-zero exit fails the task and leaves O(path) untouched.
      - Runs only when the content changes.
    type: str
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
    details: >-
      Reports what would change, with the diff, and writes nothing; O(validate) does not run. A file in a
      directory that does not exist yet is reported as new, since an earlier task of the same run may create it.
  diff_mode:
    support: full
    details: The text before and after, and the owner, group or mode that change.
notes:
  - The file is replaced atomically. A replaced file keeps its owner and mode until O(owner),
    O(group) and O(mode) are applied; a new file is created with mode 0600 and then gets them, so
    a secret is never readable by others, not even for a moment.
"""

EXAMPLES = r"""
- name: Write the agent configuration, checked by Nomad before it replaces the old one
  hardened.nomad.text_file:
    path: /etc/nomad.d/nomad.hcl
    content: "{{ lookup('ansible.builtin.template', 'nomad.hcl.j2') }}"
    owner: root
    group: nomad
    mode: "0640"
    validate: /usr/local/bin/nomad config validate %s
  notify: nomad restart
"""

RETURN = r"""
path:
  description: The file written or checked.
  returned: always
  type: str
  sample: /etc/nomad.d/nomad.hcl
content_changed:
  description: Whether the text of the file changed (or would change in check mode).
  returned: always
  type: bool
  sample: false
"""

import os
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native, to_text

from ansible_collections.hardened.nomad.plugins.module_utils._files import (
    FileWriteError, read_file_if_exists, write_file_atomic)


def replace(module, path, data):
    """Write data to path atomically; a replaced file keeps its owner and mode, a new one starts 0600."""
    uid = gid = -1
    mode = 0o600
    if os.path.exists(path):
        current = os.stat(path)
        uid, gid, mode = current.st_uid, current.st_gid, stat.S_IMODE(current.st_mode)
    validate = module.params['validate']
    try:
        write_file_atomic(path, data, mode, uid, gid, check=(lambda tmp: validate_candidate(module, path, tmp, validate))
                          if validate else None)
    except (FileWriteError, OSError) as exc:
        module.fail_json(msg='Could not replace %s: %s' % (path, to_native(exc)))


def validate_candidate(module, path, tmp, validate):
    rc, out, err = module.run_command(validate % tmp)
    if rc != 0:
        module.cleanup(tmp)
        module.fail_json(msg='%s was not replaced: the validate command failed (rc=%d): %s' % (
            path, rc, (err or out).strip()), rc=rc, stdout=out, stderr=err)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            content=dict(type='str', required=True),
            validate=dict(type='str'),
        ),
        add_file_common_args=True,
        supports_check_mode=True,
    )
    path = module.params['path']
    validate = module.params['validate']
    if validate and '%s' not in validate:
        module.fail_json(msg='validate must contain %%s (the path of the candidate file): %s' % validate)
    # In check mode an earlier task of the same run may only have pretended to create the directory.
    if not os.path.isdir(os.path.dirname(path) or '/') and not module.check_mode:
        module.fail_json(msg='The directory of %s does not exist: create it first.' % path)
    if os.path.isdir(path):
        module.fail_json(msg='%s is a directory, not a file.' % path)

    new = to_bytes(module.params['content'], errors='surrogate_or_strict')
    old = read_file_if_exists(path)
    content_changed = old != new
    diffs = []
    if module._diff and content_changed:
        diffs.append({'before_header': path, 'after_header': path,
                      'before': '' if old is None else to_text(old, errors='surrogate_or_replace'),
                      'after': module.params['content']})

    if content_changed and not module.check_mode:
        replace(module, path, new)

    changed = content_changed
    if os.path.exists(path):  # in check mode a new file does not exist yet: its attributes will be set then
        file_args = module.load_file_common_arguments(module.params, path=path)
        attr_diff = {'before': {'path': path}, 'after': {'path': path}}
        changed = module.set_fs_attributes_if_different(file_args, changed, attr_diff)
        if module._diff and len(attr_diff['before']) > 1:
            diffs.append(attr_diff)

    result = dict(changed=changed, path=path, content_changed=content_changed)
    if diffs:
        result['diff'] = diffs
    module.exit_json(**result)


if __name__ == '__main__':
    main()
