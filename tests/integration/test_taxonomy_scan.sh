#!/usr/bin/env bash
# Every case of the taxonomy scenario, scanned end to end (DNS, HTTPS, SMTP for every MX),
# must match the world's ground truth observation by observation, and mtasts-analyze must
# reach the truth's verdict and categories for every domain, and print the world's hostile
# bytes (terminal escapes in TXT, policy, Content-Type, Location) only as visible escapes.
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
# TLS-RPT https: report hosts: each checked with one handshake in the whole scan (two
# domains naming one host hold the very same observation, timings included), no request.
expect "one TLS check per report host" /usr/bin/python3 - "$WORK/scan.jsonl" <<'PY'
import json, sys
tls = {}
for line in open(sys.argv[1]):
    rec = json.loads(line)
    for d in rec.get("tlsrpt_rua", []):
        if d["scheme"] == "https" and "tls" in d:
            tls.setdefault(d["host"], []).append(d["tls"])
want = {"tlsrpt.reports.test": "ok", "tlsrpt-expired.reports.test": "cert-invalid",
        "tlsrpt-refused.reports.test": "connect-refused"}
for host, result in want.items():
    seen = tls.get(host, [])
    assert seen and all(t == seen[0] for t in seen), (host, seen)
    assert seen[0]["result"] == result and seen[0]["why"] == "tlsrpt", seen[0]
    assert "chain" not in seen[0].get("tls", {}) and "http_status" not in seen[0], seen[0]
assert len(tls["tlsrpt.reports.test"]) == 4, tls["tlsrpt.reports.test"]
assert tls["tlsrpt-expired.reports.test"][0]["tls"]["verify"] == "expired"
assert "nohost.reports.test" not in tls  # no address: nothing to check
PY
# The CSV export equals the JSON Lines export field by field; a rua size limit in both.
"$MTS_ANALYZE" export --format csv --db "$WORK/db" --scan-id taxonomy >"$WORK/verdicts.csv"
expect "CSV export equals the JSON Lines export" /usr/bin/python3 \
    "$MTS_SOURCE/tests/analysis/csv_check.py" "$WORK/verdicts.csv" "$WORK/verdicts.jsonl"
expect "rua size limit exported" test "$(jq -c 'select(.domain == "tlsrpt-size-suffix.example")
    | .tlsrpt.rua_size_limit' "$WORK/verdicts.jsonl")" = "[10485760,null]"
expect "rua size limit in the CSV" test "$(/usr/bin/python3 -c 'import csv, sys
rows = {r[0]: r for r in csv.reader(open(sys.argv[1], newline=""))}
print(rows["tlsrpt-size-suffix.example"][-1])' "$WORK/verdicts.csv")" = "10485760 none"
# A warning whose message was once cut inside a UTF-8 character: the record is still there.
expect "a 40-byte size-limited URI keeps its TLS-RPT record" test "$(jq -c 'select(.domain ==
    "tlsrpt-size-suffix-cut.example") | .tlsrpt.rua_size_limit' "$WORK/verdicts.jsonl")" = "[10485760]"
# Text outputs over every hostile record of the world: exit 0, no raw control byte.
to() { # FILE COMMAND...: run COMMAND with its output in FILE
    local out=$1
    shift
    "$@" >"$out"
}
texts=()
for f in text markdown html; do
    expect "report --format $f exits 0" to "$WORK/report.$f" \
        "$MTS_ANALYZE" report --format "$f" --db "$WORK/db" --scan-id taxonomy
    texts+=("$WORK/report.$f")
done
for d in hostile-txt hostile-policy hostile-media-type hostile-location policy-empty-body \
    policy-many-findings tlsrpt-size-suffix-cut; do
    expect "explain $d exits 0" to "$WORK/explain-$d.txt" \
        "$MTS_ANALYZE" explain "$d.example" --db "$WORK/db" --scan-id taxonomy
    texts+=("$WORK/explain-$d.txt")
done
expect "no raw control byte in a text output" /usr/bin/python3 \
    "$MTS_SOURCE/tests/analysis/text_check.py" "${texts[@]}"
expect "the TXT record shown escaped" grep -q -F '"v=STSv1; id=\x1b]0;title\x07\x1b[2J"' \
    "$WORK/explain-hostile-txt.txt"
expect "the Content-Type shown escaped" grep -q -F 'text/plain\x1b]0;title\x07' \
    "$WORK/explain-hostile-media-type.txt"
expect "the Location shown escaped" grep -q -F 'redirect to https://www.example/\x1b]0;title\x07\x1b[2J' \
    "$WORK/explain-hostile-location.txt"
expect "the policy's mx shown escaped" grep -q -F 'mx: \x1b]0;title\x07\x1b[2J' \
    "$WORK/explain-hostile-policy.txt"
expect "the error after 70 warnings explained" grep -q -F 'sts-policy-invalid/bad-mode' \
    "$WORK/explain-policy-many-findings.txt"
expect "the cut warning explained" grep -q -F 'tlsrpt-warning/size-suffix' \
    "$WORK/explain-tlsrpt-size-suffix-cut.txt"
expect "the TXT record's finding explained" grep -q -F '(sts-txt-invalid/syntax)' \
    "$WORK/explain-hostile-txt.txt"
expect "world stops cleanly" world_stop
finish
