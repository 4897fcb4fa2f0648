#!/usr/bin/env bash
# This machine's limits never become observations: the same generated world scanned under
# a soft limit of 64 open files gives the verdicts of the ground truth, the scanner says
# which limits it lowered to fit, and no record holds a local error.
. "$(dirname "$0")/lib.sh"

world_start "$WORK" --generate 1500 --seed 11 --latency 0 --jitter 0 \
    --ca-dir "$WORK/ca" --truth "$WORK/truth.jsonl" --list "$WORK/list.txt"
world_ports

# scan_limited NOFILE DB ID: the scan in a shell whose soft and hard open-file limit is NOFILE.
scan_limited() {
    local nofile=$1 db=$2 id=$3
    bash -c 'ulimit -n "$1"; shift; exec "$@"' _ "$nofile" \
        "$MTS_SCAN" --input "$WORK/list.txt" --db "$db" --scan-id "$id" "${SCAN_ARGS[@]}" \
        --smtp-all 2>"$WORK/$id.err"
}

expect "scan under ulimit -n 64 exits 0" scan_limited 64 "$WORK/db" low
cat "$WORK/low.err" >&2
expect "the scanner names the limit it lowered" grep -q "open files" "$WORK/low.err"
"$MTS_ANALYZE" export --format jsonl --db "$WORK/db" --scan-id low >"$WORK/low.jsonl"
expect "verdicts under ulimit -n 64 equal the ground truth" /usr/bin/python3 \
    "$MTS_SOURCE/tests/integration/compare_verdicts.py" "$WORK/truth.jsonl" "$WORK/low.jsonl"
"$MTS_RAW_EXPORT" "$WORK/db" low >"$WORK/low.raw"
expect "no record holds a local error" not grep -q '"local-error"' "$WORK/low.raw"

expect "a limit too small for the scan is refused clearly" not scan_limited 12 "$WORK/db2" tiny
expect "the refusal names the limit" grep -q "open files" "$WORK/tiny.err"

expect "world stops cleanly" world_stop
finish
