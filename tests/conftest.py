# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Make `ansible_collections.hardened.nomad` importable for pytest."""

from __future__ import annotations

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

if os.path.basename(os.path.dirname(os.path.dirname(ROOT))) == 'ansible_collections':
    # Already inside an ansible_collections tree (ansible-test, an installed copy).
    COLLECTIONS = os.path.dirname(os.path.dirname(os.path.dirname(ROOT)))
else:
    COLLECTIONS = os.path.join(ROOT, '.cache', 'collections')
    link = os.path.join(COLLECTIONS, 'ansible_collections', 'hardened', 'nomad')
    if not os.path.exists(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(os.path.relpath(ROOT, os.path.dirname(link)), link)

if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)


# Helpers shared by the unit and integration tests (tests/rendering.py).
TESTS = os.path.join(ROOT, 'tests')
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)
