#!/bin/sh
# Benchmark of the re-check workflow (docs/analyze.md, issue 15 target 6): a synthetic
# N-domain scan (default 1M, analyze_bench_gen), K of its domains (default 10,000, every
# N/K-th) scanned again into the same store under a new scan id against a small simulated
# world (the names are not in it: each is a quick NXDOMAIN, so the scan's own time is
# small and its start shows), then `diff` timed over the whole first scan and with
# --rechecked-only. The same K names are also scanned into an empty store, for the
# scanner's time without the large store. Not a test: numbers in docs/PERFORMANCE.md.
# usage: bench_recheck.sh BUILD_DIR [N [K [DIR]]]   (DIR kept when given: the store is reused)
set -eu
build=$1
n=${2:-1000000}
k=${3:-10000}
if [ -n "${4:-}" ]; then
    dir=$4
    mkdir -p "$dir"
else
    dir=$(mktemp -d)
    trap 'rm -rf "$dir"' EXIT
fi
A="$build/analysis/mtasts-analyze"
if [ ! -s "$dir/db/data.mdb" ]; then
    /usr/bin/time -f "generate: %e s" "$build/tests/analysis/analyze_bench_gen" "$dir/db" "$n"
fi
awk -v n="$n" -v k="$k" 'BEGIN { for (i = 0; i < k; i++) printf "d%08d.example\n", int(i * n / k) }' \
    >"$dir/told.txt"

"$build/tests/world/mtasts-world" --generate 100 --seed 1 --ca-dir "$dir/ca" \
    --ready-file "$dir/ready" 2>"$dir/world.log" &
world=$!
trap 'kill -TERM "$world" 2>/dev/null || true; [ -n "${4:-}" ] || rm -rf "$dir"' EXIT
for _ in $(seq 1 300); do [ -s "$dir/ready" ] && break; sleep 0.1; done
dns_port=$(sed -n 's/^dns_port=//p' "$dir/ready")

# scan DB ID: the K names into DB under ID, timed.
scan() {
    /usr/bin/time -f "scan into $1 ($2): %e s, %U user %S sys, %M KiB peak" \
        "$build/scanner/mtasts-scan" --input "$dir/told.txt" --db "$1" --scan-id "$2" \
        --resolver "127.0.0.1:$dns_port" --ca-file "$dir/ca/ca.pem" --allow-private \
        --ehlo bench.mtasts-scan.test -q
}
id=recheck-$(date +%s)
scan "$dir/empty-$id" "$id"
scan "$dir/db" "$id"
rm -rf "$dir/empty-$id"

/usr/bin/time -f "diff (whole first scan): %e s, %U user %S sys, %M KiB peak" \
    "$A" diff bench "$id" --db "$dir/db" --format json >"$dir/diff-all.json"
/usr/bin/time -f "diff --rechecked-only: %e s, %U user %S sys, %M KiB peak" \
    "$A" diff bench "$id" --db "$dir/db" --rechecked-only --format json >"$dir/diff-r.json"
jq -c '[.compared, .only_old, .only_new]' "$dir/diff-all.json" "$dir/diff-r.json"
# The re-checked side must agree: the same rows once the not-rechecked counts are set aside.
a=$(jq -S -c '.categories | map_values(del(.not_rechecked, .not_rechecked_domains)) | with_entries(select(.value.fixed + .value.still + .value.new > 0))' "$dir/diff-all.json")
b=$(jq -S -c '.categories' "$dir/diff-r.json")
[ "$a" = "$b" ] && echo "categories: the same" || echo "categories: DIFFER"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
