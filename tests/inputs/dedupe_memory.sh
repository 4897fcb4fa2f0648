#!/usr/bin/env bash
# Memory of the de-duplication set (not a ctest test): generates N distinct names (plus a
# 1% sprinkle of repeats) and reports the dry-run driver's peak RSS above that of a
# 1,000-name run, per distinct name, with /usr/bin/time -v.
# Usage: tests/inputs/dedupe_memory.sh [DRIVER] [N ...]
#   DRIVER defaults to build/test/tests/inputs/inputs_dry_run (build it first).
set -euo pipefail
cd "$(dirname "$0")/../.."
drv=${1:-build/test/tests/inputs/inputs_dry_run}
shift || true
sizes=("${@:-1000000 10000000}")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

peak_kib() { # N -> peak RSS in KiB of a dry run over N names
  awk -v n="$1" 'BEGIN { for (i = 1; i <= n; i++) { print "n" i ".example";
    if (i % 100 == 0) print "n" int(i / 2) ".example" } }' |
    /usr/bin/time -v "$drv" - >/dev/null 2>"$tmp/err.txt"
  awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/err.txt"
}

base=$(peak_kib 1000)
for n in ${sizes[@]}; do
  rss=$(peak_kib "$n")
  awk -v n="$n" -v r="$rss" -v b="$base" 'BEGIN {
    printf "%10d names  peak RSS %7.1f MiB  above a 1k run %7.1f MiB  %5.2f bytes/name\n",
      n, r / 1024, (r - b) / 1024, (r - b) * 1024 / n }'
done
