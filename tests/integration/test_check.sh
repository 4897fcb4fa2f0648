#!/usr/bin/env bash
# mtasts-check against the taxonomy world: one domain scanned live and explained, the exit
# status by verdict (docs/check.md), the JSON view, a store kept only with --db, the name
# normalised like the scanner's input, and the options a one-domain check refuses.
. "$(dirname "$0")/lib.sh"

world_start "$WORK" --scenario "$MTS_SOURCE/tests/world/scenarios/taxonomy.scn" \
    --ca-dir "$WORK/ca" --truth "$WORK/truth.jsonl" --list "$WORK/list.txt"
world_ports
mkdir "$WORK/tmp"
export TMPDIR=$WORK/tmp

# status WANT DESCRIPTION COMMAND...: the command's exit status must be WANT (output in
# $WORK/out, $WORK/err).
status() {
    local want=$1 what=$2 got=0
    shift 2
    "$@" >"$WORK/out" 2>"$WORK/err" || got=$?
    if [ "$got" = "$want" ]; then ok; else
        bad "$what: exit $got, want $want"
        cat "$WORK/err" >&2
    fi
}
check() { "$MTS_CHECK" "${SCAN_ARGS[@]}" "$@"; }
quiet() { "$@" >/dev/null; }

status 0 "valid-enforce exits 0" check valid-enforce.example
expect "the explain view names the domain and verdict" \
    grep -q '^valid-enforce.example (scan check-[0-9-]*): valid-enforce$' "$WORK/out"
expect "the explain view says no problems" grep -q '^No problems found.$' "$WORK/out"
expect "no store is left behind without --db" test -z "$(ls -A "$WORK/tmp")"
status 0 "valid-testing exits 0" check valid-testing.example
status 3 "no-mta-sts exits 3 (name normalised: case, trailing dot)" check NO-MTA-STS.Example.
expect "the normalised name is shown" grep -q '^no-mta-sts.example (scan' "$WORK/out"
status 4 "misconfigured exits 4" check mx-not-covered.example
expect "the problem and its fix are shown" grep -q -A2 '^  validation-failure/mx-not-covered$' \
    "$WORK/out"
expect "the fix is shown" grep -q 'fix: Add an "mx:" line' "$WORK/out"
status 5 "a DNS SERVFAIL is indeterminate: exit 5" check dns-sts-servfail.example

status 4 "--format json exits by verdict too" check --format json mx-cert-expired.example
expect "stdout is one JSON object with the verdict" \
    test "$(jq -sc '[length, .[0].domain, .[0].verdict]' "$WORK/out")" \
    = '[1,"mx-cert-expired.example","misconfigured"]'
expect "the JSON names the expired certificate" \
    quiet jq -e '[.categories[].code] | index("certificate-expired/mx")' "$WORK/out"

status 0 "--db keeps the record" check --db "$WORK/db" --scan-id c1 valid-none.example
expect "the kept record is in the store under the scan id" \
    quiet "$MTS_ANALYZE" explain valid-none.example --db "$WORK/db" --scan-id c1
status 0 "a second check into the same store" check --db "$WORK/db" valid-none.example
expect "two scans in the store" test "$("$MTS_ANALYZE" scans --db "$WORK/db" | tail -n +2 | wc -l)" = 2

printf 'mx-not-covered.example\n' >"$WORK/exclude.txt"
status 1 "an excluded domain is not scanned: exit 1" \
    check --exclude "$WORK/exclude.txt" mx-not-covered.example
expect "the exclusion is said" grep -q 'was not scanned' "$WORK/err"
status 2 "not a domain name: exit 2" check bad_name.example
status 2 "--input makes no sense for one domain" check --input "$WORK/list.txt" valid-none.example
status 2 "no domain" check --format json
status 2 "unknown format" check --format xml valid-none.example
status 2 "a bad scan option is the scanner's usage error" check --rate nope valid-none.example
expect "no temporary directory is left behind" test -z "$(ls -A "$WORK/tmp")"
expect "world stops cleanly" world_stop
finish
