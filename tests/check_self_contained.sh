#!/usr/bin/env bash
# ctest repo_self_contained: the check finds a planted path outside the repository, passes a
# clean file, then checks the repository itself; in a git checkout, every corpus file the
# tests read is tracked (a fresh clone has it).
set -euo pipefail
check=$1/scripts/check-self-contained
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# shellcheck disable=SC2016 # the lines are planted literally
bad=(
  'set(DIR ${PROJECT_SOURCE_DIR}/../shared/corpus)'
  'set(DIR ${CMAKE_CURRENT_SOURCE_DIR}/../corpus)'
  'python3 x.py /root/corpus'
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
"$check" || exit 1

corpus=tests/analysis/corpus
if git -C "$1" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    on_disk=$(cd "$1" && find "$corpus" -type f | sort)
    tracked=$(git -C "$1" ls-files -- "$corpus" | sort)
    if [ "$on_disk" != "$tracked" ] || [ "$(echo "$tracked" | grep -c '\.txt$')" -lt 270 ]; then
        echo "FAIL: the corpus files on disk are not the tracked ones:"
        diff <(echo "$on_disk") <(echo "$tracked") | head
        exit 1
    fi
    echo "corpus: $(echo "$tracked" | wc -l) files, all tracked"
fi
