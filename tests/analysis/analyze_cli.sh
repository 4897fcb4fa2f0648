#!/bin/sh
# mtasts-analyze end to end over the fixture stores: report counts, domain lists, explain,
# diff counts, exports, the two-shard analysis equal to the one-store analysis, exit codes.
# usage: analyze_cli.sh MTASTS_ANALYZE ANALYZE_FIXTURE
set -u
A=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$2" "$dir" || { echo "fixture failed"; exit 1; }
one="--db $dir/one"
fails=0
check() { # name, got, want
    if [ "$2" != "$3" ]; then echo "FAIL $1: got [$2] want [$3]"; fails=$((fails + 1)); fi
}

# report --format json: counts
$A report --format json $one --scan-id s1 >"$dir/r.json" || fails=$((fails + 1))
check domains "$(jq .domains "$dir/r.json")" 7
check record "$(jq '.funnel[] | select(.stage=="record") | .count' "$dir/r.json")" 5
check enforce_working "$(jq '.funnel[] | select(.stage=="enforce_working") | .count' "$dir/r.json")" 1
check indeterminate "$(jq .indeterminate "$dir/r.json")" 1
check misconfigured "$(jq .verdicts.misconfigured "$dir/r.json")" 3
check would_bounce "$(jq -c .would_bounce.examples "$dir/r.json")" '["bounce.example"]'
check redirect "$(jq '.categories[] | select(.code=="sts-policy-fetch-error/redirect") | .count' "$dir/r.json")" 1
check modes "$(jq -c '[.modes[].count]' "$dir/r.json")" '[2,1,0]'
check mx_provider "$(jq -r '.providers.mx[0] | "\(.name) \(.domains)"' "$dir/r.json")" "provider.net 3"
# the paper table: 5 of 7 with a record; of those bounce, hostile and redirect misconfigured,
# bounce would bounce, bounce and good enforce, testing testing, good's TLS-RPT valid (and
# none's, of all)
check paper "$(jq -c '[.paper[] | [.key, .count, .of, .pct]]' "$dir/r.json")" \
    '[["record",5,7,71.43],["misconfigured",3,5,60],["would_bounce",1,5,20],["mode_enforce",2,5,40],["mode_testing",1,5,20],["mode_none",0,5,0],["tlsrpt_record",1,5,20],["tlsrpt_all",2,7,28.57],["tlsrpt_ready",1,5,20]]'
# sender profiles: the resolver and maddy also enforce hostile's policy (they take any mx
# value) and bounce it; with strict_testing the resolver enforces testing's policy too;
# no-mta-sts protects none
check profiles "$(jq -c '[.sender_profiles.profiles[] | [.name, .would_bounce, .seen_as.enforce, .unprotected]]' "$dir/r.json")" \
    '[["rfc8461",1,2,5],["postfix-mta-sts-resolver",2,3,4],["postfix-mta-sts-resolver-strict-testing",2,4,3],["maddy",2,3,4],["no-mta-sts",0,0,7]]'
check profiles_differ "$(jq -c '.sender_profiles.differ' "$dir/r.json")" \
    '{"count":2,"examples":["hostile.example","testing.example"],"more":0}'
check lenient_alias "$(jq .would_bounce.lenient_count "$dir/r.json")" 2
# faults by provider: bounce's uncovered MX host is its own provider's
check faults "$(jq -c '.faults_by_provider.top[] | select(.provider=="bounce.example") | [.by, .category, .effect, .domains]' "$dir/r.json")" \
    '["mx","validation-failure/mx-not-covered","bounce",1]'
check faults_distinct "$(jq .faults_by_provider.distinct "$dir/r.json")" 2
$A report --format markdown $one --scan-id s1 >"$dir/r.md" || fails=$((fails + 1))
check faults_md "$(grep -c '^| mx | bounce.example | `validation-failure/mx-not-covered` | 1 |$' "$dir/r.md")" 1
check profiles_md "$(grep -c '^| `postfix-mta-sts-resolver-strict-testing` | 2 | 4 | 0 | 0 | 3 | 3 |$' "$dir/r.md")" 1
check profiles_text "$($A summary $one --scan-id s1 | grep -c '^  no-mta-sts  *0  *0  *0  *0  *7  *7$')" 1
check paper_md "$(grep -c '^| mail would bounce (of those with a record) | 1 | 5 | 20.00 |$' "$dir/r.md")" 1
check paper_text "$($A summary $one --scan-id s1 | grep -c '^  with an _mta-sts record  *5  *7  *71.43%$')" 1

# the latest scan is the default; summary is the text report
check default_scan "$($A summary $one | head -1)" "MTA-STS scan s2: 7 domains (1 store)"

# two shards = one store
$A report --format json --db "$dir/shard0" --db "$dir/shard1" --scan-id s1 >"$dir/s.json" || fails=$((fails + 1))
check shards "$(jq -S 'del(.stores)' "$dir/s.json" | md5sum)" "$(jq -S 'del(.stores)' "$dir/r.json" | md5sum)"
$A summary --db "$dir/shard0" --db "$dir/shard0" >/dev/null 2>&1
check same_store_twice $? 1

# domains
check cat_prefix "$($A domains $one --scan-id s1 --category sts-policy-fetch-error)" "redirect.example"
# hostile.example's policy is invalid (its mx pattern is not a name): not in effect, so no MX findings
check cat_exact "$($A domains $one --scan-id s1 --category validation-failure/mx-not-covered | tr '\n' ' ')" "bounce.example "
check verdict "$($A domains $one --scan-id s1 --verdict indeterminate)" "indet.example"
check bounce "$($A domains $one --scan-id s1 --would-bounce)" "bounce.example"
check bounce_maddy "$($A domains $one --scan-id s1 --would-bounce --profile maddy | tr '\n' ' ')" "bounce.example hostile.example "
check bounce_none "$($A domains $one --scan-id s1 --would-bounce --profile no-mta-sts)" ""
$A domains $one --scan-id s1 --would-bounce --profile madd >/dev/null 2>"$dir/p.err"; check profile_unknown $? 2
check profile_suggest "$(grep -c '^did you mean maddy?$' "$dir/p.err")" 1
$A domains $one --scan-id s1 --verdict misconfigured --profile maddy >/dev/null 2>&1; check profile_alone $? 2

# explain
$A explain bounce.example $one --scan-id s1 >"$dir/e.txt"
check explain_problem "$(grep -c '^  validation-failure/mx-not-covered' "$dir/e.txt")" 1
check explain_fix "$(grep -c 'fix: Add an "mx:" line' "$dir/e.txt")" 1
check explain_profiles "$(grep -c '^    \(rfc8461\|postfix-mta-sts-resolver\|postfix-mta-sts-resolver-strict-testing\|maddy\): enforce, mail would bounce$' "$dir/e.txt")" 4
check explain_bounce "$(head -1 "$dir/e.txt")" "bounce.example (scan s1): misconfigured, mail would bounce"
$A explain nosuch.example $one >/dev/null 2>&1
check explain_missing $? 1

# diff
$A diff s1 s2 $one --format json >"$dir/d.json" || fails=$((fails + 1))
check compared "$(jq -c '[.compared, .only_old, .only_new]' "$dir/d.json")" "[6,1,1]"
check fixed "$(jq -c '.categories["sts-policy-fetch-error/redirect"].fixed_domains' "$dir/d.json")" '["redirect.example"]'
check new "$(jq '.categories["certificate-expired/mx"].new' "$dir/d.json")" 1
check still "$(jq '.categories["validation-failure/mx-not-covered"].still' "$dir/d.json")" 1
check body_changed "$(jq -c '.changes["change/body-changed-id-unchanged"].domains' "$dir/d.json")" '["good.example"]'
check id_changed "$(jq -c '.changes.policy_id.domains' "$dir/d.json")" '["testing.example"]'

# diff: a policy URL that went from a policy to a 404 page (or back) is a fetch error fixed
# or new; the error page's hash is no policy body, so no body changed
rc="--db $dir/recheck"
$A diff r1 r2 $rc --format json >"$dir/d404.json" || fails=$((fails + 1))
check d404_fixed "$(jq -c '.categories["sts-policy-fetch-error/http-status"] | [.fixed_domains, .new_domains]' "$dir/d404.json")" '[["from404.example"],["to404.example"]]'
check d404_no_drift "$(jq '.changes["change/body-changed-id-unchanged"].count' "$dir/d404.json")" 0
check d404_id_same "$(jq '.changes.policy_id.count' "$dir/d404.json")" 0

# export
$A export --format jsonl $one --scan-id s1 >"$dir/x.jsonl" || fails=$((fails + 1))
check jsonl_lines "$(jq -c . "$dir/x.jsonl" | wc -l)" 7
check jsonl_redirect "$(jq -r 'select(.domain=="redirect.example") | .policy_fetch.error_class' "$dir/x.jsonl")" redirect
check jsonl_cover "$(jq -r 'select(.domain=="bounce.example") | .mx[0].covered' "$dir/x.jsonl")" no
check jsonl_id "$(jq -r 'select(.domain=="good.example") | .txt.id' "$dir/x.jsonl")" 1
check jsonl_profiles "$(jq -c 'select(.domain=="testing.example") | [.profiles[] | .seen_as]' "$dir/x.jsonl")" \
    '["testing","absent","enforce","testing","absent"]'
$A export --format csv $one --scan-id s1 >"$dir/x.csv" || fails=$((fails + 1))
check csv_rows "$(/usr/bin/python3 -c 'import csv,sys; r=list(csv.reader(open(sys.argv[1]))); print(len(r), r[0][0], len(set(map(len,r))))' "$dir/x.csv")" "8 domain 1"

# names are checked: an unknown category, verdict or format is a usage error naming the
# valid ones (or the closest); a category's type without "/" is a valid selector
out=$($A domains $one --category nonsense 2>&1); check bad_category $? 2
check bad_category_list "$(echo "$out" | grep -c '^  sts-policy-fetch-error/redirect$')" 1
out=$($A domains $one --category sts-policy-fetch-error/redirct 2>&1); check near_category $? 2
check near_category_hint "$(echo "$out" | grep '^did you mean')" "did you mean sts-policy-fetch-error/redirect?"
out=$($A domains $one --category sts-policy-fetch 2>&1); check prefix_category $? 2
check prefix_category_hint "$(echo "$out" | grep '^did you mean')" "did you mean sts-policy-fetch-error?"
check type_category "$($A domains $one --scan-id s1 --category sts-policy-fetch-error/)" "redirect.example"
long=$(printf 'sts-policy-invalid/%0300d' 0)
out=$($A domains $one --category "$long" 2>&1); check long_category $? 2
check long_category_no_hint "$(echo "$out" | grep -c '^did you mean')" 0
out=$($A domains $one --verdict bogus 2>&1); check bad_verdict $? 2
check bad_verdict_list "$(echo "$out" | grep -c '^  valid-enforce$')" 1
out=$($A domains $one --verdict misconfigure 2>&1); check near_verdict $? 2
check near_verdict_hint "$(echo "$out" | grep '^did you mean')" "did you mean misconfigured?"
for v in no-mta-sts valid-enforce valid-testing valid-none misconfigured indeterminate; do
    $A domains $one --verdict $v >/dev/null; check "verdict_$v" $? 0
done
# every category of docs/vocabulary.md's table is a valid selector (change/* is diff only),
# and the list of valid names is that table
vocab=$(dirname "$0")/../../docs/vocabulary.md
doc_cats=$(sed -n '/^## Categories/,/^## /p' "$vocab" | grep -o '^| `[a-z0-9./-]*`' | tr -d '|` ' | grep -v '^change/' | sort)
for c in $doc_cats; do
    $A domains $one --category "$c" >/dev/null 2>&1; check "vocabulary_$c" $? 0
done
check vocabulary_rows_read "$([ "$(echo "$doc_cats" | wc -l)" -ge 70 ] && echo yes)" yes
check vocabulary_list "$($A domains $one --category '' 2>&1 | sed -n 's/^  \([a-z0-9./-]*\)$/\1/p' | sort)" "$doc_cats"
$A export $one --format xml >/dev/null 2>&1; check bad_export_format $? 2
$A domains $one --would-bounce --format json >/dev/null 2>&1; check domains_no_format $? 2
$A diff s1 s2 $one --format csv >/dev/null 2>&1; check bad_diff_format $? 2
out=$($A report $one --format jsn 2>&1); check near_format $? 2
check near_format_hint "$(echo "$out" | grep '^did you mean')" "did you mean json?"

# explain normalises the name like the input reader; a non-name is a usage error
check explain_upper "$($A explain BOUNCE.Example. $one --scan-id s1 | head -1)" "bounce.example (scan s1): misconfigured, mail would bounce"
$A explain 'not a name' $one >/dev/null 2>&1; check explain_not_a_name $? 2

# scans lists every scan of each store; an unknown --scan-id lists the ids there are
check scans_text "$($A scans $one --db $dir/recheck | cut -f2-9 | tr '\t' ' ')" "scan state start end shard records resumed argv
s1 complete 1970-01-01T00:16:40Z 1970-01-01T00:18:20Z 0/1 7 0 mtasts-scan --scan-id s1 --input list.txt
s2 complete 1970-01-01T00:33:20Z 1970-01-01T00:35:00Z 0/1 7 0 mtasts-scan --scan-id s2 --input list.txt
r1 complete 1970-01-01T00:33:20Z 1970-01-01T00:35:00Z 0/1 2 0 mtasts-scan --scan-id r1 --input list.txt
r2 complete 1970-01-01T00:33:20Z 1970-01-01T00:35:00Z 0/1 2 0 mtasts-scan --scan-id r2 --input list.txt"
check scans_json "$($A scans $one --format json | jq -c '[.[] | [.scan, .records, .state, .argv[2]]]')" '[["s1",7,"complete","s1"],["s2",7,"complete","s2"]]'
$A scans >/dev/null 2>&1; check scans_no_db $? 2
out=$($A summary $one --scan-id nope 2>&1); check unknown_scan $? 1
check unknown_scan_ids "$(echo "$out" | tail -1)" "scans in $dir/one: s1 s2"
out=$($A diff s1 nope $one 2>&1); check diff_unknown_scan $? 1
check diff_unknown_scan_ids "$(echo "$out" | tail -1)" "scans in $dir/one: s1 s2"

# capped lists say how many were left out
out=$($A summary --db "$dir/many")
check capped_shown "$(echo "$out" | grep -c '^  bounce-[0-9]*\.example$')" 10
check capped_more "$(echo "$out" | grep -c '^  \.\.\. and 4 more ')" 1
check capped_md "$($A report --format markdown --db "$dir/many" | grep -c ' and 4 more\.')" 1
check capped_html "$($A report --format html --db "$dir/many" | grep -c '<li>... and 4 more</li>')" 1
check capped_none "$($A summary $one | grep -c 'more (mtasts-analyze')" 0

# usage and versions
$A >/dev/null 2>&1; check no_command $? 2
$A frobnicate >/dev/null 2>&1; check bad_command $? 2
$A report --format pdf $one >/dev/null 2>&1; check bad_format $? 2
$A domains $one >/dev/null 2>&1; check no_selector $? 2
$A summary --db "$dir/missing" >/dev/null 2>&1; check missing_db $? 1
$A --version >/dev/null; check version $? 0
for c in summary report domains explain diff export scans; do $A $c --help >/dev/null; check "help_$c" $? 0; done
# a usage error prints the command's usage with its line breaks, not as escapes
$A domains --bogus 2>"$dir/usage.err"
check usage_error_status $? 2
check usage_error_lines "$(grep -c . "$dir/usage.err")" "$(($($A domains --help | grep -c .) + 2))"
check usage_error_no_escapes "$(grep -c 'x0a' "$dir/usage.err")" 0

echo "analyze_cli: $fails failures"
[ "$fails" -eq 0 ]
