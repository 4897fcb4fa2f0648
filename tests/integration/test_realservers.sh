#!/usr/bin/env bash
# The scanner against real servers, as users run it: unbound as the recursive resolver
# (forwarding to the world's DNS), nginx serving the policies and postfix offering STARTTLS,
# with certificates from the world's CA (tests/world/realservers.sh, on 127.1.255.0/24).
# The world (tests/integration/real.scn) publishes only DNS records for the real-server
# domains. The stored observations must be what those servers really did: the policy body
# nginx served (its file's digest), text/plain, a certificate verified against the world's
# root; postfix's banner, STARTTLS offered, a verified TLS session for the MX name, its 221
# to QUIT; and mtasts-analyze must call the domains valid. One more domain, served by the
# world itself, is scanned through the same unbound on the world's own ports (the scanner
# has one port per protocol) and must match the world's ground truth. Then verdicts as
# senders reach them: a policy nginx sends gzip-coded unasked (decoded, valid), and on the
# world's HTTPS port with postfix as MX: an IPv6-only policy host (not probed), an MX that
# refuses TCP and one where postfix answers 554 at connect (indeterminate, never
# valid-enforce), an MX named 127.25.0.1. (resolved, probed at its A record, valid) and a
# null MX beside a record (no-mail).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

REAL_DOMAINS="alpha.realsrv.test beta.realsrv.test"
WORLD_DOMAIN=worldmx.realsrv.test
GZIP_DOMAIN=gamma.realsrv.test
SENDER_DOMAINS="delta.realsrv.test epsilon.realsrv.test zeta.realsrv.test eta.realsrv.test
theta.realsrv.test"

SECONDS=0
world_start "$WORK" --scenario "$MTS_SOURCE/tests/integration/real.scn" \
    --ca-dir "$WORK/ca" --truth "$WORK/truth.jsonl" --list "$WORK/list.txt"
policy_hosts=""
for d in $REAL_DOMAINS; do policy_hosts+="${policy_hosts:+ }mta-sts.$d"; done
real_start REAL_POLICY_HOSTS="$policy_hosts" REAL_MX_HOST=mx.realsrv.test \
    REAL_GZIP_HOSTS="mta-sts.$GZIP_DOMAIN" REAL_MX_NUMERIC_HOST=127.25.0.1
world_https=$(sed -n 's/^https_port=//p' "$WORK/ready")
world_smtp=$(sed -n 's/^smtp_port=//p' "$WORK/ready")
echo "unbound $UNBOUND_ADDR:$UNBOUND_PORT, nginx $NGINX_ADDR:$NGINX_PORT," \
    "postfix $POSTFIX_ADDR:$POSTFIX_PORT; world https $world_https, smtp $world_smtp"

COMMON=(--resolver "$UNBOUND_ADDR:$UNBOUND_PORT" --ca-file "$WORK/ca/ca.pem" --allow-private
    --ehlo scanner.mtasts-scan.test --timeout-dns 2000 --dns-tries 3 --timeout-connect 3000
    --timeout-https 8000 --timeout-smtp 8000 -q)
tr ' ' '\n' <<<"$REAL_DOMAINS" >"$WORK/real.txt"
echo "$WORLD_DOMAIN" >"$WORK/world.txt"
echo "$GZIP_DOMAIN" >"$WORK/gzip.txt"
tr ' ' '\n' <<<"$SENDER_DOMAINS" | grep . >"$WORK/senders.txt"

# Scan 1: the real-server domains, on nginx's and postfix's ports.
if ! "$MTS_SCAN" --input "$WORK/real.txt" --db "$WORK/db" --scan-id real "${COMMON[@]}" \
    --https-port "$NGINX_PORT" --smtp-port "$POSTFIX_PORT"; then
    bad "scan of the real-server domains exits 0"
    real_logs
fi
# Scan 2: the world's own domain, on the world's ports, through the same unbound.
if ! "$MTS_SCAN" --input "$WORK/world.txt" --db "$WORK/db" --scan-id world "${COMMON[@]}" \
    --https-port "$world_https" --smtp-port "$world_smtp"; then
    bad "scan of the world-served domain exits 0"
    real_logs
fi
# Scan 3: the gzip-coded policy on nginx's port.
if ! "$MTS_SCAN" --input "$WORK/gzip.txt" --db "$WORK/db" --scan-id gzip "${COMMON[@]}" \
    --https-port "$NGINX_PORT" --smtp-port "$POSTFIX_PORT"; then
    bad "scan of the gzip-coded policy exits 0"
    real_logs
fi
# Scan 4: policies from the world's HTTPS server, postfix's listeners as MX hosts.
if ! "$MTS_SCAN" --input "$WORK/senders.txt" --db "$WORK/db" --scan-id senders "${COMMON[@]}" \
    --https-port "$world_https" --smtp-port "$POSTFIX_PORT"; then
    bad "scan of the sender-verdict domains exits 0"
    real_logs
fi
"$MTS_RAW_EXPORT" "$WORK/db" real >"$WORK/real.jsonl"
"$MTS_RAW_EXPORT" "$WORK/db" world >"$WORK/world.jsonl"
"$MTS_RAW_EXPORT" "$WORK/db" gzip >"$WORK/gzip.jsonl"
"$MTS_RAW_EXPORT" "$WORK/db" senders >"$WORK/senders.jsonl"

# The stored observations of the real-server domains, field by field.
if ! /usr/bin/python3 - "$WORK/real.jsonl" "$WORK/real" "$UNBOUND_ADDR:$UNBOUND_PORT" \
    "$NGINX_ADDR" "$NGINX_PORT" "$POSTFIX_ADDR" "$POSTFIX_PORT" $REAL_DOMAINS <<'EOF'; then
import hashlib, json, sys

scan, realdir, resolver, nginx_addr, nginx_port, pf_addr, pf_port = sys.argv[1:8]
domains = sys.argv[8:]
recs = {r["domain"]: r for r in map(json.loads, open(scan, encoding="utf-8"))}
fails = []

def check(what, want, got):
    if want != got:
        fails.append(f"{what}: want {want!r}, got {got!r}")

def check_true(what, cond, got):
    if not cond:
        fails.append(f"{what}: got {got!r}")

check("domains scanned", sorted(domains), sorted(recs))
probes_seen = set()
for d in domains:
    r = recs.get(d)
    if r is None:
        continue
    # DNS: every stage answered by unbound, with the world's records.
    for k, o in r["dns"].items():
        check(f"{d} dns.{k}.resolver", resolver, o.get("resolver"))
    sts = r["dns"]["sts"]
    check(f"{d} dns.sts.result", "answer", sts.get("result"))
    txt = [a["txt"] for a in sts.get("answer", []) if a["type"] == "TXT"]
    check_true(f"{d} dns.sts TXT is an STSv1 record", len(txt) == 1 and txt[0][0].startswith("v=STSv1;"), txt)
    check(f"{d} dns.policy_a", [nginx_addr],
          [a["addr"] for a in r["dns"]["policy_a"].get("answer", []) if a["type"] == "A"])

    # The policy fetch: what nginx served from its file.
    host = f"mta-sts.{d}"
    body = open(f"{realdir}/www/{host}/.well-known/mta-sts.txt", "rb").read()
    p = r.get("policy") or {}
    check(f"{d} policy.url", f"https://{host}/.well-known/mta-sts.txt", p.get("url"))
    check(f"{d} policy.result", "ok", p.get("result"))
    check(f"{d} policy.addr", nginx_addr, p.get("addr"))
    check(f"{d} policy.port", int(nginx_port), p.get("port"))
    check(f"{d} policy.http_status", 200, p.get("http_status"))
    check(f"{d} policy.content_type", "text/plain", p.get("content_type"))
    b = p.get("body") or {}
    check(f"{d} policy.body.sha256", hashlib.sha256(body).hexdigest(), b.get("sha256"))
    check(f"{d} policy.body.len", len(body), b.get("len"))
    check(f"{d} policy.body.truncated", False, b.get("truncated"))
    check(f"{d} policy.body.text", body.decode(), b.get("text"))
    tls = p.get("tls") or {}
    check(f"{d} policy.tls.verify", "ok", tls.get("verify"))
    check(f"{d} policy.tls.verify_code", 0, tls.get("verify_code"))
    check(f"{d} policy.tls.sni", host, tls.get("sni"))
    leaf = tls.get("leaf") or {}
    check(f"{d} policy.tls.leaf.san", [host], leaf.get("san"))
    check_true(f"{d} policy.tls.leaf.issuer is the world's root",
               "mtasts-world Test Root" in (leaf.get("issuer") or ""), leaf.get("issuer"))
    check_true(f"{d} policy.tls.version", (tls.get("version") or "").startswith("TLSv1."), tls.get("version"))

    # The MX: postfix, probed once for both domains.
    check(f"{d} mx hosts", ["mx.realsrv.test"], [m.get("host") for m in r.get("mx", [])])
    for m in r.get("mx", []):
        check(f"{d} mx.a.resolver", resolver, m["a"].get("resolver"))
        check(f"{d} mx probes", [pf_addr], [q.get("addr") for q in m.get("probes", [])])
        for q in m.get("probes", []):
            pr = q.get("probe")
            if pr is None:
                fails.append(f"{d} mx {q.get('addr')}: no probe record (skip={q.get('skip')!r})")
                continue
            probes_seen.add(json.dumps(pr, sort_keys=True))
            w = f"{d} mx {m['host']} {q['addr']}"
            check(f"{w} port", int(pf_port), pr.get("port"))
            check(f"{w} result", "ok", pr.get("result"))
            check(f"{w} stage", "done", pr.get("stage"))
            banner = pr.get("banner") or []
            check_true(f"{w} banner is postfix's 220", len(banner) == 1 and
                       banner[0].startswith("220 mx.realsrv.test ESMTP"), banner)
            check_true(f"{w} STARTTLS in capabilities", "STARTTLS" in (pr.get("capabilities") or []),
                       pr.get("capabilities"))
            check_true(f"{w} EHLO reply names the host",
                       (pr.get("ehlo") or [""])[0].startswith("250-mx.realsrv.test"), pr.get("ehlo"))
            check_true(f"{w} STARTTLS answered 220", (pr.get("starttls") or [""])[-1].startswith("220 "),
                       pr.get("starttls"))
            check(f"{w} injection", 0, pr.get("injection"))
            t = pr.get("tls") or {}
            check(f"{w} tls.verify", "ok", t.get("verify"))
            check(f"{w} tls.verify_code", 0, t.get("verify_code"))
            check(f"{w} tls.sni", "mx.realsrv.test", t.get("sni"))
            check(f"{w} tls.leaf.san", ["mx.realsrv.test"], (t.get("leaf") or {}).get("san"))
            check_true(f"{w} tls.version recorded", (t.get("version") or "").startswith("TLSv1."),
                       t.get("version"))
            check_true(f"{w} tls.cipher recorded", bool(t.get("cipher")), t.get("cipher"))
            check_true(f"{w} quit answered 221", (pr.get("quit") or [""])[-1].startswith("221"),
                       pr.get("quit"))
check("one shared probe record for both domains", 1, len(probes_seen))

# beta's TLS reports go to nginx over HTTPS: a verified handshake and nothing more.
rua = (recs.get("beta.realsrv.test") or {}).get("tlsrpt_rua") or [{}]
t = rua[0].get("tls") or {}
check("beta rua host", "mta-sts.beta.realsrv.test", rua[0].get("host"))
check("beta rua tls.result", "ok", t.get("result"))
check("beta rua tls.addr", nginx_addr, t.get("addr"))
check("beta rua tls.port", int(nginx_port), t.get("port"))
check("beta rua tls.tls.verify", "ok", (t.get("tls") or {}).get("verify"))
check("beta rua tls.tls.sni", "mta-sts.beta.realsrv.test", (t.get("tls") or {}).get("sni"))
for f in fails:
    print("  " + f)
print(f"{len(domains)} real-server domains, {len(fails)} differences")
sys.exit(1 if fails else 0)
EOF
    bad "stored observations of the real-server domains"
    real_logs
else
    ok
fi

# The server's side: nginx logged exactly one GET of the policy per policy host, answered 200.
n_real=$(($(wc -w <<<"$REAL_DOMAINS") + 1)) # and gamma's
expect "nginx served the policy once per domain ($n_real)" [ "$(grep -c \
    '"GET /.well-known/mta-sts.txt HTTP/1.1" 200 ' "$WORK/real/nginx/access.log")" -eq "$n_real" ]
# ... and nothing else: beta's report host check wrote no request.
expect "nginx saw no request but the policies" [ "$(wc -l <"$WORK/real/nginx/access.log")" -eq "$n_real" ]

# What senders reach: the observations behind each verdict, as the real servers made them.
if ! /usr/bin/python3 - "$WORK/gzip.jsonl" "$WORK/senders.jsonl" "$WORK/real" \
    "$GZIP_DOMAIN" "$POSTFIX_PORT" <<'EOF'; then
import gzip, hashlib, json, sys

gz_scan, senders_scan, realdir, gz_domain, pf_port = sys.argv[1:6]
recs = {r["domain"]: r for f in (gz_scan, senders_scan) for r in map(json.loads, open(f))}
fails = []

def check(what, want, got):
    if want != got:
        fails.append(f"{what}: want {want!r}, got {got!r}")

def probe(domain):
    mx = (recs.get(domain) or {}).get("mx") or [{}]
    q = (mx[0].get("probes") or [{}])[0]
    return mx[0].get("host"), q.get("addr"), q.get("probe") or {}

# gamma: nginx sent gzip (its .gz file); the stored body is the decoded policy.
host = f"mta-sts.{gz_domain}"
path = f"{realdir}/www/{host}/.well-known/mta-sts.txt"
plain, coded = open(path, "rb").read(), open(path + ".gz", "rb").read()
check("gamma: nginx's file decodes to the policy", plain, gzip.decompress(coded))
p = (recs.get(gz_domain) or {}).get("policy") or {}
check("gamma policy.result", "ok", p.get("result"))
check("gamma policy.content_encoding", "gzip", p.get("content_encoding"))
check("gamma policy.body.sha256", hashlib.sha256(plain).hexdigest(), (p.get("body") or {}).get("sha256"))
check("gamma policy.body.len", len(plain), (p.get("body") or {}).get("len"))

# delta: only AAAA at the policy host; not tried without --ipv6.
d = recs.get("delta.realsrv.test") or {}
p = d.get("policy") or {}
check("delta policy.result", "ipv6-disabled", p.get("result"))
check("delta policy.addr", "::1", p.get("addr"))
check("delta dns.policy_aaaa", "answer", (d.get("dns") or {}).get("policy_aaaa", {}).get("result"))

# epsilon: nothing listens at the MX's address.
h, a, pr = probe("epsilon.realsrv.test")
check("epsilon mx", ("mx-refused.realsrv.test", "127.1.255.5"), (h, a))
check("epsilon probe result", "connect-refused", pr.get("result"))

# zeta: postfix rejects the client before the greeting.
h, a, pr = probe("zeta.realsrv.test")
check("zeta mx", ("mx-554.realsrv.test", "127.1.255.3"), (h, a))
check("zeta probe result", "banner-5xx", pr.get("result"))
check("zeta banner is postfix's 554", True, (pr.get("banner") or [""])[0].startswith("554 "))

# eta: the MX named 127.25.0.1 was resolved and probed at its A record, never at 127.25.0.1.
h, a, pr = probe("eta.realsrv.test")
check("eta mx", ("127.25.0.1", "127.1.255.4"), (h, a))
check("eta probe port", int(pf_port), pr.get("port"))
check("eta probe result", "ok", pr.get("result"))
check("eta banner is postfix's 220", True, (pr.get("banner") or [""])[0].startswith("220 "))
check("eta tls.sni", "127.25.0.1", (pr.get("tls") or {}).get("sni"))
t = pr.get("tls") or {}
check("eta tls.verify", "ok", t.get("verify"))
check("eta tls.leaf.san", ["127.25.0.1"], (t.get("leaf") or {}).get("san"))

# theta: a null MX, nothing to probe.
check("theta mx", [], (recs.get("theta.realsrv.test") or {}).get("mx"))
for f in fails:
    print("  " + f)
print(f"{len(recs)} sender-verdict domains, {len(fails)} differences")
sys.exit(1 if fails else 0)
EOF
    bad "observations behind the sender verdicts"
    real_logs
else
    ok
fi

# The world-served domain, through the same unbound, against the world's ground truth.
/usr/bin/python3 -c '
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    if json.loads(line)["domain"] == sys.argv[2]:
        print(line, end="")' "$WORK/truth.jsonl" "$WORLD_DOMAIN" >"$WORK/world-truth.jsonl"
if ! /usr/bin/python3 "$MTS_SOURCE/tests/integration/compare_truth.py" \
    "$WORK/world-truth.jsonl" "$WORK/world.jsonl" --via-resolver; then
    bad "the world-served domain's observations equal the ground truth"
    real_logs
else
    ok
fi

# Verdicts: every domain as the scenario says, and explain calls alpha valid.
"$MTS_ANALYZE" export --format jsonl --db "$WORK/db" --scan-id real >"$WORK/verdicts.jsonl"
"$MTS_ANALYZE" export --format jsonl --db "$WORK/db" --scan-id world >>"$WORK/verdicts.jsonl"
"$MTS_ANALYZE" export --format jsonl --db "$WORK/db" --scan-id gzip >>"$WORK/verdicts.jsonl"
"$MTS_ANALYZE" export --format jsonl --db "$WORK/db" --scan-id senders >>"$WORK/verdicts.jsonl"
expect "verdicts and categories equal the scenario's" /usr/bin/python3 \
    "$MTS_SOURCE/tests/integration/compare_verdicts.py" "$WORK/truth.jsonl" "$WORK/verdicts.jsonl"
expect "export: alpha is valid-enforce, would not bounce" /usr/bin/python3 -c '
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if json.loads(l)["domain"] == "alpha.realsrv.test"]
print("alpha:", r[0].get("verdict") if r else None)
sys.exit(0 if len(r) == 1 and r[0]["verdict"] == "valid-enforce" and not r[0]["would_bounce"] else 1)' \
    "$WORK/verdicts.jsonl"
expect "export: gamma's policy came gzip-coded and is valid" /usr/bin/python3 -c '
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if json.loads(l)["domain"] == "gamma.realsrv.test"]
f = r[0].get("policy_fetch", {}) if r else {}
print("gamma:", f.get("content_encoding"), (r[0].get("policy") or {}).get("valid") if r else None)
sys.exit(0 if f.get("content_encoding") == "gzip" and r[0]["policy"]["valid"] else 1)' \
    "$WORK/verdicts.jsonl"
if "$MTS_ANALYZE" explain alpha.realsrv.test --db "$WORK/db" --scan-id real >"$WORK/explain.txt"; then
    ok
    expect "explain says alpha is valid-enforce" grep -q 'valid-enforce' "$WORK/explain.txt"
else
    bad "mtasts-analyze explain alpha.realsrv.test exits 0"
fi

# mtasts-check on one real-server domain, with the scan's options: unbound, nginx and
# postfix give the operator's check the same valid-enforce, exit 0 (after the access-log
# counts above: the check fetches the policy once more).
if "$MTS_CHECK" "${COMMON[@]}" --https-port "$NGINX_PORT" --smtp-port "$POSTFIX_PORT" \
    --format json alpha.realsrv.test >"$WORK/check.json"; then ok; else
    bad "mtasts-check alpha.realsrv.test exits 0 (valid)"
    real_logs
fi
expect "mtasts-check: alpha is valid-enforce with a verified policy and STARTTLS" \
    jq -e '.verdict == "valid-enforce" and .policy_fetch.result == "ok" and
        .policy_fetch.cert_verdict == "ok" and (.mx | length) >= 1' "$WORK/check.json"
real_stop
expect "world stops cleanly" world_stop
echo "integration_realservers: ${SECONDS} s"
finish
