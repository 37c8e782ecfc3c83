#!/usr/bin/env bash
# ansible-test sanity, offline-capable: ansible-test needs the collection under
# ansible_collections/<namespace>/<name>/, so the tracked and new files are
# copied there; its get-pip download is replaced by an ensurepip shim.
# Runs the ansible-test found on PATH (make sanity puts each core's venv first).
source "$(dirname "$0")/lib.sh"
PYTHON="$(dirname "$(command -v ansible-test)")/python"
CORE=$("$PYTHON" -c 'from ansible.release import __version__; print(".".join(__version__.split(".")[:2]))')
DEST="$CACHE_DIR/ansible-test/core-$CORE/ansible_collections/hardened/nomad"
# The shim goes where this ansible-test looks for the get-pip of its pip version.
PIP_VERSION=$("$PYTHON" -c 'from types import SimpleNamespace
from ansible_test._internal.python_requirements import get_venv_packages
print(get_venv_packages(SimpleNamespace(version="3.11"))["pip"])')
SHIM=~/.ansible/test/cache/get_pip_${PIP_VERSION//./_}.py
mkdir -p "$(dirname "$SHIM")"
cmp -s "$TESTBED_DIR/get_pip_offline.py" "$SHIM" || cp "$TESTBED_DIR/get_pip_offline.py" "$SHIM"

# A fresh copy, but for tests/output/ (git-ignored, so never copied): it keeps
# the venv ansible-test delegates to, which it reuses when present.
mkdir -p "$DEST/tests/output"
find "$DEST" -mindepth 1 -maxdepth 1 ! -name tests -exec rm -rf {} +
find "$DEST/tests" -mindepth 1 -maxdepth 1 ! -name output -exec rm -rf {} +
cd "$REPO_ROOT" || exit 1
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
  | tar --null -T - -cf - | tar -xf - -C "$DEST"
cd "$DEST" || exit 1
# A git index of its own: inside this repo's work tree ansible-test would
# otherwise list files through the parent repo, which ignores .cache/.
git init -q && git add -A
exec ansible-test sanity --venv --python 3.11 --color no "$@"
