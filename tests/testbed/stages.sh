#!/usr/bin/env bash
# Runs make targets one after another as the stages of `make test`, timing each,
# and prints a table of every stage's wall time at the end, also when a stage
# fails (the run stops there, as make would). Usage:
#   stages.sh TARGET [TARGET ...]
# Each TARGET is a make target of this repository's Makefile.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

names=() seconds=() results=()
status=0
started=$SECONDS
for target in "$@"; do
  echo "=== stage $target"
  stage_start=$SECONDS
  make --no-print-directory "$target"
  rc=$?
  names+=("$target") seconds+=($((SECONDS - stage_start)))
  if [ "$rc" -ne 0 ]; then
    results+=("FAILED (rc $rc)")
    status=$rc
    break
  fi
  results+=("ok")
done

table() {
  local i total=$((SECONDS - started))
  printf '\n| stage | wall time | result |\n|---|---:|---|\n'
  for i in "${!names[@]}"; do
    printf '| %s | %d min %02d s | %s |\n' "${names[$i]}" $((seconds[i] / 60)) $((seconds[i] % 60)) "${results[$i]}"
  done
  printf '| **total** | **%d min %02d s** | |\n' $((total / 60)) $((total % 60))
}
echo
echo "=== make test: wall time per stage"
table
exit "$status"
