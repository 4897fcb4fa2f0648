#!/usr/bin/env bash
# The DNS stages through a real recursive resolver, as scanners run in the field: unbound
# (the real-server fixture, tests/world/realservers.sh) forwards to the world's DNS server,
# the scanner asks only unbound (--no-https --no-smtp), and every DNS observation must match
# the world's ground truth under compare_truth.py --via-resolver (TTLs not compared; the
# failures a resolver rewrites compared as one class; everything else exactly).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SECONDS=0
world_start "$WORK" --scenario "$MTS_SOURCE/tests/world/scenarios/taxonomy.scn" \
    --ca-dir "$WORK/ca" --truth "$WORK/truth.jsonl" --list "$WORK/list.txt" \
    --conn-stats "$WORK/conn.json"
real_start
echo "unbound on $UNBOUND_ADDR:$UNBOUND_PORT, forwarding to the world on 127.0.0.1:$DNS_PORT"

# The world's own ports are not given: --no-https --no-smtp, and DNS goes to unbound only.
if ! "$MTS_SCAN" --input "$WORK/list.txt" --db "$WORK/db" --scan-id viaunbound \
    --resolver "$UNBOUND_ADDR:$UNBOUND_PORT" --no-https --no-smtp --allow-private \
    --ehlo scanner.mtasts-scan.test --timeout-dns 2000 --dns-tries 3 -q; then
    bad "scan through unbound exits 0"
    real_logs
fi
"$MTS_RAW_EXPORT" "$WORK/db" viaunbound >"$WORK/scan.jsonl"
if ! /usr/bin/python3 "$MTS_SOURCE/tests/integration/compare_truth.py" \
    "$WORK/truth.jsonl" "$WORK/scan.jsonl" --dns-only --via-resolver; then
    bad "DNS observations through unbound equal the ground truth"
    real_logs
else
    ok
fi
expect "every observation names unbound as its resolver" /usr/bin/python3 -c '
import json, sys
want = sys.argv[2]
bad = []
for line in open(sys.argv[1]):
    r = json.loads(line)
    obs = list(r["dns"].values())
    for m in r.get("mx", []):
        obs += [m[k] for k in ("a", "aaaa") if k in m]
    bad += [(r["domain"], o.get("qname"), o.get("resolver")) for o in obs
            if o.get("result") != "skipped" and o.get("resolver") != want]
print(len(bad), "observations from another resolver:", bad[:5])
sys.exit(1 if bad else 0)' "$WORK/scan.jsonl" "$UNBOUND_ADDR:$UNBOUND_PORT"
expect "scan metadata lists unbound as the only resolver" /usr/bin/python3 -c '
import json, sys
m = json.loads(sys.stdin.read())
sys.exit(0 if m.get("resolvers") == [sys.argv[1]] and m.get("state") == "complete" else 1)' \
    "$UNBOUND_ADDR:$UNBOUND_PORT" < <("$MTS_RAW_EXPORT" "$WORK/db" viaunbound --meta)

real_stop
expect "world stops cleanly" world_stop
# The world answered unbound, not the scanner directly: its query counter moved, and no
# HTTPS or SMTP session reached the world.
expect "the world's DNS server was queried (by unbound)" grep -Eq 'queries[ =:]+[1-9]' "$WORK/world.err"
expect "no SMTP session was opened" /usr/bin/python3 -c '
import json, sys
stats = json.load(open(sys.argv[1]))
sys.exit(1 if any(v["sessions"] for v in stats.values()) else 0)' "$WORK/conn.json"
echo "integration_unbound: ${SECONDS} s"
finish
