#!/usr/bin/env bash
# Every case of the taxonomy scenario, scanned end to end (DNS, HTTPS, SMTP for every MX),
# must match the world's ground truth observation by observation, and mtasts-analyze must
# reach the truth's verdict and categories for every domain.
. "$(dirname "$0")/lib.sh"

world_start "$WORK" --scenario "$MTS_SOURCE/tests/world/scenarios/taxonomy.scn" \
    --ca-dir "$WORK/ca" --truth "$WORK/truth.jsonl" --list "$WORK/list.txt"
world_ports
expect "scan exits 0" scan "$WORK/db" taxonomy "$WORK/list.txt" --smtp-all
"$MTS_RAW_EXPORT" "$WORK/db" taxonomy >"$WORK/scan.jsonl"
expect "scan equals the ground truth" /usr/bin/python3 "$MTS_SOURCE/tests/integration/compare_truth.py" \
    "$WORK/truth.jsonl" "$WORK/scan.jsonl"
"$MTS_ANALYZE" export --format jsonl --db "$WORK/db" --scan-id taxonomy >"$WORK/verdicts.jsonl"
expect "verdicts and categories equal the ground truth" /usr/bin/python3 \
    "$MTS_SOURCE/tests/integration/compare_verdicts.py" "$WORK/truth.jsonl" "$WORK/verdicts.jsonl"
expect "world stops cleanly" world_stop
finish
