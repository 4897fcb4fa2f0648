#!/usr/bin/env bash
# A generated population (providers, long tail, a few percent with MTA-STS, a third of those
# broken), scanned end to end: observations and verdicts equal the ground truth.
. "$(dirname "$0")/lib.sh"

world_start "$WORK" --generate 5000 --seed 3 --latency 0 --jitter 0 \
    --ca-dir "$WORK/ca" --truth "$WORK/truth.jsonl" --list "$WORK/list.txt"
world_ports
expect "scan exits 0" scan "$WORK/db" gen "$WORK/list.txt" --smtp-all
"$MTS_RAW_EXPORT" "$WORK/db" gen >"$WORK/scan.jsonl"
expect "observations equal the ground truth" /usr/bin/python3 \
    "$MTS_SOURCE/tests/integration/compare_truth.py" "$WORK/truth.jsonl" "$WORK/scan.jsonl"
"$MTS_ANALYZE" export --format jsonl --db "$WORK/db" --scan-id gen >"$WORK/verdicts.jsonl"
expect "verdicts and categories equal the ground truth" /usr/bin/python3 \
    "$MTS_SOURCE/tests/integration/compare_verdicts.py" "$WORK/truth.jsonl" "$WORK/verdicts.jsonl"
expect "world stops cleanly" world_stop
finish
