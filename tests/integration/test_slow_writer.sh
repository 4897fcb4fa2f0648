#!/usr/bin/env bash
# The loop never waits for the disk: with a writer that sleeps before every commit and a
# small --writer-backlog, the pipeline pauses admission instead of blocking in put, and the
# scan still gives exactly one record per domain with the verdicts of the ground truth, and
# the loop's own lateness (the scan record's loop_lag_ms) stays far below one commit.
. "$(dirname "$0")/lib.sh"

world_start "$WORK" --generate 800 --seed 13 --latency 0 --jitter 0 \
    --ca-dir "$WORK/ca" --truth "$WORK/truth.jsonl" --list "$WORK/list.txt"
world_ports

expect "scan with a slow writer exits 0" env MTS_WRITER_TEST_DELAY_MS=2000 \
    "$MTS_SCAN" --input "$WORK/list.txt" --db "$WORK/db" --scan-id slow "${SCAN_ARGS[@]}" \
    --smtp-all --writer-backlog 40 --timeout-dns 300 --dns-tries 2
"$MTS_ANALYZE" export --format jsonl --db "$WORK/db" --scan-id slow >"$WORK/slow.jsonl"
expect "every domain analysed once, verdicts equal the ground truth" /usr/bin/python3 \
    "$MTS_SOURCE/tests/integration/compare_verdicts.py" "$WORK/truth.jsonl" "$WORK/slow.jsonl"
expect "one record per domain" test "$(wc -l <"$WORK/slow.jsonl")" -eq "$(wc -l <"$WORK/list.txt")"
"$MTS_RAW_EXPORT" "$WORK/db" slow --meta >"$WORK/meta.json"
# A loop blocked in put is late by most of a commit (2000 ms here); generous for a busy
# machine.
expect "the loop's timers stayed on time" /usr/bin/python3 -c '
import json, sys
lag = json.load(open(sys.argv[1]))["loop_lag_ms"]
print("loop lag", lag, "ms")
sys.exit(0 if lag < 1000 else 1)  # blocked on the disk, it would be >= 2000
' "$WORK/meta.json"

expect "world stops cleanly" world_stop
finish
