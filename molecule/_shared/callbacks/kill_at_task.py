# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test-bed callback: kill ansible-playbook (SIGKILL, no cleanup) when the task named in
HN_KILL_AT_TASK starts, so every host has finished the task before it. It stands for an operator's
kill -9 or a lost controller at a chosen point of a run. Enabled only by the tests that need it."""

from __future__ import annotations

import os
import signal

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: kill_at_task
type: aggregate
short_description: kill the run when a named task starts (test bed only)
description: Reads the task name from the environment variable HN_KILL_AT_TASK.
requirements: []
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'kill_at_task'
    CALLBACK_NEEDS_ENABLED = True

    def v2_playbook_on_task_start(self, task, is_conditional):
        wanted = os.environ.get('HN_KILL_AT_TASK')
        if wanted and task.get_name().endswith(wanted):
            os.killpg(os.getpgid(0), signal.SIGKILL)
