#!/usr/bin/env bash
# The real-server fixture (realservers.sh, given as $1): unbound resolves the world's names
# through mtasts-world's DNS, nginx serves a policy with a world-CA certificate, postfix
# offers STARTTLS with one; stop ends exactly those processes.
set -uo pipefail
. "$(dirname "$0")/servers_lib.sh"
REAL=$1
world_start "$WORLD_SCENARIOS/servers.scn"
extra_cleanup() { bash "$REAL" stop "$T/real" >/dev/null 2>&1; }

if ! WORLD_READY="$T/ready" WORLD_CA_DIR="$T/ca" bash "$REAL" start "$T/real" >"$T/real.log" 2>&1; then
  echo "FAIL realservers.sh start:"
  cat "$T/real.log" "$T"/real/*.log 2>/dev/null | tail -40
  exit 1
fi
. "$T/real/realservers.env"

# unbound answers the world's names (forwarded to the world's DNS), and only on loopback.
r=$(dig +short +time=2 @"$UNBOUND_ADDR" -p "$UNBOUND_PORT" mta-sts.real.srv.test A)
expect "unbound: policy host address" "$NGINX_ADDR" "$r"
r=$(dig +short +time=2 @"$UNBOUND_ADDR" -p "$UNBOUND_PORT" _mta-sts.real.srv.test TXT)
expect "unbound: MTA-STS record" '"v=STSv1; id=real1"' "$r"
r=$(dig +short +time=2 @"$UNBOUND_ADDR" -p "$UNBOUND_PORT" real.srv.test MX)
expect "unbound: MX" "10 mx.real.srv.test." "$r"
r=$(dig +time=2 @"$UNBOUND_ADDR" -p "$UNBOUND_PORT" nosuchname.srv.test A | grep -o 'status: [A-Z]*')
expect "unbound: NXDOMAIN passes through" "status: NXDOMAIN" "$r"
expect_match "unbound: loopback only" "^$UNBOUND_ADDR:$UNBOUND_PORT\$" \
  "$(ss -Hlnu "sport = :$UNBOUND_PORT" | awk '{print $4}')"

# nginx: the policy over HTTPS, verified against the world's CA, reached at the address
# unbound gave.
r=$(curl -sS --cacert "$CA" --connect-to "mta-sts.real.srv.test:443:$NGINX_ADDR:$NGINX_PORT" \
  -w '|%{http_code}|%{content_type}' https://mta-sts.real.srv.test/.well-known/mta-sts.txt 2>&1)
expect "nginx: policy" $'version: STSv1\nmode: enforce\nmx: mx.real.srv.test\nmax_age: 86400\n|200|text/plain' "$r"

# postfix: STARTTLS with a certificate for the MX name from the world's CA.
r=$(timeout 10 openssl s_client -starttls smtp -connect "$POSTFIX_ADDR:$POSTFIX_PORT" \
  -servername mx.real.srv.test -verify_hostname mx.real.srv.test -CAfile "$CA" -brief \
  </dev/null 2>&1 | tr '\n' ' ')
expect_match "postfix: STARTTLS handshake" 'CONNECTION ESTABLISHED' "$r"
expect_match "postfix: certificate verified for the MX name" 'Verified peername: mx\.real\.srv\.test' "$r"
r=$(timeout 5 bash -c "exec 3<>/dev/tcp/$POSTFIX_ADDR/$POSTFIX_PORT
  printf 'EHLO probe.test\r\nQUIT\r\n' >&3; cat <&3" | tr -d '\r')
expect_match "postfix: banner" '^220 mx\.real\.srv\.test ESMTP' "$r"
expect_match "postfix: offers STARTTLS" '250-STARTTLS' "$r"

# stop: every started process is gone, by pid.
pids="$(cat "$T/real/unbound.pid" "$T/real/nginx.pid" "$T/real/postfix.pid")"
bash "$REAL" stop "$T/real"
sleep 0.2
for p in $pids; do
  expect "stopped pid $p" "gone" "$(kill -0 "$p" 2>/dev/null && echo alive || echo gone)"
done

finish
