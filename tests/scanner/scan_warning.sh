#!/usr/bin/env bash
# ctest scanner_identity_warning: a scan that would reach other people's servers with the
# default EHLO name or a User-Agent without a contact warns on stderr; a named scanner, a
# test world (--allow-private) or a disabled probe does not. The one input name never
# resolves: the resolver is a closed loopback port, so nothing leaves the machine.
# usage: scan_warning.sh MTASTS_SCAN
set -u
scan=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo warning-test.example >"$work/list.txt"
fails=0
n=0
run() { # expected "ehlo ua" warning counts, options...
    local want=$1
    shift
    n=$((n + 1))
    "$scan" --input "$work/list.txt" --db "$work/db$n" --resolver 127.0.0.1:9 \
        --timeout-dns 50 --dns-tries 1 -q "$@" 2>"$work/err"
    local rc=$?
    local got
    got="$(grep -c 'warning: the EHLO name is this host' "$work/err") $(grep -c 'warning: the User-Agent names no contact' "$work/err")"
    if [ "$rc" -ne 0 ] || [ "$got" != "$want" ]; then
        echo "FAIL [$*]: exit $rc, warnings [$got] want [$want]"
        cat "$work/err"
        fails=$((fails + 1))
    fi
}
contact='--user-agent=mtasts-scan (+https://scanner.example.org/)'
run "1 1"
run "0 1" --ehlo scanner.example.org
run "1 0" "$contact"
run "0 0" --ehlo scanner.example.org "$contact"
run "0 0" --ehlo scanner.example.org --user-agent 'study; mail research@example.org'
run "0 0" --allow-private
run "0 0" --no-smtp --no-https
run "0 1" --no-smtp
echo "scan_warning: $fails failures"
[ "$fails" -eq 0 ]
