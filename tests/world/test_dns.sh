#!/usr/bin/env bash
# The DNS server against the taxonomy scenario, probed with dig: rcodes, the AA bit, TXT
# character-strings, CNAME chains (delegated, dangling, MX to CNAME), null MX, NODATA, TLSA,
# SERVFAIL, a name that never answers, truncation forcing TCP, EDNS buffer sizes, case, the
# latency and loss knobs, and a clean exit on SIGTERM with counters.
# usage: test_dns.sh MTASTS_WORLD SCENARIO
WORLD=$1
SCENARIO=$2
. "$(dirname "$0")/world_lib.sh"

tmp=$(mktemp -d)
trap 'kill "$WORLD_PID" 2>/dev/null || true; rm -rf "$tmp"' EXIT

world_start "$tmp" --scenario "$SCENARIO" --dns 127.0.0.1:0 --ca-dir "$tmp/ca"

q() {
    dig @127.0.0.1 -p "$DNS_PORT" +norecurse +time=2 +tries=1 "$@"
}
# status NAME TYPE: the rcode of the reply
status() {
    q "$2" "$1" | sed -n 's/.*status: \([A-Z]*\),.*/\1/p'
}
has() {
    local pattern=$1
    shift
    q "$@" | grep -qE -- "$pattern"
}

# rcodes and the AA bit
expect "valid TXT is NOERROR" [ "$(status _mta-sts.valid-enforce.example TXT)" = NOERROR ]
expect "answers are authoritative" has 'flags: qr aa' _mta-sts.valid-enforce.example TXT
expect "no _mta-sts is NXDOMAIN" [ "$(status _mta-sts.no-mta-sts.example TXT)" = NXDOMAIN ]
expect "nonexistent domain is NXDOMAIN" [ "$(status nxdomain.example MX)" = NXDOMAIN ]
expect "names outside the world are NXDOMAIN" [ "$(status www.google.com A)" = NXDOMAIN ]
expect "NXDOMAIN carries an SOA" has 'IN[[:space:]]+SOA[[:space:]]+ns.world.test.' _mta-sts.no-mta-sts.example TXT
expect "AAAA is NODATA" [ "$(status mx1.bigmail.test AAAA)" = NOERROR ]
expect "AAAA has no answer" has 'ANSWER: 0,' mx1.bigmail.test AAAA
expect "the root's NS is the world's server (stub-zone use)" [ "$(q +short . NS)" = ns.world.test. ]
expect "the name server's address" [ "$(q +short A ns.world.test)" = 127.0.0.1 ]
expect "case-insensitive names" [ "$(status _MTA-STS.Valid-Enforce.EXAMPLE TXT)" = NOERROR ]

# TXT: records and character-strings as published
expect "multi-string TXT" [ "$(q +short TXT _mta-sts.valid-txt-multi-string.example)" = '"v=STSv1; " "id=20240" "101"' ]
expect "three TXT records" [ "$(q +short TXT _mta-sts.valid-txt-unrelated-records.example | wc -l)" -eq 3 ]
expect "two v=STSv1 records" [ "$(q +short TXT _mta-sts.txt-multiple.example | grep -c STSv1)" -eq 2 ]
expect "non-ASCII TXT bytes" has '\\195\\164=1' TXT _mta-sts.txt-non-ascii.example
expect "TLS-RPT TXT" has 'v=TLSRPTv1; rua=mailto:tlsrpt@reports.test' TXT _smtp._tls.valid-enforce.example
expect "empty non-terminal _tls is NODATA" [ "$(status _tls.valid-enforce.example TXT)" = NOERROR ]

# MX
expect "null MX" [ "$(q +short MX null-mx.example)" = "0 ." ]
expect "provider MX" [ "$(q +short MX valid-enforce.example | sort | tr '\n' ' ')" = "10 mx1.bigmail.test. 20 mx2.bigmail.test. " ]
expect "no MX is NODATA" has 'ANSWER: 0,' MX no-mx.example
expect "implicit MX: apex A" [ "$(q +short A no-mx.example)" = 127.2.200.1 ]
expect "IDN (A-label) MX" [ "$(q +short MX xn--bcher-kva.example)" = "10 mx.xn--bcher-kva.example." ]
expect "MX host address" [ "$(q +short A mx1.bigmail.test)" = 127.1.1.1 ]
expect "MX target that is a CNAME" [ "$(q +short A mail.mx-cname.example | tr '\n' ' ')" = "mx1.bigmail.test. 127.1.1.1 " ]
expect "TLSA" has 'TLSA[[:space:]]+3 1 1 0F1E2D3C4B5A' TLSA _25._tcp.mx1.bigmail.test

# CNAME chains
expect "delegated _mta-sts: CNAME then TXT" [ "$(q +short TXT _mta-sts.valid-cname-delegation.example | tr '\n' ' ')" = '_mta-sts.stshost.test. "v=STSv1; id=stshost2024" ' ]
expect "delegated policy host" [ "$(q +short A mta-sts.valid-cname-delegation.example | tr '\n' ' ')" = "policy.stshost.test. 127.1.3.1 " ]
expect "dangling CNAME: NXDOMAIN" [ "$(status _mta-sts.txt-cname-dangling.example TXT)" = NXDOMAIN ]
expect "dangling CNAME: the CNAME is in the answer" has 'CNAME[[:space:]]+_mta-sts.gone.test.' TXT _mta-sts.txt-cname-dangling.example

# failures
expect "SERVFAIL" [ "$(status _mta-sts.dns-sts-servfail.example TXT)" = SERVFAIL ]
expect "SERVFAIL on the policy host" [ "$(status mta-sts.dns-policy-host-servfail.example A)" = SERVFAIL ]
rc=0
q +time=1 TXT _mta-sts.dns-sts-timeout.example >/dev/null || rc=$?
expect "a name that never answers (dig exit 9)" [ "$rc" -eq 9 ]
rc=0
q +time=1 TXT _mta-sts.dns-sts-cname-timeout.example >/dev/null || rc=$?
expect "a CNAME into a name that never answers" [ "$rc" -eq 9 ]
expect "the server still answers after timeouts" [ "$(status _mta-sts.valid-enforce.example TXT)" = NOERROR ]

# truncation and EDNS
expect "truncated over UDP" has 'flags: qr aa tc' +notcp +ignore TXT _mta-sts.dns-truncated.example
expect "truncated UDP reply carries no records" has 'ANSWER: 0,' +notcp +ignore TXT _mta-sts.dns-truncated.example
expect "TCP gets the answer" [ "$(q +tcp +short TXT _mta-sts.dns-truncated.example)" = '"v=STSv1; id=20240101T000000"' ]
expect "dig falls back to TCP by itself" [ "$(q +short TXT _mta-sts.dns-truncated.example)" = '"v=STSv1; id=20240101T000000"' ]
expect "1.3 KB answer without EDNS: TC" has 'flags: qr aa tc' +noedns +ignore TXT edns-large.test
expect "1.3 KB answer with a 4096 EDNS buffer: complete over UDP" has 'ANSWER: 6,' +bufsize=4096 +ignore TXT edns-large.test
expect "EDNS reply carries OPT" has 'EDNS: version: 0' +bufsize=4096 TXT edns-large.test
expect "1.3 KB answer with a 1232 EDNS buffer: TC" has 'flags: qr aa tc' +bufsize=1232 +ignore TXT edns-large.test

rc=0
world_stop || rc=$?
expect "SIGTERM: exit status 0" [ "$rc" -eq 0 ]
expect "counters printed at exit" grep -q 'dns queries=[1-9].* NXDOMAIN=[1-9]' "$tmp/world.err"
expect "SERVFAIL counted" grep -q 'SERVFAIL=[1-9]' "$tmp/world.err"
expect "truncations counted" grep -q 'truncated=[1-9]' "$tmp/world.err"

# latency: a delayed reply is still answered, no sooner than asked
world_start "$tmp" --scenario "$SCENARIO" --latency 300 --jitter 0 --ca-dir "$tmp/ca"
ms=$(q TXT _mta-sts.valid-enforce.example | sed -n 's/.*Query time: \([0-9]*\) msec.*/\1/p')
expect "latency 300 ms (got ${ms:-none})" [ "${ms:-0}" -ge 290 ]
expect "latency over TCP" [ "$(q +tcp +short TXT _mta-sts.valid-enforce.example)" = '"v=STSv1; id=20240101T000000"' ]
rc=0
world_stop || rc=$?
expect "SIGTERM after delayed replies: exit status 0" [ "$rc" -eq 0 ]

# loss 1: every query dropped
world_start "$tmp" --scenario "$SCENARIO" --loss 1 --ca-dir "$tmp/ca"
rc=0
q +time=1 TXT _mta-sts.valid-enforce.example >/dev/null || rc=$?
expect "loss 1 drops the query" [ "$rc" -eq 9 ]
world_stop || true
expect "loss counted" grep -q 'dropped-loss=1' "$tmp/world.err"

finish
