#!/usr/bin/env bash
# The SMTP MX server, checked with independent clients (bash's /dev/tcp for raw replies,
# openssl s_client -starttls smtp for TLS, swaks for whole sessions): every behaviour of
# the MX hosts in tests/world/scenarios/servers.scn, and the per-address session counts
# written by --conn-stats.
set -uo pipefail
. "$(dirname "$0")/servers_lib.sh"
world_start "$WORLD_SCENARIOS/servers.scn"

# raw ADDR SECONDS TEXT: send TEXT (printf format) on connect, print all that comes back
# within SECONDS, then "[rc=N]" (124: still open at the deadline).
raw() {
  local out rc
  out=$(timeout "$2" bash -c "exec 3<>/dev/tcp/$1/$SMTP_PORT || exit 99
    printf '$3' >&3 2>/dev/null; cat <&3" 2>/dev/null | tr -d '\r')
  rc=${PIPESTATUS[0]}
  printf '%s [rc=%s]' "$out" "$rc"
}

# tls NAME ADDR [s_client options...]: STARTTLS with SNI NAME, verifying NAME against CA.
tls() {
  local name=$1 addr=$2
  shift 2
  timeout 5 openssl s_client -starttls smtp -connect "$addr:$SMTP_PORT" -servername "$name" \
    -verify_hostname "$name" -CAfile "$CA" -brief "$@" </dev/null 2>&1 | tr '\n' ' '
  echo "[rc=${PIPESTATUS[0]}]"
}

# Banners.
r=$(raw 127.20.2.1 2 'EHLO probe.test\r\nQUIT\r\n')
expect_match "normal banner" '^220 mx-ok\.srv\.test ESMTP' "$r"
expect_match "EHLO offers STARTTLS" '250-STARTTLS' "$r"
expect_match "EHLO ends with a 250 line" '250 8BITMIME' "$r"
expect_match "QUIT: 221, then the server closes" '221 2\.0\.0 Bye \[rc=0\]$' "$r"
r=$(raw 127.20.2.2 2 'QUIT\r\n')
expect_match "multi-line banner" $'^220-mx-multiline.srv.test ESMTP mtasts-world\n220-.*\n220 mx-multiline' "$r"
expect_match "4xx banner, then close" '^421 4\.3\.2 .*\[rc=0\]$' "$(raw 127.20.2.3 2 'EHLO probe.test\r\n')"
expect_match "5xx banner, then close" '^554 5\.3\.2 .*\[rc=0\]$' "$(raw 127.20.2.4 2 'EHLO probe.test\r\n')"
expect "no banner (stall)" " [rc=124]" "$(raw 127.20.2.5 1 '')"
expect_match "garbage banner" '^HTTP/1\.0 400 Bad Request' "$(raw 127.20.2.6 2 '')"
n=$(timeout 5 bash -c "exec 3<>/dev/tcp/127.20.2.7/$SMTP_PORT; head -c 200000 <&3" | tr -d '\r' |
  grep -cv '^220-mx-endless\.srv\.test ')
expect "endless banner: 200 KB of 220- lines, nothing else" "1" "$n" # the cut last line

# EHLO and STARTTLS replies.
r=$(raw 127.20.2.8 2 'EHLO probe.test\r\nSTARTTLS\r\nQUIT\r\n')
expect "no STARTTLS offered" "" "$(grep '250-STARTTLS' <<<"$r")"
expect_match "no STARTTLS: 502 to STARTTLS" '502 5\.5\.1' "$r"
expect_match "STARTTLS refused: 454" '454 4\.7\.0' "$(raw 127.20.2.9 2 'EHLO probe.test\r\nSTARTTLS\r\nQUIT\r\n')"
expect_match "EHLO rejected: 550, STARTTLS needs EHLO" $'550 5\\.7\\.1.*\n503 5\\.5\\.1' \
  "$(raw 127.20.2.24 2 'EHLO probe.test\r\nSTARTTLS\r\nQUIT\r\n')"
r=$(timeout 2 bash -c "exec 3<>/dev/tcp/127.20.2.15/$SMTP_PORT
  printf 'EHLO probe.test\r\nSTARTTLS\r\n' >&3; cat <&3" | od -An -c | tr -s ' \n' ' ')
expect_match "injection right after the 220 to STARTTLS" \
  'R e a d y t o s t a r t T L S \\r \\n 2 5 0 i n j e c t e d \\r \\n $' "$r"
start=$(date +%s%N)
r=$(raw 127.20.2.21 3 'QUIT\r\n')
ms=$((($(date +%s%N) - start) / 1000000))
expect_match "latency: replies arrive" '221 2\.0\.0' "$r"
expect_true "latency: 2 replies x 300 ms (took $ms ms)" test "$ms" -ge 600

# Resets and stalls at each stage.
expect_match "reset instead of the banner" '^ \[rc=(0|1)\]$' "$(raw 127.20.2.16 2 'EHLO probe.test\r\n')"
r=$(raw 127.20.2.17 2 'EHLO probe.test\r\n')
expect_match "reset instead of the EHLO reply" '^220 mx-reset-ehlo.* \[rc=(0|1)\]$' "$r"
r=$(raw 127.20.2.18 2 'EHLO probe.test\r\nSTARTTLS\r\n')
expect_match "stall instead of the STARTTLS reply" '250 8BITMIME \[rc=124\]$' "$r"
expect_match "reset during the handshake" '(errno=104|reset|unexpected eof).*\[rc=1\]' \
  "$(tls mx-reset-handshake.srv.test 127.20.2.19)"
expect_match "stall during the handshake" '\[rc=124\]' "$(tls mx-stall-handshake.srv.test 127.20.2.20)"
expect_match "connect refused (reset at once)" '\[rc=(0|1|99)\]$' "$(raw 127.20.2.22 2 'EHLO x\r\n')"
expect "connect timeout: never a byte" " [rc=124]" "$(raw 127.20.2.23 1 'EHLO probe.test\r\n')"

# Certificates, checked against the world's CA with the MX name as SNI.
r=$(tls mx-ok.srv.test 127.20.2.1)
expect_match "valid certificate" 'Verification: OK' "$r"
expect_match "valid: verified for the MX name" 'Verified peername: mx-ok\.srv\.test' "$r"
expect_match "valid: TLS 1.3 by default" 'Protocol version: TLSv1\.3' "$r"
expect_match "expired" 'verify error:num=10:certificate has expired' "$(tls mx-expired.srv.test 127.20.2.10)"
r=$(tls mx-wrongname.srv.test 127.20.2.11)
expect_match "wrong name" 'verify error:num=62:hostname mismatch' "$r"
expect_match "wrong name: the model's name" 'CN = mx\.elsewhere\.test' "$r"
expect_match "self-signed" 'verify error:num=18:self.signed' "$(tls mx-selfsigned.srv.test 127.20.2.12)"
expect_match "untrusted CA" 'verify error:num=20:unable to get local issuer' \
  "$(tls mx-untrusted.srv.test 127.20.2.13)"
r=$(tls mx1.provider.srv.test 127.20.2.26)
expect_match "wildcard certificate" 'Verified peername: \*\.provider\.srv\.test' "$r"
expect_match "TLS alert" 'alert handshake failure' "$(tls mx-alert.srv.test 127.20.2.25)"

# TLS version cap (OpenSSL 3 refuses TLS 1.1 at its default security level on both sides).
r=$(tls mx-tls11.srv.test 127.20.2.14 -tls1_1 -cipher 'DEFAULT@SECLEVEL=0')
expect_match "TLS 1.1 host speaks TLS 1.1" 'Protocol version: TLSv1\.1' "$r"
expect_match "TLS 1.1 host: certificate still valid" 'Verification: OK' "$r"
expect_match "TLS 1.1 host refuses TLS 1.2" '\[rc=1\]' "$(tls mx-tls11.srv.test 127.20.2.14 -tls1_2)"
expect_match "other hosts refuse TLS 1.1" '\[rc=1\]' \
  "$(tls mx-ok.srv.test 127.20.2.1 -tls1_1 -cipher 'DEFAULT@SECLEVEL=0')"

# Whole sessions with swaks: plain, then (when swaks has its TLS module, Debian's
# libnet-ssleay-perl) STARTTLS, EHLO again inside TLS, QUIT.
r=$(timeout 10 swaks --server 127.20.2.8 --port "$SMTP_PORT" --quit-after helo --ehlo probe.test 2>&1)
expect_match "swaks: plain session" '<-  221 2\.0\.0 Bye' "$r"
if ! perl -MNet::SSLeay -e 1 2>/dev/null; then
  echo "note: swaks TLS checks skipped (no Net::SSLeay); s_client covered STARTTLS above"
else
  r=$(timeout 10 swaks --server 127.20.2.1 --port "$SMTP_PORT" --tls --quit-after helo \
    --tls-sni mx-ok.srv.test --ehlo probe.test 2>&1)
  expect_match "swaks: TLS started" 'TLS started' "$r"
  expect_match "swaks: EHLO again inside TLS" '~> EHLO probe.test' "$r"
  expect "swaks: STARTTLS not offered inside TLS" "" "$(grep '<~ *250-STARTTLS' <<<"$r")"
  expect_match "swaks: QUIT answered inside TLS" '<~  221 2\.0\.0 Bye' "$r"
  r=$(timeout 10 swaks --server 127.20.2.9 --port "$SMTP_PORT" --tls --quit-after helo 2>&1)
  expect_match "swaks: 454 seen" '<\*\* +454 4\.7\.0' "$r"
fi

# Politeness counters: 6 sessions held open at once on one address, 2 on another.
pids=()
for i in 1 2 3 4 5 6; do
  timeout 3 bash -c "exec 3<>/dev/tcp/127.20.2.5/$SMTP_PORT; sleep 2" &
  pids+=($!)
done
for i in 1 2; do
  timeout 3 bash -c "exec 3<>/dev/tcp/127.20.2.23/$SMTP_PORT; sleep 2" &
  pids+=($!)
done
sleep 1
kill -USR1 "$WORLD_PID"
for i in $(seq 1 40); do [ -s "$T/conn-stats.json" ] && break; sleep 0.05; done
j=$(cat "$T/conn-stats.json")
expect "stats: 6 concurrent on 127.20.2.5" "6 6" "$(jq -r '."127.20.2.5" | "\(.max_concurrent) \(.open)"' <<<"$j")"
expect "stats: a connect timeout never reaches the server" "null" "$(jq -r '."127.20.2.23"' <<<"$j")"
expect "stats: sessions on 127.20.2.1" "true" "$(jq -r '."127.20.2.1".sessions >= 3' <<<"$j")"
wait "${pids[@]}"
world_stop
j=$(cat "$T/conn-stats.json")
expect "stats at exit: none open, max kept" "0 6 true" \
  "$(jq -r '."127.20.2.5" | "\(.open) \(.max_concurrent) \(.sessions >= 7)"' <<<"$j")"

finish
