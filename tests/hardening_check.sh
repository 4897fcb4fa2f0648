#!/usr/bin/env bash
# Checks that the built programs carry the hardening of cmake/harden.cmake:
#   hardening_check.sh EXPECT_FORTIFY PROGRAM...
# Every program must be position independent (ELF type DYN with a PIE flag), bound at load
# time with a read-only GOT (GNU_RELRO and BIND_NOW), and call __stack_chk_fail; with
# EXPECT_FORTIFY=1 it must also import at least one fortified *_chk function of glibc.
set -euo pipefail
expect_fortify=$1
shift
failures=0
fail() {
  echo "FAIL $1: $2"
  failures=$((failures + 1))
}

for prog in "$@"; do
  name=$(basename "$prog")
  header=$(readelf -h "$prog")
  dynamic=$(readelf -d "$prog")
  segments=$(readelf -lW "$prog")
  imports=$(readelf --dyn-syms -W "$prog" | awk '$7 == "UND" { print $8 }')

  grep -Eq 'Type:[[:space:]]+DYN' <<<"$header" || fail "$name" "not position independent (ELF type is not DYN)"
  grep -Eq 'FLAGS_1.*PIE' <<<"$dynamic" || fail "$name" "no PIE flag in FLAGS_1"
  grep -q 'GNU_RELRO' <<<"$segments" || fail "$name" "no GNU_RELRO segment"
  grep -Eq 'BIND_NOW|FLAGS_1.*NOW' <<<"$dynamic" || fail "$name" "not bound now (-z now)"
  if grep -Eq 'GNU_STACK.*RWE' <<<"$segments"; then
    fail "$name" "executable stack"
  fi
  grep -q '^__stack_chk_fail' <<<"$imports" || fail "$name" "no stack protector (__stack_chk_fail)"
  if [ "$expect_fortify" = 1 ]; then
    fortified=$(grep -Ec '^__[a-z0-9_]+_chk(@|$)' <<<"$imports" || true)
    if [ "$fortified" -eq 0 ]; then
      fail "$name" "no fortified *_chk import (_FORTIFY_SOURCE)"
    else
      echo "ok $name: $fortified fortified imports"
    fi
  fi
  echo "checked $name"
done
[ "$failures" -eq 0 ]
