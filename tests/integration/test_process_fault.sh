#!/usr/bin/env bash
# A fault of the scanner itself is never stored as a fact about a domain: when memory runs
# out starting one domain's DNS lookup (oom_shim.so makes it so for names with "oom-"), the
# scan ends with an error, that domain has no record (no "error" DNS observation stands in
# for it), the scan is marked interrupted, and --resume without the fault completes it with
# one record per name.
. "$(dirname "$0")/lib.sh"
N=2000

world_start "$WORK" --generate "$N" --seed 11 --latency 2 --jitter 2 \
    --ca-dir "$WORK/ca" --list "$WORK/world-list.txt"
world_ports
{ head -n 1000 "$WORK/world-list.txt"; echo oom-fault.example; tail -n +1001 "$WORK/world-list.txt"; } \
    >"$WORK/list.txt"

# A sanitizer build wants its runtime first in the library list, before the shim.
preload=$MTS_OOM_SHIM
asan=$(ldd "$MTS_SCAN" | awk '/libasan/ {print $3}')
[ -n "$asan" ] && preload="$asan $MTS_OOM_SHIM"
expect "the fault ends the scan with an error" not env LD_PRELOAD="$preload" \
    "$MTS_SCAN" --input "$WORK/list.txt" --db "$WORK/db" --scan-id s "${SCAN_ARGS[@]}" \
    --no-https --no-smtp --concurrency 100 2>"$WORK/scan.err"
cat "$WORK/scan.err"
expect "the error names the fault" grep -q "out of memory" "$WORK/scan.err"
"$MTS_RAW_EXPORT" "$WORK/db" s >"$WORK/partial.jsonl"
echo "$(wc -l <"$WORK/partial.jsonl") domains committed before the fault"
expect "no record for the domain of the fault" not grep -q '"domain":"oom-fault.example"' \
    "$WORK/partial.jsonl"
expect "no DNS observation says error" not grep -q '"result":"error"' "$WORK/partial.jsonl"
"$MTS_RAW_EXPORT" "$WORK/db" s --meta >"$WORK/meta.json"
expect "the scan is marked interrupted" grep -q '"state":"interrupted"' "$WORK/meta.json"

expect "resume without the fault exits 0" scan "$WORK/db" s "$WORK/list.txt" --no-https \
    --no-smtp --concurrency 100 --resume
"$MTS_RAW_EXPORT" "$WORK/db" s >"$WORK/resumed.jsonl"
expect "one record per name" test "$(wc -l <"$WORK/resumed.jsonl")" -eq $((N + 1))
expect "each name once" test "$(sed 's/.*"domain":"\([^"]*\)".*/\1/' "$WORK/resumed.jsonl" |
    sort -u | wc -l)" -eq $((N + 1))
expect "world stops cleanly" world_stop
finish
