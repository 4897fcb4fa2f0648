#!/usr/bin/env bash
# Politeness and sharing, seen from the servers: with --per-ip 1 no MX address ever has two
# sessions from the scanner at once, and every (MX host, address) is probed exactly once
# however many domains share it.
. "$(dirname "$0")/lib.sh"

world_start "$WORK" --generate 3000 --seed 11 --latency 0 --jitter 0 \
    --ca-dir "$WORK/ca" --list "$WORK/list.txt" --conn-stats "$WORK/conn.json"
world_ports
expect "scan exits 0" scan "$WORK/db" polite "$WORK/list.txt" --smtp-all --per-ip 1 \
    --no-https --concurrency 1000
"$MTS_RAW_EXPORT" "$WORK/db" polite >"$WORK/scan.jsonl"
expect "world stops cleanly" world_stop
expect "one session per (host, address), never two at once per address" /usr/bin/python3 -c '
import collections, json, sys
stats = json.load(open(sys.argv[1]))
keys, refs = set(), 0
for line in open(sys.argv[2]):
    for mx in json.loads(line)["mx"]:
        for p in mx.get("probes", []):
            if "skip" not in p:
                keys.add((mx["host"], p["addr"]))
                refs += 1
per_addr = collections.Counter(addr for _, addr in keys)
bad = [a for a, v in stats.items() if v["max_concurrent"] > 1]
wrong = [a for a in set(per_addr) | set(stats)
         if per_addr.get(a, 0) != stats.get(a, {}).get("sessions", 0)]
print(f"{refs} probe references, {len(keys)} distinct probes, {len(stats)} addresses")
print("over the per-ip limit:", bad[:5], "sessions != distinct probes:", wrong[:5])
sys.exit(1 if bad or wrong or refs <= len(keys) else 0)
' "$WORK/conn.json" "$WORK/scan.jsonl"
finish
