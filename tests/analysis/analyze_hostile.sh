#!/bin/sh
# mtasts-analyze over a store holding every record it must survive (analyze_fixture's
# DIR/hostile): bodies missing or damaged, another record version, a field of the wrong
# type, an undecodable value, terminal escapes in TXT, Content-Type, Location, policy and
# MX names, spreadsheet formulas. Every command exits 0; no text output holds a raw
# control byte; JSON keeps the exact strings; the CSV is spreadsheet-safe, field by field.
# usage: analyze_hostile.sh MTASTS_ANALYZE ANALYZE_FIXTURE SOURCE_DIR
set -u
A=$1
here=$3/tests/analysis
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$2" "$dir" || { echo "fixture failed"; exit 1; }
db="--db $dir/hostile"
fails=0
check() { # name, got, want
    if [ "$2" != "$3" ]; then echo "FAIL $1: got [$2] want [$3]"; fails=$((fails + 1)); fi
}
run() { # name, output file, command...
    name=$1 out=$2
    shift 2
    "$@" >"$out" 2>"$dir/err"
    check "$name exit" $? 0
    if [ -s "$dir/err" ]; then echo "FAIL $name wrote to stderr:"; cat "$dir/err"; fails=$((fails + 1)); fi
}

run summary "$dir/summary.txt" $A summary $db --scan-id h1
for f in text markdown html json; do
    run "report $f" "$dir/report.$f" $A report --format $f $db --scan-id h1
done
texts="$dir/summary.txt $dir/report.text $dir/report.markdown $dir/report.html"
for d in damaged.example empty.example escape.example formula.example future.example \
    location.example wrongtype.example zz-undecodable.example; do
    run "explain $d" "$dir/explain-$d.txt" $A explain $d $db --scan-id h1
    texts="$texts $dir/explain-$d.txt"
done
run "domains" "$dir/domains.txt" $A domains $db --scan-id h1 --verdict misconfigured
run "domains category" "$dir/domains-mx.txt" $A domains $db --scan-id h1 --category validation-failure
run "diff --list" "$dir/diff.txt" $A diff h1 h2 $db --list
run "diff json" "$dir/diff.json" $A diff h1 h2 $db --format json
run "export jsonl" "$dir/x.jsonl" $A export --format jsonl $db --scan-id h1
run "export csv" "$dir/x.csv" $A export --format csv $db --scan-id h1
texts="$texts $dir/domains.txt $dir/domains-mx.txt $dir/diff.txt"

/usr/bin/python3 "$here/text_check.py" $texts || fails=$((fails + 1))

# every analysis error counted and named; verdict indeterminate
check errors "$(jq -c '[.analysis_errors.count, .analysis_errors.examples]' "$dir/report.json")" \
    '[5,["damaged.example","empty.example","future.example","wrongtype.example","zz-undecodable.example"]]'
check categories "$(jq -c '[.categories[] | select(.code | startswith("analysis-error/")) | [.code, .effect, .count]]' "$dir/report.json")" \
    '[["analysis-error/bad-field","unknown",1],["analysis-error/body-damaged","unknown",1],["analysis-error/body-missing","unknown",1],["analysis-error/undecodable","unknown",1],["analysis-error/unknown-version","unknown",1]]'
check error_verdicts "$(jq -r 'select(.analysis_error) | .verdict' "$dir/x.jsonl" | sort -u)" indeterminate
check named "$(grep -c '^  zz-undecodable.example$' "$dir/summary.txt")" 1
check cause "$(grep -c 'analysis error: policy body [0-9a-f]* does not match its SHA-256' "$dir/explain-damaged.example.txt")" 1
check cause_version "$(grep -c 'analysis error: record version 2; this analysis reads version 1' "$dir/explain-future.example.txt")" 1
check diff_still "$(jq '.categories["analysis-error/undecodable"].still' "$dir/diff.json")" 1

# shown escaped in text, exact in JSON
check txt_escaped "$(grep -c -F '"v=STSv1; id=\x1b]0;title\x07\x1b[2J"' "$dir/explain-escape.example.txt")" 1
check location_escaped "$(grep -c -F 'redirect to https://www.example/\x1b]0;title\x07\x1b[2J' "$dir/explain-location.example.txt")" 1
check media_escaped "$(grep -c -F 'text/plain\x1b[31m' "$dir/explain-damaged.example.txt")" 1
check policy_escaped "$(grep -c -F 'mx: \x1b]0;title\x07\x1b[2J \xc2\x9b31m\x7f\xe2\x80\xae' "$dir/explain-escape.example.txt")" 1
check json_exact "$(jq -r 'select(.domain=="escape.example") | .txt.records[0]' "$dir/x.jsonl" | od -An -c | tr -s ' ' | head -1)" \
    "$(printf 'v=STSv1; id=\033]0;title\007\033[2J\n' | od -An -c | tr -s ' ' | head -1)"

/usr/bin/python3 "$here/csv_check.py" "$dir/x.csv" "$dir/x.jsonl" || fails=$((fails + 1))
check csv_formula "$(/usr/bin/python3 -c 'import csv,sys; r={x[0]: x for x in csv.reader(open(sys.argv[1], newline=""))}; print(r["formula.example"][5], r["formula.example"][15])' "$dir/x.csv")" \
    "'=1+1 '=cmd|' /C calc'!A0"

echo "analyze_hostile: $fails failures"
[ "$fails" -eq 0 ]
