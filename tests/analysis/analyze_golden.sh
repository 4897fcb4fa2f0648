#!/bin/sh
# The analysis's outputs byte for byte: summary, report (json, markdown) and export (jsonl,
# csv) of the fixture stores, and the hashes of the same outputs of a 2,000-domain
# generated store (1 and 3 threads), equal to the files in tests/analysis/golden/, written
# by the code before the decoding and the per-domain view were made faster.
# A change that means to change an output regenerates them: UPDATE_GOLDEN=1 with the same
# arguments, then review the diff.
# usage: analyze_golden.sh MTASTS_ANALYZE ANALYZE_FIXTURE ANALYZE_BENCH_GEN GOLDEN_DIR
set -u
A=$1 golden=$4
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$2" "$dir" || { echo "fixture failed"; exit 1; }
"$3" "$dir/gen" 2000 || { echo "generator failed"; exit 1; }
mkdir "$dir/out"
for store in one hostile; do
    $A summary --db "$dir/$store" >"$dir/out/$store.summary.txt"
    $A report --format json --db "$dir/$store" >"$dir/out/$store.report.json"
    $A report --format markdown --db "$dir/$store" >"$dir/out/$store.report.md"
    $A export --format jsonl --db "$dir/$store" >"$dir/out/$store.export.jsonl"
    $A export --format csv --db "$dir/$store" >"$dir/out/$store.export.csv"
done
for t in 1 3; do
    for c in summary "report --format json" "export --format jsonl" "export --format csv"; do
        printf '%s: %s\n' "$c" "$($A $c --threads $t --db "$dir/gen" | sha256sum | cut -d' ' -f1)"
    done >"$dir/out/gen2000.threads$t.sha256"
done
if [ "${UPDATE_GOLDEN:-}" = 1 ]; then
    cp "$dir"/out/* "$golden"/
    echo "golden files written to $golden"
    exit 0
fi
fails=0
for f in "$dir"/out/*; do
    name=$(basename "$f")
    if ! cmp -s "$f" "$golden/$name"; then
        echo "FAIL $name differs:"
        diff "$golden/$name" "$f" | head -20
        fails=$((fails + 1))
    fi
done
[ "$(ls "$dir/out" | wc -l)" -eq "$(ls "$golden" | wc -l)" ] || { echo "FAIL golden file count"; fails=$((fails + 1)); }
echo "$fails failures"
[ $fails -eq 0 ]
