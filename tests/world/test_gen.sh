#!/usr/bin/env bash
# The generator: the same (N, seed) gives the same bytes run to run, another seed other bytes;
# the mix is the one docs/world.md promises; memory does not grow with N (1M vs 10M domains);
# the DNS server's answers for generated domains agree with the ground truth; and so for
# worlds with hostile domains (--hostile).
# usage: test_gen.sh MTASTS_WORLD
WORLD=$1
. "$(dirname "$0")/world_lib.sh"

tmp=$(mktemp -d)
trap 'kill "$WORLD_PID" 2>/dev/null || true; rm -rf "$tmp"' EXIT

N=20000
"$WORLD" --generate $N --seed 42 --truth "$tmp/a.jsonl" --list "$tmp/a.list" --no-serve
"$WORLD" --generate $N --seed 42 --truth "$tmp/b.jsonl" --list "$tmp/b.list" --no-serve
"$WORLD" --generate $N --seed 43 --truth "$tmp/c.jsonl" --no-serve
expect "same seed, same truth bytes" cmp -s "$tmp/a.jsonl" "$tmp/b.jsonl"
expect "same seed, same list bytes" cmp -s "$tmp/a.list" "$tmp/b.list"
expect "another seed, other truth" not cmp -s "$tmp/a.jsonl" "$tmp/c.jsonl"
expect "one list line per domain" [ "$(wc -l <"$tmp/a.list")" -eq $N ]
expect "one truth line per domain" [ "$(wc -l <"$tmp/a.jsonl")" -eq $N ]
expect "list names" [ "$(head -1 "$tmp/a.list")" = d0000000.example ]

# The population mix (ranges wide enough for N=20000).
expect "population mix" /usr/bin/python3 - "$tmp/a.jsonl" <<'EOF'
import collections, json, sys
n = 0; verdict = collections.Counter(); mx = collections.Counter(); rpt = 0
for line in open(sys.argv[1]):
    o = json.loads(line); n += 1; verdict[o["verdict"]] += 1
    if o["mx"] and not o["mx"][0]["implicit"]:
        mx[o["mx"][0]["host"].split(".", 1)[1]] += 1
    rpt += o["dns"]["tlsrpt"]["result"] == "answer"
    assert o["categories"] == sorted(o["categories"]), o
sts = n - verdict["no-mta-sts"]
top5 = sum(c for _, c in mx.most_common(5))
ok = (0.95 < verdict["no-mta-sts"] / n < 0.985 and 0.02 < sts / n < 0.05
      and 0.2 < verdict["misconfigured"] / sts < 0.5 and 0.55 < top5 / n < 0.67
      and 0.01 < rpt / n < 0.05)
print(verdict, "top5", top5 / n, "tlsrpt", rpt / n)
sys.exit(0 if ok else 1)
EOF

# The DNS answers agree with the truth's expected observations.
world_start "$tmp" --generate $N --seed 42 --latency 0 --jitter 0 --ca-dir "$tmp/ca"
expect "DNS answers match the truth" /usr/bin/python3 - "$tmp/a.jsonl" "$DNS_PORT" <<'EOF'
import json, subprocess, sys
port = sys.argv[2]; checked = 0; bad = 0
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o["verdict"] == "no-mta-sts" and checked % 50:
        checked += 1
        continue
    checked += 1
    for key, qtype in (("sts", "TXT"), ("mx", "MX"), ("policy_a", "A")):
        exp = o["dns"][key]
        out = subprocess.run(["dig", "@127.0.0.1", "-p", port, "+norecurse", "+time=2",
                              "+tries=1", "+noall", "+comments", "+answer", qtype, exp["qname"]],
                             capture_output=True, text=True).stdout
        status = {"answer": "NOERROR", "nodata": "NOERROR", "nxdomain": "NXDOMAIN",
                  "servfail": "SERVFAIL"}[exp["result"]]
        n_answer = sum(1 for l in out.splitlines() if l and not l.startswith(";"))
        if ("status: " + status) not in out or n_answer != len(exp.get("answer", [])):
            bad += 1
            print("mismatch", exp["qname"], qtype, exp["result"], n_answer, file=sys.stderr)
    if checked > 1500:
        break
print("checked", checked, "bad", bad)
sys.exit(1 if bad else 0)
EOF
rc=0
world_stop || rc=$?
expect "SIGTERM: exit status 0" [ "$rc" -eq 0 ]

# Hostile domains (--hostile): deterministic, the promised share and cases, the other domains
# exactly those of the plain world, and the DNS server serving the hostile names.
H=5000
"$WORLD" --generate $H --seed 42 --hostile 0.3 --truth "$tmp/h1.jsonl" --list "$tmp/h.list" \
    --no-serve
"$WORLD" --generate $H --seed 42 --hostile 0.3 --truth "$tmp/h2.jsonl" --no-serve
"$WORLD" --generate $H --seed 42 --truth "$tmp/p.jsonl" --no-serve
expect "hostile: same seed, same truth bytes" cmp -s "$tmp/h1.jsonl" "$tmp/h2.jsonl"
expect "hostile: the mix, long names listed, the rest as in the plain world" \
    /usr/bin/python3 - "$tmp/h1.jsonl" "$tmp/p.jsonl" "$tmp/h.list" <<'EOF'
import collections, json, sys
plain = open(sys.argv[2]).readlines()
cases = collections.Counter(); same = 0; lengths = set()
for i, line in enumerate(open(sys.argv[1])):
    o = json.loads(line)
    if o["case"].startswith("hostile-"):
        cases[o["case"]] += 1
        if o["case"] == "hostile-long-name":
            lengths.add(len(o["domain"]))
    else:
        same += line == plain[i]
hostile = sum(cases.values()); n = i + 1
long_listed = {len(l.rstrip("\n")) for l in open(sys.argv[3]) if len(l) > 200}
print(n, "domains,", hostile, "hostile", dict(cases), "long names", sorted(lengths))
ok = (0.27 < hostile / n < 0.33 and len(cases) == 15 and min(cases.values()) > 50
      and same == n - hostile and lengths == set(range(243, 254)) and long_listed == lengths)
sys.exit(0 if ok else 1)
EOF
world_start "$tmp" --generate $H --seed 42 --hostile 0.3 --latency 0 --jitter 0 --ca-dir "$tmp/ca"
expect "hostile: DNS answers" /usr/bin/python3 - "$tmp/h1.jsonl" "$DNS_PORT" <<'EOF'
import json, subprocess, sys
port = sys.argv[2]
def dig(*args):
    return subprocess.run(["dig", "@127.0.0.1", "-p", port, "+norecurse", "+time=2", "+tries=1",
                           *args], capture_output=True, text=True).stdout
seen = set(); bad = 0
for line in open(sys.argv[1]):
    o = json.loads(line)
    c = o["case"]
    if c in seen or c not in ("hostile-mx-escapes", "hostile-cname-loop", "hostile-big-txt"):
        continue
    seen.add(c)
    if c == "hostile-mx-escapes":  # the A record of the MX name with 0x01 bytes
        out = dig("+short", "A", o["mx"][0]["host"])
        bad += out.strip() != o["mx"][0]["a"]["answer"][0]["addr"]
    elif c == "hostile-cname-loop":
        bad += "status: SERVFAIL" not in dig("TXT", o["dns"]["sts"]["qname"])
    else:  # truncated over UDP, complete over TCP
        q = o["dns"]["sts"]["qname"]
        bad += " tc" not in dig("+ignore", "+bufsize=1232", "TXT", q).split("flags:")[1][:20]
        bad += dig("+tcp", "+short", "TXT", q).count("\n") != 4
    print(c, "bad so far", bad)
sys.exit(1 if bad or len(seen) != 3 else 0)
EOF
rc=0
world_stop || rc=$?
expect "hostile: SIGTERM, exit status 0" [ "$rc" -eq 0 ]

# Memory does not depend on N: serve 1M and 10M worlds, answer a query for the last domain.
rss() {
    local n=$1
    world_start "$tmp" --generate "$n" --seed 1 --latency 0 --jitter 0 --ca-dir "$tmp/ca"
    local last
    last=$(printf 'd%07d.example' $((n - 1)))
    dig @127.0.0.1 -p "$DNS_PORT" +short MX "$last" >/dev/null
    local kb
    kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$WORLD_PID/status")
    world_stop || true
    echo "$kb"
}
m1=$(rss 1000000)
m10=$(rss 10000000)
echo "peak RSS: 1M domains ${m1} KB, 10M domains ${m10} KB"
expect "memory independent of N (${m1} KB vs ${m10} KB)" [ "$m10" -le $((m1 * 11 / 10 + 256)) ]
# and streaming the list (or the truth) holds no per-domain state: 100k vs 1M domains
peak() {
    /usr/bin/time -v "$WORLD" --generate "$1" --seed 1 --list /dev/null --no-serve 2>"$tmp/time.txt"
    sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/time.txt"
}
l1=$(peak 100000)
l10=$(peak 1000000)
expect "listing 1M domains takes the memory of 100k (${l1} KB vs ${l10} KB)" \
    [ "$l10" -le $((l1 * 11 / 10 + 256)) ]

finish
