# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Reading and atomically replacing files. Private to the collection; standard library only."""

from __future__ import annotations

import os
import tempfile


class FileWriteError(Exception):
    """The file could not be written; the message names it."""


def read_file(path):
    with open(path, 'rb') as handle:
        return handle.read()


def read_file_if_exists(path):
    """The bytes of path, or None when there is no such file."""
    try:
        return read_file(path)
    except FileNotFoundError:
        return None


def missing_directory(path, check_mode=False):
    """The directory of ``path`` when it does not exist, else None.

    Always None in check mode: an earlier task of the same run may only have pretended to
    create the directory (the file is then predicted as new).
    """
    directory = os.path.dirname(os.path.abspath(path))
    if check_mode or os.path.isdir(directory):
        return None
    return directory


def write_file_atomic(path, data, mode=0o600, uid=-1, gid=-1, check=None):
    """Replace ``path`` by ``data`` through a temp file in the same directory.

    The temp file is created 0600 by mkstemp and gets ``mode`` and the ownership before the
    rename, so a secret is never readable by others, not even for a moment, and a reader sees
    the old file or the new one, never half of one. ``check(temp_path)``, when given, runs on the
    complete candidate before the rename; whatever it raises leaves the old file in place.
    """
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileWriteError('the directory %s of %s does not exist: create it first' % (directory, path))
    try:
        fd, temp_path = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), dir=directory)
    except OSError as exc:
        raise FileWriteError('could not write a temporary file beside %s: %s' % (path, exc))
    try:
        with os.fdopen(fd, 'wb') as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_path, mode)
        if uid != -1 or gid != -1:
            os.chown(temp_path, uid, gid)
        if check is not None:
            check(temp_path)
        os.rename(temp_path, path)
    except BaseException:
        if os.path.exists(temp_path):
            os.unlink(temp_path)
        raise
