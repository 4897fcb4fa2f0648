#!/usr/bin/env bash
# The DNS stages alone (--no-https --no-smtp) record exactly the world's DNS, and no
# connection is made: the world's HTTPS and SMTP servers see nobody.
. "$(dirname "$0")/lib.sh"

world_start "$WORK" --scenario "$MTS_SOURCE/tests/world/scenarios/taxonomy.scn" \
    --ca-dir "$WORK/ca" --truth "$WORK/truth.jsonl" --list "$WORK/list.txt" \
    --conn-stats "$WORK/conn.json"
world_ports
expect "scan exits 0" scan "$WORK/db" dnsonly "$WORK/list.txt" --no-https --no-smtp
"$MTS_RAW_EXPORT" "$WORK/db" dnsonly >"$WORK/scan.jsonl"
expect "DNS observations equal the ground truth" /usr/bin/python3 \
    "$MTS_SOURCE/tests/integration/compare_truth.py" "$WORK/truth.jsonl" "$WORK/scan.jsonl" --dns-only
expect "world stops cleanly" world_stop
expect "no SMTP session was opened" /usr/bin/python3 -c '
import json, sys
stats = json.load(open(sys.argv[1]))
sys.exit(1 if any(v["sessions"] for v in stats.values()) else 0)' "$WORK/conn.json"
finish
