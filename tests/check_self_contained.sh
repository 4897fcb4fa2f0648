#!/usr/bin/env bash
# ctest repo_self_contained: the check finds a planted path outside the repository, passes a
# clean file, then checks the repository itself.
set -euo pipefail
check=$1/scripts/check-self-contained
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# shellcheck disable=SC2016 # the lines are planted literally
bad=(
  'set(DIR ${PROJECT_SOURCE_DIR}/../shared/corpus)'
  'set(DIR ${CMAKE_CURRENT_SOURCE_DIR}/../corpus)'
  'python3 x.py /work/shared/corpus'
  'open("/home/alice/data")'
)
for line in "${bad[@]}"; do
  printf '%s\n' "$line" >"$scratch/planted"
  if "$check" "$scratch/planted" 2>/dev/null; then
    echo "FAIL: not caught: $line"
    exit 1
  fi
done
# shellcheck disable=SC2016
printf '%s\n' 'set(DIR ${CMAKE_CURRENT_SOURCE_DIR}/corpus)' 'dir=$(mktemp -d)' >"$scratch/clean"
"$check" "$scratch/clean" >/dev/null || { echo "FAIL: clean file rejected"; exit 1; }
"$check"
