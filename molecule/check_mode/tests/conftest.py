"""The check-mode scenario: the converge's run of site.yml --check --diff, and the snapshots.

The converge (converge.yml) kept the run's output in the ephemeral directory;
prepare.yml kept a snapshot of every node taken before it (snapshot.sh).
"""
import json
import pathlib
import re
import sys
import types

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "_shared"))
from testlib import SCENARIO_DIR, SECRETS  # noqa: E402,F401 pylint: disable=unused-import  # re-exported to the tests

EPHEMERAL = SECRETS.parent
NODES = ["hn-check-server-1", "hn-check-server-2", "hn-check-server-3", "hn-check-client-1"]
SNAPSHOT_SCRIPT = SCENARIO_DIR / "snapshot.sh"

TASK_RE = re.compile(r"^(?:TASK|RUNNING HANDLER) \[(?P<name>.*)\] \**$")
RESULT_RE = re.compile(r"^(?P<status>ok|changed|skipping|failed|fatal): \[(?P<host>[^\]\s]+)")


@pytest.fixture(scope="session")
def check_run():
    """The converge's run (rc, stdout, stderr), as testlib's recap() and assert_succeeded() read it."""
    saved = json.loads((EPHEMERAL / "check-run.json").read_text())
    return types.SimpleNamespace(returncode=saved["rc"], stdout=saved["stdout"], stderr=saved["stderr"])


def task_results(run):
    """{task name: {host: status}} from the default callback's output (the last result per host wins)."""
    tasks, current = {}, None
    for line in run.stdout.splitlines():
        header = TASK_RE.match(line)
        if header:
            current = tasks.setdefault(header.group("name"), {})
            continue
        result = RESULT_RE.match(line)
        if result and current is not None:
            current[result.group("host")] = result.group("status")
    return tasks


def snapshot_sections(text):
    """{section: set of lines} of a snapshot.sh output."""
    sections, current = {}, None
    for line in text.splitlines():
        if line.startswith("## "):
            current = sections.setdefault(line[3:], set())
        elif current is not None:
            current.add(line)
    return sections
