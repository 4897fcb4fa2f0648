#!/bin/sh
# mtasts-analyze disclose over the fixture stores: one entry per domain of the selected
# category, only the selected categories, the fix with the domain filled in, the contacts
# (TLS-RPT rua mailto, postmaster@), CSV spreadsheet-safe, hostile bytes escaped in text;
# and diff over a partial re-check (the domains not re-checked counted apart).
# usage: disclose_cli.sh MTASTS_ANALYZE ANALYZE_FIXTURE
set -u
A=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$2" "$dir" >/dev/null || { echo "fixture failed"; exit 1; }
one="--db $dir/one"
fails=0
check() { # name, got, want
    if [ "$2" != "$3" ]; then echo "FAIL $1: got [$2] want [$3]"; fails=$((fails + 1)); fi
}

# text: one mail per domain of the category
$A disclose $one --scan-id s1 --category validation-failure/mx-not-covered >"$dir/t.txt"
check text_exit $? 0
check text_to "$(grep '^To:' "$dir/t.txt")" "To: postmaster@bounce.example"
check text_subject "$(grep '^Subject:' "$dir/t.txt")" \
    "Subject: MTA-STS problem at bounce.example: validation-failure/mx-not-covered"
check text_entries "$(grep -c '^----$' "$dir/t.txt")" 1
check text_only_selected "$(grep -c '^Problem:' "$dir/t.txt")" 1
check text_effect "$(grep -c '^  Effect: bounce:' "$dir/t.txt")" 1
$A disclose $one --scan-id s1 --category sts-policy-fetch-error >"$dir/r.txt"
check fix_domain "$(grep -c 'https://mta-sts.redirect.example/.well-known/mta-sts.txt' "$dir/r.txt")" 1
check fix_no_placeholder "$(grep -c '<domain>' "$dir/r.txt")" 0

# a type selects its names; every domain with tlsrpt/absent gets an entry
check tlsrpt_entries "$($A disclose $one --scan-id s1 --category tlsrpt | grep -c '^----$')" \
    "$($A domains $one --scan-id s1 --category tlsrpt | wc -l)"

# csv: header, one row per domain, formulas neutralised, rua mailto as a contact
$A disclose --db "$dir/hostile" --scan-id h1 --category sts-policy-invalid --format csv >"$dir/h.csv"
check csv_exit $? 0
check csv_header "$(head -1 "$dir/h.csv" | tr -d '\r')" \
    "domain,scan,verdict,categories,observed,effect,fix,contacts"
python3 - "$dir/h.csv" "$($A domains --db "$dir/hostile" --scan-id h1 --category sts-policy-invalid | wc -l)" <<'PY' || fails=$((fails + 1))
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
want = int(sys.argv[2])
bad = []
if len(rows) != want or want == 0:
    bad.append(f"{len(rows)} rows, want {want}")
for r in rows:
    for k, v in r.items():
        if v and v[0] in "=+-@\t\r":
            bad.append(f"{r['domain']}: {k} starts a formula")
    if f"postmaster@{r['domain']}" not in r["contacts"].split():
        bad.append(f"{r['domain']}: no postmaster contact")
    if any(not c.startswith("sts-policy-invalid/") for c in r["categories"].split()):
        bad.append(f"{r['domain']}: a category not selected: {r['categories']}")
esc = [r for r in rows if r["domain"] == "escape.example"]
if not esc or esc[0]["contacts"].split() != ["r@example.net", "postmaster@escape.example"]:
    bad.append(f"escape.example contacts: {esc and esc[0]['contacts']}")
for b in bad:
    print("FAIL csv:", b)
sys.exit(1 if bad else 0)
PY
$A disclose --db "$dir/hostile" --scan-id h1 --category sts-policy-invalid >"$dir/h.txt"
check hostile_text_no_escape_byte "$(tr -d '\n\t -~' <"$dir/h.txt" | wc -c)" 0

# usage errors
$A disclose $one --scan-id s1 >/dev/null 2>&1
check no_category $? 2
$A disclose $one --scan-id s1 --category nonsense >/dev/null 2>&1
check bad_category $? 2
$A disclose $one --scan-id s1 --category tlsrpt --format jsonl >/dev/null 2>&1
check bad_format $? 2

$A disclose --help | grep -q '^usage: mtasts-analyze disclose'
check help $? 0
$A --help | grep -q '^  disclose '
check main_help_lists_disclose $? 0

# diff over a partial re-check: s2 lacks indet.example; its categories are not re-checked
$A diff s1 s2 $one --format json >"$dir/d.json"
check partial_counts "$(jq -c '[.compared, .only_old]' "$dir/d.json")" "[6,1]"
check not_rechecked "$(jq -c '.categories["dns-failure/sts-txt"] | [.fixed, .still, .new, .not_rechecked, .not_rechecked_domains]' "$dir/d.json")" \
    '[0,0,0,1,["indet.example"]]'
check not_rechecked_apart "$(jq -c '.categories["tlsrpt/absent"] | [.fixed, .still, .not_rechecked]' "$dir/d.json")" '[0,4,1]'
check diff_text_header "$($A diff s1 s2 $one | head -1)" \
    "Re-check s1 -> s2: 6 domains compared (1 only in s1: not re-checked, 1 only in s2)"

# --rechecked-only walks s2 and looks each domain up in s1: the same counts and lists as the
# walk over s1, without the not-rechecked counts it would need every s1 domain classified for
$A diff s1 s2 $one --rechecked-only --format json >"$dir/dr.json"
check rechecked_only_counts "$(jq -c '[.compared, .only_old, .only_new]' "$dir/dr.json")" "[6,1,1]"
check rechecked_only_same_rows "$(jq -S -c '.categories | map_values(del(.not_rechecked, .not_rechecked_domains)) | with_entries(select(.value.fixed + .value.still + .value.new > 0))' "$dir/d.json")" \
    "$(jq -S -c .categories "$dir/dr.json")"
check rechecked_only_same_changes "$(jq -S -c .changes "$dir/d.json")" "$(jq -S -c .changes "$dir/dr.json")"
check rechecked_only_no_not_rechecked "$(jq '[.categories[] | has("not_rechecked")] | any' "$dir/dr.json")" false
check rechecked_only_text "$($A diff s1 s2 $one --rechecked-only | grep -c ' -$')" \
    "$(jq '.categories | length' "$dir/dr.json")"
check rechecked_only_header "$($A diff s1 s2 $one --rechecked-only | head -1)" \
    "Re-check s1 -> s2: 6 domains compared (1 only in s1: not re-checked, 1 only in s2)"

[ "$fails" -eq 0 ] && echo "disclose_cli: all checks passed"
exit "$fails"
