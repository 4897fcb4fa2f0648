#!/usr/bin/env bash
# Hostile DNS cannot steer the scanner at loopback, private or reserved addresses, nor past
# the opt-out list. A hostile network on loopback (hostile_net.py) answers with special
# addresses in every form (A, AAAA, IPv4-mapped, NAT64, 6to4) and reaches an opted-out
# provider through MX names and CNAMEs; its listeners log every connection they accept.
#  1. control: with --allow-private the listeners do see the loopback forms (the log works);
#  2. without --allow-private no connection is made, and each skip is recorded;
#  3. with provider.test on the opt-out list, no host of it is contacted through an MX
#     name or a CNAME, while the domains' other hosts are.
# Only loopback addresses are ever dialled: private, NAT64 and 6to4 targets appear only in
# the scan that must not connect.
. "$(dirname "$0")/../world/world_lib.sh"

WORK=$(mktemp -d)
NET_PID=
cleanup() {
    if [ -n "$NET_PID" ]; then kill -TERM "$NET_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

python3 "$MTS_SOURCE/tests/integration/hostile_net.py" "$WORK/ready" "$WORK/accepts.jsonl" \
    "$WORK/all.txt" 2>"$WORK/net.err" &
NET_PID=$!
for _ in $(seq 1 200); do
    [ -s "$WORK/ready" ] && break
    sleep 0.05
done
[ -s "$WORK/ready" ] || { cat "$WORK/net.err" >&2; exit 1; }
port() { sed -n "s/^$1_port=//p" "$WORK/ready"; }

# scan NAME LIST [OPTIONS...]: scans LIST into its own store; the accepts it caused, its
# records and the accept log's length before it are kept under NAME.
scan() {
    local name=$1 list=$2
    shift 2
    touch "$WORK/accepts.jsonl"
    local before
    before=$(wc -l <"$WORK/accepts.jsonl")
    "$MTS_SCAN" --input "$list" --db "$WORK/db-$name" --scan-id "$name" \
        --resolver "127.0.0.1:$(port dns)" --https-port "$(port https)" \
        --smtp-port "$(port smtp)" --ipv6 --smtp-all --ehlo scanner.mtasts-scan.test \
        --timeout-dns 1000 --dns-tries 3 --timeout-connect 3000 --timeout-https 5000 \
        --timeout-smtp 5000 -q "$@" || return 1
    "$MTS_RAW_EXPORT" "$WORK/db-$name" "$name" >"$WORK/$name.jsonl" || return 1
    tail -n +"$((before + 1))" "$WORK/accepts.jsonl" >"$WORK/$name.accepts"
}

# check NAME PYTHON: runs the Python check with records (a dict domain -> record) and
# accepts (a set of (service, addr)) of scan NAME.
check() {
    /usr/bin/python3 -c '
import json, sys
records = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    records[r["domain"]] = r
accepts = {(a["service"], a["addr"]) for a in map(json.loads, open(sys.argv[2]))}
def policy(d):
    return records[d].get("policy") or {}
def probes(d):
    return [p for mx in records[d]["mx"] for p in mx.get("probes", [])]
print("accepts:", sorted(accepts))
exec(sys.argv[3])
' "$WORK/$1.jsonl" "$WORK/$1.accepts" "$2"
}

printf '%s\n' a.hostile.test aaaa.hostile.test mapped.hostile.test >"$WORK/loopback.txt"
grep hostile "$WORK/all.txt" >"$WORK/hostile.txt"
printf '%s\n' optout-mx.test optout-cname.test control.test >"$WORK/optout.txt"
echo "provider.test" >"$WORK/exclude.txt"

expect "control scan with --allow-private exits 0" \
    scan control "$WORK/loopback.txt" --allow-private
expect "control: the listeners saw the A, AAAA and IPv4-mapped loopback targets" check control '
want = {("https", "127.0.0.2"), ("smtp", "127.0.0.3"), ("https", "::1"), ("smtp", "::1"),
        ("https", "127.0.0.4"), ("smtp", "127.0.0.5")}
print("missing:", want - accepts)
sys.exit(0 if want <= accepts else 1)'

expect "scan without --allow-private exits 0" scan strict "$WORK/hostile.txt"
expect "no connection at all without --allow-private" check strict '
sys.exit(1 if accepts else 0)'
expect "every policy fetch and probe is recorded as skipped: special-address" check strict '
bad = []
for d in records:
    f = policy(d)
    if not f or f.get("result") != "special-address" or "addr" not in f:
        bad.append((d, "policy", f))
    ps = probes(d)
    if not ps or any(p.get("skip") != "special-address" for p in ps):
        bad.append((d, "probes", ps))
print("domains:", len(records), "wrong:", bad)
sys.exit(1 if bad or len(records) != 6 else 0)'

expect "opt-out scan exits 0" scan optout "$WORK/optout.txt" --allow-private \
    --exclude "$WORK/exclude.txt"
expect "no host of the opted-out provider is contacted, the others are" check optout '
forbidden = {"127.0.0.11", "127.0.0.12", "127.0.0.13"}
want = {("https", "127.0.0.10"), ("https", "127.0.0.14"), ("smtp", "127.0.0.15")}
hit = {a for a in accepts if a[1] in forbidden}
print("forbidden contacted:", hit, "missing:", want - accepts)
sys.exit(1 if hit or not want <= accepts else 0)'
expect "the skipped MX probes and policy fetch say excluded" check optout '
ok = (all(p.get("skip") == "excluded" for p in probes("optout-mx.test")) and
      len(probes("optout-mx.test")) == 1 and
      policy("optout-cname.test").get("result") == "excluded" and
      [p.get("skip") for p in probes("optout-cname.test")] == ["excluded"] and
      [p.get("skip") for p in probes("control.test")] == [None])
print({d: (policy(d).get("result"), probes(d)) for d in records})
sys.exit(0 if ok else 1)'
finish
