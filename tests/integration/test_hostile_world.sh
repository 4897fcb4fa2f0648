#!/usr/bin/env bash
# A generated population with a share of hostile domains mixed in (control bytes in MX names,
# 243-253 character names, CNAME loops and long chains, KiB-sized TXT answers, empty, huge and
# gzip-bombed policies, tarpits, drips, resets, garbage banners, long certificate names): the
# scan finishes with exit 0, records every input name exactly once, and every domain, hostile
# or not, gets the verdict and categories of the ground truth.
. "$(dirname "$0")/lib.sh"
N=${HOSTILE_DOMAINS:-3000}

world_start "$WORK" --generate "$N" --seed 11 --hostile 0.3 --latency 0 --jitter 0 \
    --ca-dir "$WORK/ca" --truth "$WORK/truth.jsonl" --list "$WORK/list.txt"
world_ports
expect "scan exits 0" scan "$WORK/db" hostile "$WORK/list.txt" --smtp-all
"$MTS_RAW_EXPORT" "$WORK/db" hostile >"$WORK/scan.jsonl"
expect "every input name recorded exactly once" /usr/bin/python3 -c '
import json, sys
names = [json.loads(l)["domain"] for l in open(sys.argv[1], encoding="utf-8")]
want = [l.rstrip("\n") for l in open(sys.argv[2], encoding="utf-8")]
dup = len(names) - len(set(names))
missing, extra = set(want) - set(names), set(names) - set(want)
print(f"{len(names)} records, {dup} duplicates, {len(missing)} missing, {len(extra)} extra")
sys.exit(1 if dup or missing or extra or len(want) != len(set(want)) else 0)
' "$WORK/scan.jsonl" "$WORK/list.txt"
expect "observations equal the ground truth" /usr/bin/python3 \
    "$MTS_SOURCE/tests/integration/compare_truth.py" "$WORK/truth.jsonl" "$WORK/scan.jsonl"
"$MTS_ANALYZE" export --format jsonl --db "$WORK/db" --scan-id hostile >"$WORK/verdicts.jsonl"
expect "verdicts and categories equal the ground truth" /usr/bin/python3 \
    "$MTS_SOURCE/tests/integration/compare_verdicts.py" "$WORK/truth.jsonl" "$WORK/verdicts.jsonl"
expect "world stops cleanly" world_stop
finish
