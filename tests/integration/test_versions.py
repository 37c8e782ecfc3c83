# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The version gates matter: the real agent refuses a key its release lacks, and takes our gated config.

The configurations are rendered by the roles' own templates (tests/render/render.yml) for the
test bed's release and for 2.0.5, then checked with `nomad config validate` of the real binary.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from rendering import render_agent_files
from ansible_collections.hardened.nomad.plugins.module_utils import _versions

# The test bed's release, which the nomad_binary fixture runs (tests/testbed/env.sh exports it).
NOMAD_VERSION = os.environ.get('HARDENED_NOMAD_VERSION', '')
NEWEST = _versions.NEWEST_COVERED


@pytest.fixture(scope='module')
def rendered(tmp_path_factory):
    return render_agent_files(tmp_path_factory.mktemp('render'), (NOMAD_VERSION, NEWEST))


def validate(nomad_binary, tmp_path, hcl):
    folder = tmp_path / 'config'
    folder.mkdir()
    (folder / 'nomad.hcl').write_text(hcl)
    return subprocess.run([nomad_binary, 'config', 'validate', str(folder)], capture_output=True, text=True,
                          check=False)


def test_the_binary_is_the_test_bed_release(nomad_binary):
    out = subprocess.run([nomad_binary, 'version'], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[0] == 'Nomad v%s' % NOMAD_VERSION


@pytest.mark.parametrize('role', ['server', 'client'])
def test_the_config_rendered_for_the_agent_release_passes_its_validation(nomad_binary, rendered, tmp_path, role):
    done = validate(nomad_binary, tmp_path, rendered[NOMAD_VERSION][role]['nomad.hcl'])
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_key_the_release_lacks_is_refused_so_the_gate_matters(nomad_binary, rendered, tmp_path):
    if _versions.features(NOMAD_VERSION)['alloc_mounts_dir']:
        pytest.skip('the test bed release %s has alloc_mounts_dir' % NOMAD_VERSION)
    newer = rendered[NEWEST]['client']['nomad.hcl']
    assert 'alloc_mounts_dir' in newer
    done = validate(nomad_binary, tmp_path, newer)
    assert done.returncode != 0
    assert 'unexpected keys alloc_mounts_dir' in done.stdout + done.stderr
