"""Bad input on hosts that were never converged: refused before any change.

Runs before test_check_mode.py (the file name), whose snapshots then prove that these
real runs of site.yml changed nothing on any node, wrote no secret and downloaded
nothing. They are tried here only: on new hosts any change a refused run made would show
(the cluster scenario keeps the one failure only a cluster can report: test_bad_input.py).
"""
import json

import pytest
from conftest import NODES
from testlib import BAD_INPUT_IDS, BAD_INPUTS, PLAYBOOKS, assert_refused, run_playbook


@pytest.mark.parametrize("extra_vars, message", BAD_INPUTS, ids=BAD_INPUT_IDS)
def test_bad_input_on_new_hosts_is_refused_before_any_change(extra_vars, message):
    run = run_playbook(PLAYBOOKS / "site.yml", "-e", json.dumps(extra_vars), timeout=600)
    assert_refused(run, message, hosts=NODES)
