#!/usr/bin/env bash
# Benchmark of the list reader (not a ctest test): generates a 1M-line list in Tranco CSV
# form (1% duplicates, 1% invalid names, 2% IDNs) and times the dry-run driver on it, plain
# and gzip, with /usr/bin/time -v for the peak RSS.
# Usage: tests/inputs/bench_inputs.sh [DRIVER] [LINES]
#   DRIVER defaults to build/inputs/tests/inputs/inputs_dry_run (build it first).
set -euo pipefail
cd "$(dirname "$0")/../.."
drv=${1:-build/inputs/tests/inputs/inputs_dry_run}
lines=${2:-1000000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

awk -v n="$lines" 'BEGIN {
  for (i = 1; i <= n; i++) {
    if (i % 100 == 0)      name = "dup" (i - 50) "-site.example" ((i - 50) % 7) ".com";
    else if (i % 100 == 1) name = "bad_name" i ".example";
    else if (i % 50 == 7)  name = "bücher" i ".example";
    else                   name = "dup" i "-site.example" (i % 7) ".com";
    print i "," name
  }
}' >"$tmp/list.csv"
gzip -k -1 "$tmp/list.csv"

run() {
  local label=$1 file=$2
  /usr/bin/time -v "$drv" "$file" >"$tmp/out.txt" 2>"$tmp/err.txt" || true
  local secs rss
  secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, t, ":"); s = 0;
    for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s}' "$tmp/err.txt")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/err.txt")
  printf '%-6s %8d lines  %6.2f s  %10.0f lines/s  peak RSS %6.1f MiB\n' "$label" "$lines" \
    "$secs" "$(awk -v l="$lines" -v s="$secs" 'BEGIN {print (s > 0 ? l / s : 0)}')" \
    "$(awk -v k="$rss" 'BEGIN {print k / 1024}')"
  grep '^inputs: [0-9]' "$tmp/err.txt"
}

echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
run plain "$tmp/list.csv"
run gzip "$tmp/list.csv.gz"
