#!/usr/bin/env bash
# Hostile and overlong names never end a scan: a list that mixes normal domains, a domain
# whose MX target has labels of control bytes (three labels of 60 x 0x01, over 700
# characters in presentation form, probed like any MX), input names of 243 to 253 characters (whose _mta-sts /
# _smtp._tls names pass 255 octets) and, with --dane, an MX host of 245 characters (whose
# _25._tcp name does) finishes with exit 0 and exactly one record per distinct input name,
# each failure recorded in its own domain's record. A scan killed with SIGKILL and resumed
# does the same.
. "$(dirname "$0")/lib.sh"

/usr/bin/python3 - "$WORK" <<'EOF'
import sys
work = sys.argv[1]

def long_name(total, suffix):
    """A name of exactly total characters ending in suffix, labels of at most 63."""
    labels, left = [], total - len(suffix)  # each label takes its length and a dot
    while left > 0:
        n = min(63, left - 1)
        if left - (n + 1) == 1:
            n -= 1
        labels.append("a" * n)
        left -= n + 1
    name = ".".join(labels + [suffix])
    assert len(name) == total and all(0 < len(l) <= 63 for l in name.split(".")), name
    return name

ctrl_mx = ".".join(["^" * 60] * 3) + ".evil.test"  # "^" is the byte 0x01 in the world
ctrl_short = "^" * 10 + ".evil.test"  # short enough to be probed under its own name
long_mx = long_name(245, "longmx.test")
normal = ["normal%04d.example" % i for i in range(2000)]
longs = [long_name(n, "example") for n in range(243, 254)]
hostile = ["ctrl-mx.example", "ctrl-short.example", "long-mx.example"] + longs
with open(f"{work}/hostile.scn", "w") as f:
    f.write(f"""host mx1.bigmail.test
    addr 127.1.1.1
host {ctrl_mx}
    addr 127.1.9.1
host {long_mx}
    addr 127.1.9.2
host {ctrl_short}
    addr 127.1.9.3
preset sts
    sts "v=STSv1; id=1"
    tlsrpt "v=TLSRPTv1; rua=mailto:tlsrpt@reports.test"
    policy-a auto
    policy.body "version: STSv1\\nmode: enforce\\nmx: *.bigmail.test\\nmax_age: 1209600\\n"
""")
    for d in normal:
        f.write(f"domain {d}\n    use sts\n    mx 10 mx1.bigmail.test\n    verdict valid-enforce\n")
    # Names under a long domain cannot exist: only its MX.
    for d in longs:
        f.write(f"domain {d}\n    mx 10 mx1.bigmail.test\n    verdict no-mta-sts\n")
    f.write(f"domain ctrl-mx.example\n    use sts\n    mx 10 {ctrl_mx}\n    verdict misconfigured\n")
    f.write(f"domain ctrl-short.example\n    use sts\n    mx 10 {ctrl_short}\n    verdict misconfigured\n")
    f.write(f"domain long-mx.example\n    use sts\n    mx 10 {long_mx}\n    verdict misconfigured\n")
# Hostile names first, between and last; one of them listed twice.
names = hostile[:3] + normal[:1000] + hostile[3:] + normal[1000:] + [hostile[0]]
with open(f"{work}/list.txt", "w") as f:
    f.write("\n".join(names) + "\n")
with open(f"{work}/distinct", "w") as f:
    f.write("%d\n" % len(set(names)))
EOF
DISTINCT=$(cat "$WORK/distinct")

world_start "$WORK" --scenario "$WORK/hostile.scn" --ca-dir "$WORK/ca" --latency 5
world_ports

expect "the scan exits 0" scan "$WORK/db" full "$WORK/list.txt" --dane
"$MTS_RAW_EXPORT" "$WORK/db" full >"$WORK/full.jsonl"

# check JSONL: one record per distinct input name, each hostile case recorded in its record.
check() {
    /usr/bin/python3 - "$1" "$DISTINCT" <<'EOF'
import json, sys
recs = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["domain"] in recs:
        sys.exit(r["domain"] + " recorded twice")
    recs[r["domain"]] = r
if len(recs) != int(sys.argv[2]):
    sys.exit(f"{len(recs)} records for {sys.argv[2]} distinct names")

def skipped(obs, qname):
    return obs == {"qname": qname, "qtype": obs["qtype"], "result": "skipped",
                   "why": "name-too-long"}

long_ones = [d for d in recs if len(d) >= 243]
if len(long_ones) != 11:
    sys.exit(f"{len(long_ones)} long names recorded")
for d in long_ones:
    dns = recs[d]["dns"]
    # _mta-sts.D passes 255 octets from 245 characters on, _smtp._tls.D from 243 on.
    sts_long = len(d) >= 245
    if sts_long != skipped(dns["sts"], "_mta-sts." + d):
        sys.exit(d + ": sts " + json.dumps(dns["sts"]))
    if not skipped(dns["tlsrpt"], "_smtp._tls." + d):
        sys.exit(d + ": tlsrpt " + json.dumps(dns["tlsrpt"]))
    if dns["mx"]["result"] != "answer" or not recs[d]["mx"]:
        sys.exit(d + ": MX not observed")

ctrl = recs["ctrl-mx.example"]["mx"][0]
if not ctrl["host"].startswith("\\001\\001") or len(ctrl["host"]) < 700:
    sys.exit("ctrl-mx host: " + ctrl["host"][:40])
# Probed with the name in wire form (its 183 octets are a valid name, however long its
# escaped form): no SNI, no name check, the record says so; stored and found again under
# the escaped name although it is too long for a store key as it stands.
for d in ("ctrl-mx.example", "ctrl-short.example"):
    m = recs[d]["mx"][0]
    probe = m["probes"][0].get("probe", {}) if len(m["probes"]) == 1 else {}
    if m["a"]["result"] != "answer" or probe.get("host") != m["host"] or \
            probe.get("hostname") is not False or "sni" in probe.get("tls", {}) or \
            "result" not in probe:
        sys.exit(d + ": " + json.dumps(m)[:600])
if recs["ctrl-short.example"]["mx"][0]["host"] != "\\001" * 10 + ".evil.test":
    sys.exit("ctrl-short host")

lmx = recs["long-mx.example"]["mx"][0]
if len(lmx["host"]) != 245 or not skipped(lmx["tlsa"], "_25._tcp." + lmx["host"]):
    sys.exit("long-mx: " + json.dumps(lmx.get("tlsa")))
# Probed, and its record stored under the host's name (the world cannot mint a
# certificate for a name this long: the handshake result does not matter here).
probe = lmx["probes"][0] if len(lmx["probes"]) == 1 else {}
if probe.get("addr") != "127.1.9.2" or "skip" in probe or \
        probe.get("probe", {}).get("host") != lmx["host"]:
    sys.exit("long-mx probes: " + json.dumps(lmx["probes"])[:400])
print(f"{len(recs)} records, every hostile case in its own record")
EOF
}
expect "one record per name, failures recorded" check "$WORK/full.jsonl"
"$MTS_RAW_EXPORT" "$WORK/db" full --meta >"$WORK/meta.json"
expect "the scan is complete" grep -q '"state":"complete"' "$WORK/meta.json"

"$MTS_ANALYZE" report --format json --db "$WORK/db" --scan-id full >"$WORK/report.json"
expect "the analysis reads every record" test -s "$WORK/report.json"
expect "the analysis names the overlong names" grep -q "dns-info/name-too-long" "$WORK/report.json"

# A scan id too long for the store's keys is refused before anything is written.
expect "a 65-character scan id is refused" not scan "$WORK/db" "$(printf 'x%.0s' {1..65})" \
    "$WORK/list.txt"

# Killed at a random moment, then resumed: the same records, each once. The moment is
# counted from when the scan is in the store: a scan killed before that has nothing to
# resume (the scanner says so), which is not what this checks.
"$MTS_SCAN" --input "$WORK/list.txt" --db "$WORK/db" --scan-id resumed "${SCAN_ARGS[@]}" \
    --dane --concurrency 20 &
pid=$!
for _ in $(seq 300); do
    "$MTS_ANALYZE" scans --db "$WORK/db" 2>/dev/null |
        awk -F '\t' '$2 == "resumed" { f = 1 } END { exit !f }' && break
    sleep 0.1
done
delay_ms=$((RANDOM % 1000))
echo "killing the scanner after ${delay_ms} ms"
sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
kill -KILL "$pid"
wait "$pid" || true
"$MTS_RAW_EXPORT" "$WORK/db" resumed >"$WORK/partial.jsonl"
echo "$(wc -l <"$WORK/partial.jsonl") domains committed before the kill"
expect "the kill came mid-scan" test "$(wc -l <"$WORK/partial.jsonl")" -lt "$DISTINCT"
expect "resume exits 0" scan "$WORK/db" resumed "$WORK/list.txt" --dane --concurrency 20 --resume
"$MTS_RAW_EXPORT" "$WORK/db" resumed >"$WORK/resumed.jsonl"
expect "resumed: one record per name, failures recorded" check "$WORK/resumed.jsonl"
expect "world stops cleanly" world_stop
finish
