#!/bin/sh
# Benchmark of mtasts-analyze summary: builds a synthetic N-domain store (default 1M) with
# the writer and times `summary` with /usr/bin/time -v (wall time and peak RSS).
# usage: bench_analyze.sh BUILD_DIR [N]
set -eu
build=$1
n=${2:-1000000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
/usr/bin/time -f "generate: %e s, %M KiB peak" "$build/tests/analysis/analyze_bench_gen" "$dir/db" "$n"
du -sh "$dir/db"
/usr/bin/time -v "$build/analysis/mtasts-analyze" summary --db "$dir/db" >"$dir/summary.txt" 2>"$dir/time.txt"
grep -E "Elapsed|Maximum resident" "$dir/time.txt"
head -14 "$dir/summary.txt"
