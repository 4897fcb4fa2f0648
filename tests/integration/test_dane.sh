#!/usr/bin/env bash
# --dane: every MX host gets a TLSA _25._tcp lookup with the DO bit, stored as observed
# (records and the AD flag); without --dane there is none. The analysis reports the DANE
# overlap only for a scan that looked: the world is not DNSSEC-signed, so no TLSA answer
# carries AD and no domain counts as DANE-protected.
. "$(dirname "$0")/lib.sh"

world_start "$WORK" --scenario "$MTS_SOURCE/tests/world/scenarios/taxonomy.scn" \
    --ca-dir "$WORK/ca" --list "$WORK/list.txt"
world_ports
expect "scan with --dane exits 0" scan "$WORK/db" dane "$WORK/list.txt" --dane --no-https --no-smtp
expect "scan without --dane exits 0" scan "$WORK/db" plain "$WORK/list.txt" --no-https --no-smtp
"$MTS_RAW_EXPORT" "$WORK/db" dane >"$WORK/dane.jsonl"
"$MTS_RAW_EXPORT" "$WORK/db" plain >"$WORK/plain.jsonl"
expect "TLSA observed as published, AD recorded, only with --dane" /usr/bin/python3 -c '
import json, sys
ok = seen = 0
for line in open(sys.argv[1]):
    for mx in json.loads(line)["mx"]:
        t = mx.get("tlsa")
        if t is None:
            sys.exit(mx["host"] + ": no TLSA observation")
        if t["qname"] != "_25._tcp." + mx["host"] or t["qtype"] != "TLSA" or "ad" not in t:
            sys.exit(mx["host"] + ": " + json.dumps(t))
        if mx["host"] == "mx1.bigmail.test":
            seen += 1
            rd = [a.get("rdata", "") for a in t.get("answer", []) if a["type"] == "TLSA"]
            ok += t["result"] == "answer" and len(rd) == 1 and rd[0].lower().startswith("3 1 1 0f1e2d3c")
        elif mx["host"] == "mx2.bigmail.test" and t["result"] not in ("nxdomain", "nodata"):
            sys.exit("mx2: " + t["result"])
for line in open(sys.argv[2]):
    if any("tlsa" in mx for mx in json.loads(line)["mx"]):
        sys.exit("a TLSA lookup without --dane")
print(f"mx1.bigmail.test: {ok} of {seen} TLSA answers as published")
sys.exit(0 if seen and ok == seen else 1)
' "$WORK/dane.jsonl" "$WORK/plain.jsonl"
"$MTS_ANALYZE" report --format json --db "$WORK/db" --scan-id dane >"$WORK/dane-report.json"
"$MTS_ANALYZE" report --format json --db "$WORK/db" --scan-id plain >"$WORK/plain-report.json"
expect "DANE overlap reported for the --dane scan only, nothing validated" /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1])).get("dane")
p = json.load(open(sys.argv[2])).get("dane")
counts = {r["status"]: r["count"] for r in d or []}
print("dane:", counts)
sys.exit(0 if d and p is None and counts.get("all-mx") == 0 and counts.get("some-mx") == 0
         and counts.get("none", 0) > 0 else 1)
' "$WORK/dane-report.json" "$WORK/plain-report.json"
expect "world stops cleanly" world_stop
finish
