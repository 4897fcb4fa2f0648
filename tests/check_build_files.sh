#!/usr/bin/env bash
# ctest repo_build_files: scripts/check-build-files finds each planted way of hiding a
# missing part or of registering a test without mts_add_test, passes a clean file, then
# checks the repository's build files.
set -euo pipefail
check=$1/scripts/check-build-files
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# shellcheck disable=SC2016 # the lines are planted literally
bad=(
  'include(${CMAKE_CURRENT_SOURCE_DIR}/part.cmake OPTIONAL)'
  'if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/dir/CMakeLists.txt)'
  'if(TARGET mts_output)'
  'if(NOT TARGET mts_output)'
  'if(COMMAND mts_scanner_executables)'
  'file(GLOB sources *.c)'
  'add_test(NAME x COMMAND y)'
)
for line in "${bad[@]}"; do
  printf '%s\n' "$line" >"$scratch/CMakeLists.txt"
  if "$check" "$scratch/CMakeLists.txt" 2>/dev/null; then
    echo "FAIL: not caught: $line"
    exit 1
  fi
done
# shellcheck disable=SC2016
printf '%s\n' 'include(${PROJECT_SOURCE_DIR}/cmake/mts_test.cmake)' 'if(MTS_HARDEN)' \
  'mts_add_test(x COMMAND y TIMEOUT 5)' >"$scratch/CMakeLists.txt"
"$check" "$scratch/CMakeLists.txt" >/dev/null || { echo "FAIL: clean file rejected"; exit 1; }
"$check"
