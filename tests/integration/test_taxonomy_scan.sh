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
for d in hostile-txt hostile-policy hostile-media-type hostile-location policy-empty-body; do
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
expect "world stops cleanly" world_stop
finish
