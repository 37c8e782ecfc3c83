#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: agent_pending
short_description: Tell whether the running Nomad agent must restart or reload to pick up what is on disk
version_added: 0.3.0
description:
  - Compares what runs with what is on disk, on the node itself, so that a run killed after it wrote a file and
    before it restarted the agent is finished by the next run (nothing is kept in the play's memory).
  - A restart is due when the systemd unit changed (systemd says C(NeedDaemonReload)), the running binary was
    replaced, or a file of O(restart_files), the unit or its drop-ins, or a C(.hcl)/C(.json) file of O(config_dir)
    changed after the agent's start (its modification or status change time, so a file installed with an old
    modification time counts too).
  - Otherwise a reload (SIGHUP) is due when a file of O(reload_files) is newer than both the agent's start and
    its last reload (the stamp O(reload_stamp), which M(hardened.nomad.agent_roll) leaves after each SIGHUP).
  - An agent that is not running needs nothing. Whoever starts it starts it with the files on disk.
  - Reads only, so it runs in check mode too and predicts the restarts a real run makes.
author:
  - hardened.nomad contributors (@hardened-nomad)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  unit:
    description: The systemd unit of the agent.
    type: str
    default: nomad
  binary:
    description: The nomad binary the unit runs.
    type: path
    default: /usr/local/bin/nomad
  config_dir:
    description:
      - The agent's configuration directory. Every C(.hcl) and C(.json) file directly in it is read at start.
    type: path
    default: /etc/nomad.d
  keyring:
    description:
      - The server's gossip keyring (C(<data_dir>/server/serf.keyring)). While it exists, a change of C(gossip.hcl)
        needs no restart. The agent then uses the keyring and ignores C(encrypt), and the gossip key rotation
        rewrites the file on purpose without a restart.
    type: path
    default: /var/lib/nomad/server/serf.keyring
  restart_files:
    description: More files read only at the agent's start (the binary is always one).
    type: list
    elements: path
    default: []
  reload_files:
    description: Files the agent reads again on SIGHUP (its TLS files).
    type: list
    elements: path
    default: []
  reload_stamp:
    description: The file whose modification time says when the agent was last reloaded.
    type: path
    default: /run/hardened-nomad/reloaded
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Read what the agent has not picked up yet
  hardened.nomad.agent_pending:
    config_dir: /etc/nomad.d
    reload_files: [/etc/nomad.d/tls/ca.pem, /etc/nomad.d/tls/agent.pem, /etc/nomad.d/tls/agent-key.pem]
  register: pending
"""

RETURN = r"""
action:
  description: What the agent needs, V(restart), V(reload) or V(none).
  returned: always
  type: str
  sample: restart
reasons:
  description: Why, one sentence per file or fact.
  returned: always
  type: list
  elements: str
  sample: [/etc/nomad.d/nomad.hcl changed after the agent started]
need_daemon_reload:
  description: Whether systemd must reload its units before the restart.
  returned: always
  type: bool
active:
  description: Whether the agent runs.
  returned: always
  type: bool
"""

import glob
import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hardened.nomad.plugins.module_utils._rollout import pending_action

_PROPERTIES = ('ActiveState', 'MainPID', 'ExecMainStartTimestampMonotonic', 'NeedDaemonReload', 'FragmentPath',
               'DropInPaths')


def _mtime(path):
    """When the file last changed: its mtime, or its ctime when later (a rename that installs it sets that)."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return max(info.st_mtime, info.st_ctime)


def unit_properties(module, unit):
    argv = ['systemctl', 'show', unit] + ['--property=%s' % name for name in _PROPERTIES]
    rc, out, err = module.run_command(argv)
    if rc != 0:
        module.fail_json(msg='systemctl show %s failed: %s' % (unit, (err or out).strip()))
    return dict(line.split('=', 1) for line in out.splitlines() if '=' in line)


def started_at(monotonic_usec):
    """The epoch time of a CLOCK_MONOTONIC timestamp in microseconds (systemd's and Python's clock)."""
    return time.time() - (time.monotonic() - int(monotonic_usec) / 1e6)


def binary_deleted(pid):
    try:
        return os.readlink('/proc/%s/exe' % pid).endswith(' (deleted)')
    except OSError:
        return False


def main():
    module = AnsibleModule(
        argument_spec=dict(
            unit=dict(type='str', default='nomad'),
            binary=dict(type='path', default='/usr/local/bin/nomad'),
            config_dir=dict(type='path', default='/etc/nomad.d'),
            keyring=dict(type='path', default='/var/lib/nomad/server/serf.keyring'),
            restart_files=dict(type='list', elements='path', default=[]),
            reload_files=dict(type='list', elements='path', default=[]),
            reload_stamp=dict(type='path', default='/run/hardened-nomad/reloaded'),
        ),
        supports_check_mode=True,
    )
    params = module.params
    unit = unit_properties(module, params['unit'])
    active = unit.get('ActiveState') == 'active' and unit.get('MainPID', '0') not in ('', '0')
    need_daemon_reload = unit.get('NeedDaemonReload') == 'yes'
    result = dict(changed=False, active=active, need_daemon_reload=need_daemon_reload, action='none', reasons=[])
    if active:
        ignore = ['gossip.hcl'] if os.path.exists(params['keyring']) else []
        config = [path for pattern in ('*.hcl', '*.json')
                  for path in glob.glob(os.path.join(params['config_dir'], pattern))
                  if os.path.basename(path) not in ignore]
        restart = [params['binary'], unit.get('FragmentPath')] + unit.get('DropInPaths', '').split()
        restart += params['restart_files'] + config
        action, reasons = pending_action(
            True, started_at(unit.get('ExecMainStartTimestampMonotonic') or 0), need_daemon_reload,
            dict((path, _mtime(path)) for path in restart if path),
            dict((path, _mtime(path)) for path in params['reload_files']),
            reloaded_at=_mtime(params['reload_stamp']), binary_deleted=binary_deleted(unit['MainPID']))
        result.update(action=action, reasons=reasons)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
