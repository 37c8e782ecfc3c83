#!/usr/bin/env bash
# ansible-test sanity, offline-capable: ansible-test needs the collection under
# ansible_collections/<namespace>/<name>/, so the tracked and new files are
# copied there; its get-pip download is replaced by an ensurepip shim.
source "$(dirname "$0")/lib.sh"
DEST="$CACHE_DIR/ansible-test/ansible_collections/hardened/nomad"
SHIM=~/.ansible/test/cache/get_pip_24_2.py
mkdir -p "$(dirname "$SHIM")"
cmp -s "$TESTBED_DIR/get_pip_offline.py" "$SHIM" || cp "$TESTBED_DIR/get_pip_offline.py" "$SHIM"

rm -rf "$DEST"; mkdir -p "$DEST"
cd "$REPO_ROOT" || exit 1
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
  | tar --null -T - -cf - | tar -xf - -C "$DEST"
cd "$DEST" || exit 1
# A git index of its own: inside this repo's work tree ansible-test would
# otherwise list files through the parent repo, which ignores .cache/.
git init -q && git add -A
exec ansible-test sanity --venv --python 3.11 --color no "$@"
