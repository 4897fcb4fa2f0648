#!/usr/bin/env bash
# Disclosure and re-check as one workflow, end to end: scan a world, list and disclose the
# domains of one category, scan exactly those again (from the domains list on stdin) into
# the same store after the world changed, and diff the two scans: fixed / still / new among
# the re-checked, the domains not re-checked counted apart.
. "$(dirname "$0")/lib.sh"
scn=$MTS_SOURCE/tests/integration/scenarios
cat="validation-failure/mx-not-covered"
to() { # FILE COMMAND...: run COMMAND with its output in FILE
    local out=$1
    shift
    "$@" >"$out"
}

world_start "$WORK" --scenario "$scn/disclosure-before.scn" --ca-dir "$WORK/ca" \
    --list "$WORK/list.txt"
world_ports
expect "first scan exits 0" scan "$WORK/db" first "$WORK/list.txt"
"$MTS_ANALYZE" domains --db "$WORK/db" --scan-id first --category "$cat" >"$WORK/told.txt"
expect "the three uncovered domains are listed" test "$(tr '\n' ' ' <"$WORK/told.txt")" \
    = "will-break-otherwise.example will-fix.example will-not-fix.example "
expect "disclose --format csv exits 0" to "$WORK/told.csv" \
    "$MTS_ANALYZE" disclose --db "$WORK/db" --scan-id first --category "$cat" --format csv
expect "one CSV row per listed domain" test "$(tail -n +2 "$WORK/told.csv" | cut -d, -f1 | tr '\n' ' ')" \
    = "$(tr '\n' ' ' <"$WORK/told.txt")"
expect "the rua address is a contact" grep -q ',tlsrpt@reports.test postmaster@will-fix.example' \
    "$WORK/told.csv"
expect "disclose text exits 0" to "$WORK/told.mail" \
    "$MTS_ANALYZE" disclose --db "$WORK/db" --scan-id first --category "$cat"
expect "one mail per listed domain" test "$(grep -c '^Subject: ' "$WORK/told.mail")" = 3
expect "world (before) stops cleanly" world_stop

# Weeks later: the same names, some fixed.
world_start "$WORK" --scenario "$scn/disclosure-after.scn" --ca-dir "$WORK/ca"
world_ports
expect "re-check of the told domains from stdin exits 0" \
    scan "$WORK/db" recheck - <"$WORK/told.txt"
"$MTS_ANALYZE" diff first recheck --db "$WORK/db" --format json >"$WORK/diff.json"
row() { jq -c --arg c "$1" '.categories[$c] | [.fixed, .still, .new, .not_rechecked]' "$WORK/diff.json"; }
expect "3 compared, 2 not re-checked, none only in the re-check" \
    test "$(jq -c '[.compared, .only_old, .only_new]' "$WORK/diff.json")" = "[3,2,0]"
expect "mx-not-covered: 2 fixed, 1 still" test "$(row "$cat")" = "[2,1,0,0]"
expect "the fixed ones are named" test "$(jq -c --arg c "$cat" '.categories[$c].fixed_domains' "$WORK/diff.json")" \
    = '["will-break-otherwise.example","will-fix.example"]'
expect "the 404 is new for one re-checked domain, not re-checked for the untold one" \
    test "$(row sts-policy-fetch-error/http-status)" = "[0,0,1,1]"
expect "the verdict changed for will-fix only" \
    test "$(jq -c '.changes.verdict.domains' "$WORK/diff.json")" = '["will-fix.example"]'
expect "diff text says what was not re-checked" \
    bash -c '"$1" diff first recheck --db "$2" | head -1 | grep -q "(2 only in first: not re-checked, 0 only in recheck)"' _ \
    "$MTS_ANALYZE" "$WORK/db"
# The same re-check walked from its own side: only the 3 re-checked domains are classified.
"$MTS_ANALYZE" diff first recheck --db "$WORK/db" --rechecked-only --format json >"$WORK/diff-r.json"
rrow() { jq -c --arg c "$1" '.categories[$c] | [.fixed, .still, .new, .not_rechecked]' "$WORK/diff-r.json"; }
expect "--rechecked-only: 3 compared, 2 only in first, none only in the re-check" \
    test "$(jq -c '[.compared, .only_old, .only_new]' "$WORK/diff-r.json")" = "[3,2,0]"
expect "--rechecked-only: mx-not-covered 2 fixed, 1 still, no not-rechecked count" \
    test "$(rrow "$cat")" = "[2,1,0,null]"
expect "--rechecked-only: the 404 new for the re-checked domain" \
    test "$(rrow sts-policy-fetch-error/http-status)" = "[0,0,1,null]"
expect "--rechecked-only: the same changes" \
    test "$(jq -S -c .changes "$WORK/diff-r.json")" = "$(jq -S -c .changes "$WORK/diff.json")"
expect "world (after) stops cleanly" world_stop
finish
