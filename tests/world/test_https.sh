#!/usr/bin/env bash
# The HTTPS policy-host server, checked with curl (never the scanner): every behaviour of
# tests/world/scenarios/servers.scn, reached with --connect-to so no DNS is involved, and
# never following redirects, as RFC 8461 3.3 requires of a sender.
set -uo pipefail
. "$(dirname "$0")/servers_lib.sh"
world_start "$WORLD_SCENARIOS/servers.scn"

POLICY=$'version: STSv1\nmode: enforce\nmx: mx-ok.srv.test\nmax_age: 604800\n'

# fetch DOMAIN ADDR [curl options...]: GET https://mta-sts.DOMAIN/.well-known/mta-sts.txt
# dialling ADDR; prints curl's -w output, then "rc=N", then curl's error text.
fetch() {
  local d=$1 a=$2
  shift 2
  local out rc
  out=$(curl -sS --cacert "$CA" --connect-to "mta-sts.$d:443:$a:$HTTPS_PORT" \
    -o "$T/body" "$@" "https://mta-sts.$d/.well-known/mta-sts.txt" 2>"$T/err")
  rc=$?
  printf '%s rc=%d %s' "$out" "$rc" "$(tr '\n' ' ' <"$T/err")"
}

# A valid policy: status, media type, exact body, nothing else.
r=$(fetch ok.srv.test 127.20.1.1 -w '%{http_code}|%{content_type}|%{size_download}')
expect "ok: answer" "200|text/plain; charset=utf-8|64 rc=0 " "$r"
expect "ok: body" "${POLICY}x" "$(cat "$T/body"; echo x)"
r=$(curl -sS -i --cacert "$CA" --connect-to "mta-sts.ok.srv.test:443:127.20.1.1:$HTTPS_PORT" \
  "https://mta-sts.ok.srv.test/.well-known/mta-sts.txt" | tr -d '\r')
expect_match "ok: Connection: close" '^Connection: close$' "$r"
expect_match "ok: Content-Length" '^Content-Length: 64$' "$r"
r=$(curl -sS --cacert "$CA" --connect-to "mta-sts.ok.srv.test:443:127.20.1.1:$HTTPS_PORT" \
  -o /dev/null -w '%{http_code}' "https://mta-sts.ok.srv.test/other/path")
expect "ok: other paths are 404" "404" "$r"
r=$(curl -sS --cacert "$CA" --connect-to "mta-sts.ok.srv.test:443:127.20.1.1:$HTTPS_PORT" \
  -o /dev/null -w '%{http_code}' -X POST "https://mta-sts.ok.srv.test/.well-known/mta-sts.txt")
expect "ok: POST is 405" "405" "$r"

# encoding gzip: coded whether asked or not; decoded, the policy.
r=$(curl -sS --cacert "$CA" --connect-to "mta-sts.gzip.srv.test:443:127.20.1.20:$HTTPS_PORT" \
  -o "$T/gz" -D - "https://mta-sts.gzip.srv.test/.well-known/mta-sts.txt" | tr -d '\r')
expect_match "gzip: Content-Encoding unasked" '^Content-Encoding: gzip$' "$r"
expect "gzip: decodes to the policy" "${POLICY}x" "$(gzip -dc <"$T/gz"; echo x)"
expect "gzip: curl --compressed" "200 rc=0 " "$(fetch gzip.srv.test 127.20.1.20 --compressed \
  -w '%{http_code}')"
expect "gzip: curl --compressed reads the policy" "${POLICY}x" "$(cat "$T/body"; echo x)"

# Certificates: each kind gives curl's matching verification error.
expect_match "expired" 'rc=60 .*certificate has expired' "$(fetch expired.srv.test 127.20.1.2)"
expect_match "not yet valid" 'rc=60 .*not yet valid' "$(fetch notyet.srv.test 127.20.1.3)"
expect_match "wrong name" 'rc=60 .*(no alternative certificate subject name|does not match)' \
  "$(fetch wrongname.srv.test 127.20.1.4)"
expect_match "self-signed" 'rc=60 .*self.signed' "$(fetch selfsigned.srv.test 127.20.1.5)"
expect_match "untrusted CA" 'rc=60 .*unable to get local issuer' \
  "$(fetch untrusted.srv.test 127.20.1.6)"
expect "wildcard certificate" "200 rc=0 " "$(fetch wild.srv.test 127.20.1.7 -w '%{http_code}')"
subject=$(openssl s_client -connect "127.20.1.4:$HTTPS_PORT" -servername mta-sts.wrongname.srv.test \
  </dev/null 2>/dev/null | openssl x509 -noout -ext subjectAltName 2>/dev/null | tail -1)
expect_match "wrong name: the model's other name" 'DNS:www\.wrongname\.srv\.test' "$subject"

# Status, redirect, media type: recorded, never followed.
expect "redirect" "301|https://www.redirect.srv.test/.well-known/mta-sts.txt|0 rc=0 " \
  "$(fetch redirect.srv.test 127.20.1.8 -w '%{http_code}|%{redirect_url}|%{num_redirects}')"
expect "html media type" "200|text/html rc=0 " \
  "$(fetch html.srv.test 127.20.1.9 -w '%{http_code}|%{content_type}')"
expect "404" "404 rc=0 " "$(fetch notfound.srv.test 127.20.1.10 -w '%{http_code}')"
expect "too large body" "200|200064 rc=0 " \
  "$(fetch big.srv.test 127.20.1.15 -w '%{http_code}|%{size_download}')"

# Speed: drip (4 bytes every 500 ms), stall after 10 bytes, reset after 10 bytes, latency.
r=$(fetch drip.srv.test 127.20.1.11 --max-time 2 -w '%{size_download}')
expect_match "drip: times out" 'rc=28' "$r"
n=${r%% *}
expect_true "drip: 12..20 bytes in 2 s (got $n)" test "$n" -ge 12 -a "$n" -le 20
expect_match "stall: head and 10 bytes, then silence" '^10 rc=28' \
  "$(fetch stall.srv.test 127.20.1.12 --max-time 2 -w '%{size_download}')"
expect_match "reset mid-body" 'rc=56 .*(reset|Recv failure)' \
  "$(fetch reset.srv.test 127.20.1.13 --max-time 5)"
r=$(fetch slow.srv.test 127.20.1.14 -w '%{http_code} %{time_starttransfer}')
expect_match "latency: still 200" '^200 ' "$r"
t=$(awk '{print $2}' <<<"$r")
expect_true "latency: first byte after 1.2 s (got $t)" awk -v t="$t" 'BEGIN{exit !(t >= 1.19)}'

# Connection and handshake failures.
expect_match "TLS alert" 'rc=35 .*handshake failure' "$(fetch alert.srv.test 127.20.1.16)"
# A shared listener cannot refuse a SYN: it accepts and resets at once, which a client sees
# as a failed connect or a reset on its first write, depending on timing.
REFUSED='rc=(7|35|56) '
expect_match "refused" "$REFUSED" "$(fetch refused.srv.test 127.20.1.17 --max-time 5)"
expect_match "blackhole: handshake never completes" 'rc=28 ' \
  "$(fetch blackhole.srv.test 127.20.1.18 --max-time 1)"
expect_match "no host at that address" "$REFUSED" "$(fetch ok.srv.test 127.30.1.1 --max-time 5)"

# TLS version cap: 1.1 only, which a default (1.2+) client refuses.
expect_match "TLS 1.1 host refuses TLS 1.2 clients" 'rc=35 ' "$(fetch tls11.srv.test 127.20.1.19)"
expect "TLS 1.1 host speaks TLS 1.1" "200 rc=0 " \
  "$(fetch tls11.srv.test 127.20.1.19 --tlsv1.1 --tls-max 1.1 --ciphers 'DEFAULT@SECLEVEL=0' \
    -w '%{http_code}')"
expect_match "other hosts refuse TLS 1.1" 'rc=35 ' \
  "$(fetch ok.srv.test 127.20.1.1 --tlsv1.1 --tls-max 1.1 --ciphers 'DEFAULT@SECLEVEL=0')"

# No SNI: the host's own default (certificate for its name, 404).
r=$(curl -sS -k -o /dev/null -w '%{http_code}' "https://127.20.1.1:$HTTPS_PORT/.well-known/mta-sts.txt")
expect "no SNI: host default" "404" "$r"

# Clients that vanish mid-stall, mid-drip, mid-handshake do not hurt the server.
pids=()
for i in 1 2 3 4 5; do
  timeout 0.3 curl -sS --cacert "$CA" --connect-to "mta-sts.stall.srv.test:443:127.20.1.12:$HTTPS_PORT" \
    -o /dev/null "https://mta-sts.stall.srv.test/.well-known/mta-sts.txt" 2>/dev/null &
  pids+=($!)
  timeout 0.3 curl -sS --cacert "$CA" --connect-to "mta-sts.drip.srv.test:443:127.20.1.11:$HTTPS_PORT" \
    -o /dev/null "https://mta-sts.drip.srv.test/.well-known/mta-sts.txt" 2>/dev/null &
  pids+=($!)
  timeout 0.3 bash -c "exec 3<>/dev/tcp/127.20.1.1/$HTTPS_PORT; printf '\x16\x03\x01' >&3; sleep 1" \
    2>/dev/null &
  pids+=($!)
done
wait "${pids[@]}"

# Many at once: 400 fetches over 50 parallel connections, all answered in full.
: >"$T/urls"
for i in $(seq 1 400); do
  printf 'url = "https://mta-sts.ok.srv.test/.well-known/mta-sts.txt"\noutput = "/dev/null"\n' >>"$T/urls"
done
r=$(curl -sS --no-progress-meter --parallel --parallel-max 50 --cacert "$CA" \
  --connect-to "mta-sts.ok.srv.test:443:127.20.1.1:$HTTPS_PORT" -K "$T/urls" \
  -w '%{http_code}\n' | sort | uniq -c | awk '{print $1 "x" $2}')
expect "400 parallel fetches" "400x200" "$r"

finish
