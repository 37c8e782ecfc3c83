#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: release_fetch
short_description: Fetch a Nomad release on the controller and verify its signature and checksums
version_added: 0.3.0
description:
  - Downloads C(nomad_<version>_SHA256SUMS) and its signature from O(base_url)C(/<version>/), verifies the
    signature with C(gpgv) against the one key in O(gpg_key) (in a throwaway keyring, so nothing else is
    trusted and nothing is imported), then the zip of each architecture of O(hosts) against the
    signed SHA-256, and only then unpacks its C(nomad) binary into O(cache_dir)C(/<version>/linux_<arch>/nomad).
  - What an earlier run verified is reused from the cache and checked again (the signature and every
    checksum run on every call). A cached zip that no longer matches, or a cached SHA256SUMS whose signature
    does not hold with the trusted key (the key changed, or another key wrote the cache), is fetched again;
    only what the mirror serves decides a refusal.
  - Every refusal fails the task before any node changes, with a message that starts with
    C(BAD SIGNATURE), C(CHECKSUM MISMATCH), C(Could not download) or names the missing architecture.
    Unverified files are never kept.
  - Runs on the controller (the install role delegates it to C(localhost), once per play).
author:
  - hardened.nomad contributors (@hardened-nomad)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  base_url:
    description: Where the releases are, without the version (C(nomad_release_base_url)); C(http), C(https) or C(file).
    type: str
    required: true
  version:
    description: The Nomad release (C(nomad_version)).
    type: str
    required: true
  hosts:
    description:
      - The hosts to fetch for, a mapping of each inventory host to its release architecture (C(amd64) or C(arm64)).
      - Each architecture is fetched once, and the hosts are named when the signed list lacks their zip.
    type: dict
    required: true
  cache_dir:
    description: The controller's release cache (C(nomad_release_cache_dir)); the release goes to C(<cache_dir>/<version>/).
    type: path
    required: true
  gpg_key:
    description: The OpenPGP public key file that signs the releases (C(nomad_release_gpg_key)).
    type: path
    required: true
  timeout:
    description: Seconds for each download.
    type: int
    default: 120
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
    details: >-
      Downloads and writes nothing. Verifies what the cache holds as a real run does; a file the cache
      lacks (or a cached file that no longer verifies) is reported as the download a real
      run would make, and its architecture gets no binary in RV(binaries).
  diff_mode:
    support: none
notes:
  - Needs C(gpg) and C(gpgv) on the controller (the install role's preflight checks for them).
"""

EXAMPLES = r"""
- name: Fetch and verify the Nomad release on the controller
  hardened.nomad.release_fetch:
    base_url: https://releases.hashicorp.com/nomad
    version: 1.6.3
    hosts: {nomad-1: amd64, nomad-2: amd64, worker-1: arm64}
    cache_dir: ~/.cache/hardened-nomad/releases
    gpg_key: /path/to/hashicorp-release.asc
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
binaries:
  description: Per architecture, the verified binary on the controller and its SHA-256.
  returned: success
  type: dict
  sample: {amd64: {binary: /home/me/.cache/releases/1.6.3/linux_amd64/nomad, sha256: 3f0c...}}
changes:
  description: What this run downloaded, created or unpacked (empty when the cache held it all).
  returned: always
  type: list
  elements: str
"""

import subprocess

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import open_url

from ansible_collections.hardened.nomad.plugins.module_utils._files import FileWriteError
from ansible_collections.hardened.nomad.plugins.module_utils._release import ReleaseError, ReleaseFetch


def main():
    module = AnsibleModule(
        argument_spec=dict(
            base_url=dict(type='str', required=True),
            version=dict(type='str', required=True),
            hosts=dict(type='dict', required=True),
            cache_dir=dict(type='path', required=True),
            gpg_key=dict(type='path', required=True),
            timeout=dict(type='int', default=120),
        ),
        supports_check_mode=True,
    )
    params = module.params

    def download(url):
        return open_url(url, timeout=params['timeout'], http_agent='hardened.nomad').read()

    architectures = {}
    for host, architecture in sorted(params['hosts'].items()):
        if architecture:
            architectures.setdefault(str(architecture), []).append(str(host))
    fetch = ReleaseFetch(params['base_url'], params['version'], architectures, params['cache_dir'], params['gpg_key'],
                         download, gpg=module.get_bin_path('gpg', required=True),
                         gpgv=module.get_bin_path('gpgv', required=True), check_mode=module.check_mode)
    try:
        binaries = fetch.run()
    except (ReleaseError, FileWriteError, OSError, subprocess.TimeoutExpired) as exc:
        module.fail_json(msg=str(exc), changes=fetch.changes)
    module.exit_json(changed=bool(fetch.changes), binaries=binaries, changes=fetch.changes)


if __name__ == '__main__':
    main()
