#!/usr/bin/env bash
# The world behind a real recursive resolver: unbound with a stub zone for "." pointing at the
# world's DNS server (how a scan can use the world through its system resolver). unbound must
# prime the root from the world, follow CNAME chains, retry over TCP after truncation, and
# pass SERVFAIL and NXDOMAIN through.
# usage: test_unbound.sh MTASTS_WORLD SCENARIO
WORLD=$1
SCENARIO=$2
. "$(dirname "$0")/world_lib.sh"
command -v unbound >/dev/null || { echo "unbound not installed: skipped"; exit 77; }

tmp=$(mktemp -d)
UB_PID=
trap 'kill "$WORLD_PID" "$UB_PID" 2>/dev/null || true; rm -rf "$tmp"' EXIT

world_start "$tmp" --scenario "$SCENARIO" --ca-dir "$tmp/ca"
ub_port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$tmp/unbound.conf" <<EOF
server:
    interface: 127.0.0.1
    port: $ub_port
    do-daemonize: no
    use-syslog: no
    logfile: ""
    username: ""
    chroot: ""
    directory: "$tmp"
    pidfile: ""
    do-ip6: no
    do-not-query-localhost: no
    module-config: "iterator"
    qname-minimisation: no
    verbosity: 0
stub-zone:
    name: "."
    stub-addr: 127.0.0.1@$DNS_PORT
EOF
unbound -d -c "$tmp/unbound.conf" >"$tmp/unbound.log" 2>&1 &
UB_PID=$!
for _ in $(seq 1 100); do
    dig @127.0.0.1 -p "$ub_port" +time=1 +tries=1 . NS >/dev/null 2>&1 && break
    sleep 0.05
done

r() {
    dig @127.0.0.1 -p "$ub_port" +time=3 +tries=1 "$@"
}
expect "TXT through unbound" [ "$(r +short TXT _mta-sts.valid-enforce.example)" = '"v=STSv1; id=20240101T000000"' ]
expect "multi-string TXT through unbound" [ "$(r +short TXT _mta-sts.valid-txt-multi-string.example)" = '"v=STSv1; " "id=20240" "101"' ]
expect "CNAME chain through unbound" [ "$(r +short TXT _mta-sts.valid-cname-delegation.example | tr '\n' ' ')" = '_mta-sts.stshost.test. "v=STSv1; id=stshost2024" ' ]
expect "truncated answer through unbound (TCP)" [ "$(r +short TXT _mta-sts.dns-truncated.example)" = '"v=STSv1; id=20240101T000000"' ]
expect "null MX through unbound" [ "$(r +short MX null-mx.example)" = "0 ." ]
rstatus() {
    r "$2" "$1" | sed -n 's/.*status: \([A-Z]*\),.*/\1/p'
}
expect "NXDOMAIN through unbound" [ "$(rstatus _mta-sts.no-mta-sts.example TXT)" = NXDOMAIN ]
expect "SERVFAIL through unbound" [ "$(rstatus _mta-sts.dns-sts-servfail.example TXT)" = SERVFAIL ]

kill "$UB_PID"
wait "$UB_PID" || true
rc=0
world_stop || rc=$?
expect "SIGTERM: exit status 0" [ "$rc" -eq 0 ]
expect "unbound retried over TCP" grep -q 'tcp=[1-9]' "$tmp/world.err"
finish
