#!/usr/bin/env bash
# Every wait has a deadline: eight domains whose MX hosts share one address that never
# sends a banner (a tarpit), scanned with --per-ip 1. Without a deadline the probes queue
# behind each other for a banner timeout each; with --queue-timeout 1000 the tarpit holds
# one probe, the others end as queue-timeout, the scan ends in a few seconds, the analysis
# says "cannot tell" (indeterminate, queue-timeout/mx-probe of effect unknown in summary
# and explain), the scan record counts them, and a domain elsewhere is unaffected.
. "$(dirname "$0")/lib.sh"

{
    cat <<'SCN'
preset tarpit-domain
    sts "v=STSv1; id=1"
    policy-a auto
    policy.body "version: STSv1\nmode: enforce\nmx: *.tarpit.test\nmx: *.good.test\nmax_age: 1209600\n"
    tlsrpt "v=TLSRPTv1; rua=mailto:tlsrpt@example.net"
host mx.tarpit.test
    addr 127.30.0.1
    smtp.fault stall banner
host mx.good.test
    addr 127.30.0.2
domain good.example
    use tarpit-domain
    mx 10 mx.good.test
    verdict valid-enforce
SCN
    for i in 1 2 3 4 5 6 7 8; do
        printf 'name mx%s.tarpit.test\n    a 127.30.0.1\n' "$i"
        printf 'domain tarpit%s.example\n    use tarpit-domain\n    mx 10 mx%s.tarpit.test\n' "$i" "$i"
        printf '    verdict indeterminate\n'
    done
} >"$WORK/tarpit.scn"

world_start "$WORK" --scenario "$WORK/tarpit.scn" --ca-dir "$WORK/ca" --list "$WORK/list.txt"
world_ports
start=$(date +%s)
expect "scan exits 0" scan "$WORK/db" tarpit "$WORK/list.txt" --per-ip 1 --timeout-smtp 3000 \
    --queue-timeout 1000
elapsed=$(($(date +%s) - start))
echo "scan took ${elapsed} s (eight banner timeouts in a row would take 24 s)"
expect "the scan is not held by the tarpit" test "$elapsed" -lt 15
"$MTS_RAW_EXPORT" "$WORK/db" tarpit >"$WORK/scan.jsonl"
"$MTS_ANALYZE" export --format jsonl --db "$WORK/db" --scan-id tarpit >"$WORK/verdicts.jsonl"
expect "the tarpit's waiters end as queue-timeout, the analysis cannot tell" /usr/bin/python3 -c '
import collections, json, sys
results = collections.Counter()
for line in open(sys.argv[1]):
    rec = json.loads(line)
    for mx in rec["mx"]:
        for p in mx.get("probes", []):
            if p["addr"] == "127.30.0.1":
                results[p["probe"]["result"]] += 1
verdicts = {}
for line in open(sys.argv[2]):
    r = json.loads(line)
    verdicts[r["domain"]] = (r["verdict"], sorted(c["code"] for c in r.get("categories", [])))
print(dict(results))
print(verdicts)
ok = results["queue-timeout"] >= 6 and sum(results.values()) == 8
ok &= set(results) <= {"queue-timeout", "timeout"}
ok &= verdicts["good.example"][0] == "valid-enforce"
for d, (v, cats) in verdicts.items():
    if d.startswith("tarpit"):
        ok &= v == "indeterminate"
        ok &= "queue-timeout/mx-probe" in cats or "mx-info/smtp-error" in cats
sys.exit(0 if ok else 1)
' "$WORK/scan.jsonl" "$WORK/verdicts.jsonl"
# Which domain's probe got the tarpit's slot (and timed out at the banner) is a race:
# explain them all; those that waited say there is nothing to fix on the domain.
for i in 1 2 3 4 5 6 7 8; do
    "$MTS_ANALYZE" explain "tarpit$i.example" --db "$WORK/db" --scan-id tarpit
done >"$WORK/explain.txt"
expect "explain: the scan could not look, nothing to fix on the domain" \
    test "$(grep -c "Nothing to fix on the domain" "$WORK/explain.txt")" -ge 6
"$MTS_ANALYZE" summary --db "$WORK/db" >"$WORK/summary.txt"
grep "queue-timeout" "$WORK/summary.txt"
expect "summary: queue-timeout/mx-probe has effect unknown" \
    grep -q "queue-timeout/mx-probe.*unknown" "$WORK/summary.txt"
"$MTS_RAW_EXPORT" "$WORK/db" tarpit --meta >"$WORK/meta.json"
expect "the scan record counts the queue timeouts" /usr/bin/python3 -c '
import json, sys
counts = json.load(open(sys.argv[1]))["counts"]
probes = [p["probe"]["result"] for line in open(sys.argv[2]) for mx in json.loads(line)["mx"]
          for p in mx.get("probes", [])]
print(counts)
sys.exit(0 if counts["queue_timeouts"] == probes.count("queue-timeout") >= 6 and
         counts["local_errors"] == 0 else 1)
' "$WORK/meta.json" "$WORK/scan.jsonl"
expect "world stops cleanly" world_stop
finish
