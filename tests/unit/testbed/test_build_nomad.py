# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""build-nomad.sh refuses to build a Nomad whose module is not under the MPL-2.0.

A local file:// Go module proxy serves a stand-in github.com/hashicorp/nomad module (a LICENSE,
a go.mod and an empty main package), so nothing is fetched and no real BUSL code is involved.
The script must stop at the licence check, before compiling, with a clear message.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SCRIPT = os.path.join(ROOT, 'tests', 'testbed', 'build-nomad.sh')
BUSL = 'License text copyright (c) 2023 HashiCorp, Inc.\n\nBusiness Source License 1.1\n'
MPL = 'Copyright (c) 2015 HashiCorp, Inc.\n\nMozilla Public License, version 2.0\n'

pytestmark = pytest.mark.skipif(shutil.which('go') is None, reason='Go is not installed')


def build(tmp_path, version, files):
    """Serve a stand-in nomad module `version` with `files`, then run build-nomad.sh for it."""
    module = 'github.com/hashicorp/nomad@v' + version
    files = dict(files, **{'go.mod': 'module github.com/hashicorp/nomad\n\ngo 1.21\n',
                           'main.go': 'package main\n\nfunc main() {}\n'})
    proxy = tmp_path / 'proxy' / 'github.com' / 'hashicorp' / 'nomad' / '@v'
    proxy.mkdir(parents=True)
    with zipfile.ZipFile(proxy / ('v%s.zip' % version), 'w') as archive:
        for name, text in files.items():
            archive.writestr('%s/%s' % (module, name), text)
    (proxy / ('v%s.mod' % version)).write_text(files['go.mod'])
    (proxy / ('v%s.info' % version)).write_text(json.dumps({'Version': 'v' + version,
                                                           'Time': '2023-12-01T00:00:00Z'}))
    (proxy / 'list').write_text('v%s\n' % version)
    wrapper = tmp_path / 'wrappers' / version
    wrapper.mkdir(parents=True)
    (wrapper / 'go.mod').write_text('module x\n\ngo 1.21\n\nrequire github.com/hashicorp/nomad v%s\n' % version)
    env = dict(os.environ, HARDENED_NOMAD_BUILD_WRAPPERS=str(tmp_path / 'wrappers'),
               HARDENED_NOMAD_CACHE=str(tmp_path / 'cache'), GOPROXY='file://%s' % (tmp_path / 'proxy'),
               GOSUMDB='off', GOFLAGS='-mod=mod', GOMODCACHE=str(tmp_path / 'modcache'))
    done = subprocess.run(['bash', SCRIPT, version], env=env, capture_output=True, text=True, check=False)
    subprocess.run(['chmod', '-R', 'u+w', str(tmp_path / 'modcache')], check=False)  # the module cache is read-only
    return done


def test_a_busl_licensed_nomad_is_refused_before_anything_is_compiled(tmp_path):
    done = build(tmp_path, '1.7.0', {'LICENSE': BUSL})
    assert done.returncode == 1
    assert 'refusing to build nomad 1.7.0: its LICENSE is not the Mozilla Public License 2.0' in done.stderr
    assert 'building nomad' not in done.stderr
    assert not (tmp_path / 'cache' / 'testbed' / 'nomad' / '1.7.0').exists()


def test_a_module_without_licence_is_refused(tmp_path):
    done = build(tmp_path, '1.6.9', {})
    assert done.returncode == 1
    assert 'refusing to build nomad 1.6.9: its module has no LICENSE file' in done.stderr


def test_an_mpl_licensed_module_passes_the_check(tmp_path):
    done = build(tmp_path, '1.6.9', {'LICENSE': MPL})
    assert 'nomad 1.6.9 is licensed under the Mozilla Public License 2.0' in done.stderr
    assert 'building nomad 1.6.9' in done.stderr
