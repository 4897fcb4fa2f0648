#!/usr/bin/python3
"""Compares a scan's raw records (raw_export JSON Lines) with the simulated world's ground
truth, domain by domain, and prints every difference. Exit status 1 when any.

  compare_truth.py TRUTH.jsonl SCAN.jsonl [--dns-only] [--via-resolver]

What is compared: for each DNS observation the result, rcode and answer records (name
case-insensitively, type, TTL and the type's data); the MX hosts in order with their
address lookups; for each MX address the probe's result, stage and certificate class (or
its skip reason); the policy fetch's result, status, media type, Location, address,
certificate class and body digest. Timings, tries and the resolver are not compared: they
describe the run, not the world. With --dns-only, MX probes and the policy fetch are not
expected (a scan with --no-https --no-smtp).

With --via-resolver the scan asked a recursive resolver (unbound) that forwards to the
world's DNS server, not the world itself, and three things a resolver legitimately changes
are not held against it:
- TTLs are not compared (the resolver's cache counts them down, and may cap them);
- the failures a resolver rewrites are one class: where the truth says `servfail`,
  `refused` or `timeout` (what the authoritative server does), the scan may record
  `servfail` (rcode SERVFAIL) or `timeout` (no rcode), with no answer records;
- truncation is invisible behind the resolver (the resolver retries over TCP itself), so
  the scan's `tcp` flag is not compared (it is not compared in any mode).
The order of records inside one RRset (same owner and type) is not compared either: a
resolver may rotate it (unbound's rrset-roundrobin), and it carries no meaning in DNS.
Everything else (result, rcode, CNAMEs, records and their data) must match exactly.
"""
import json
import sys

ANSWER_FIELDS = ("type", "ttl", "txt", "pref", "host", "addr", "target", "rdata")
# What a recursive resolver may turn an authoritative failure into (--via-resolver).
RESOLVER_FAILURES = ("servfail", "refused", "timeout")
RESOLVER_FAILURES_SEEN = {"servfail": "SERVFAIL", "timeout": None}
VIA_RESOLVER = False


def norm_answer(rr):
    out = {k: rr[k] for k in ANSWER_FIELDS if k in rr}
    if VIA_RESOLVER:
        out.pop("ttl", None)
    out["name"] = rr.get("name", "").lower()
    for k in ("host", "target"):
        if isinstance(out.get(k), str):
            out[k] = out[k].lower()
    return out


def rrset_sorted(answer):
    """The answer with each RRset's records (consecutive, same owner and type) sorted."""
    out, run = [], []
    for rr in answer + [None]:
        if run and (rr is None or (rr["name"], rr["type"]) != (run[0]["name"], run[0]["type"])):
            out += sorted(run, key=lambda r: json.dumps(r, sort_keys=True))
            run = []
        if rr is not None:
            run.append(rr)
    return out


def cmp_dns_failure(where, want, got, diffs):
    """--via-resolver: an authoritative servfail/refused/timeout seen through a resolver."""
    res = got.get("result")
    if res not in RESOLVER_FAILURES_SEEN:
        diffs.append(f"{where}.result: want one of {sorted(RESOLVER_FAILURES_SEEN)} "
                     f"(the world: {want['result']!r}), got {res!r}")
        return
    if got.get("rcode") != RESOLVER_FAILURES_SEEN[res]:
        diffs.append(f"{where}.rcode: want {RESOLVER_FAILURES_SEEN[res]!r} for {res!r}, "
                     f"got {got.get('rcode')!r}")
    for k in ("qname", "qtype"):
        if k in want and want[k] != got.get(k):
            diffs.append(f"{where}.{k}: want {want[k]!r}, got {got.get(k)!r}")
    if got.get("answer"):
        diffs.append(f"{where}.answer: want none, got {got['answer']}")


def cmp_dns(where, want, got, diffs):
    if got is None:
        diffs.append(f"{where}: not observed")
        return
    if VIA_RESOLVER and want.get("result") in RESOLVER_FAILURES:
        cmp_dns_failure(where, want, got, diffs)
        return
    for k in ("qname", "qtype", "result", "rcode"):
        if k in want and want[k] != got.get(k):
            diffs.append(f"{where}.{k}: want {want[k]!r}, got {got.get(k)!r}")
    if "answer" in want:
        w = [norm_answer(r) for r in want["answer"]]
        g = [norm_answer(r) for r in got.get("answer", [])]
        if VIA_RESOLVER:
            w, g = rrset_sorted(w), rrset_sorted(g)
        if w != g:
            diffs.append(f"{where}.answer: want {w}, got {g}")


def cmp_probe(where, want, got, dns_only, diffs):
    if "skip" in want or dns_only:
        exp = want.get("skip", "out-of-scope" if dns_only else None)
        if dns_only and got.get("skip") in ("smtp-disabled", "out-of-scope"):
            return
        if got.get("skip") != exp:
            diffs.append(f"{where}.skip: want {exp!r}, got {got.get('skip')!r}")
        return
    rec = got.get("probe")
    if rec is None:
        diffs.append(f"{where}: no probe record (skip={got.get('skip')!r})")
        return
    for k in ("result", "stage"):
        if k in want and want[k] != rec.get(k):
            diffs.append(f"{where}.{k}: want {want[k]!r}, got {rec.get(k)!r}")
    if "verify" in want:
        v = (rec.get("tls") or {}).get("verify")
        if want["verify"] != v:
            diffs.append(f"{where}.verify: want {want['verify']!r}, got {v!r}")


def cmp_policy(where, want, got, diffs):
    if want is None:
        if got is not None:
            diffs.append(f"{where}: not expected, got result {got.get('result')!r}")
        return
    if got is None:
        diffs.append(f"{where}: expected result {want.get('result')!r}, not fetched")
        return
    for k in ("url", "why", "result", "http_status", "content_type", "location", "addr"):
        if k in want and want[k] != got.get(k):
            diffs.append(f"{where}.{k}: want {want[k]!r}, got {got.get(k)!r}")
    if "verify" in want:
        v = (got.get("tls") or {}).get("verify")
        if want["verify"] != v:
            diffs.append(f"{where}.verify: want {want['verify']!r}, got {v!r}")
    if "body" in want:
        gb = got.get("body") or {}
        for k in ("sha256", "len", "truncated"):
            if k in want["body"] and want["body"][k] != gb.get(k):
                diffs.append(f"{where}.body.{k}: want {want['body'][k]!r}, got {gb.get(k)!r}")


def compare(truth, rec, dns_only):
    d = truth["domain"]
    diffs = []
    for key, want in truth.get("dns", {}).items():
        cmp_dns(f"{d}: dns.{key}", want, rec.get("dns", {}).get(key), diffs)
    wmx, gmx = truth.get("mx", []), rec.get("mx", [])
    if [m["host"] for m in wmx] != [m.get("host") for m in gmx]:
        diffs.append(f"{d}: mx hosts: want {[m['host'] for m in wmx]}, "
                     f"got {[m.get('host') for m in gmx]}")
    else:
        for w, g in zip(wmx, gmx):
            where = f"{d}: mx {w['host']}"
            for k in ("pref", "implicit"):
                if k in w and w[k] != g.get(k):
                    diffs.append(f"{where}.{k}: want {w[k]!r}, got {g.get(k)!r}")
            for fam in ("a", "aaaa", "tlsa"):
                if fam in w:
                    cmp_dns(f"{where}.{fam}", w[fam], g.get(fam), diffs)
            wp, gp = w.get("probes", []), g.get("probes", [])
            if [p["addr"] for p in wp] != [p.get("addr") for p in gp]:
                diffs.append(f"{where}.probes: want {[p['addr'] for p in wp]}, "
                             f"got {[p.get('addr') for p in gp]}")
                continue
            for pw, pg in zip(wp, gp):
                cmp_probe(f"{where} {pw['addr']}", pw, pg, dns_only, diffs)
    if dns_only:
        if rec.get("policy") is not None:
            diffs.append(f"{d}: policy fetched in a --no-https scan")
    else:
        cmp_policy(f"{d}: policy", truth.get("policy"), rec.get("policy"), diffs)
    return diffs


def main():
    global VIA_RESOLVER
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    dns_only = "--dns-only" in sys.argv
    VIA_RESOLVER = "--via-resolver" in sys.argv
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    truth = {}
    with open(args[0], encoding="utf-8") as f:
        for line in f:
            t = json.loads(line)
            truth[t["domain"]] = t
    seen = {}
    with open(args[1], encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if r["domain"] in seen:
                print(f"{r['domain']}: recorded twice")
                return 1
            seen[r["domain"]] = r
    diffs = []
    for d in sorted(set(truth) - set(seen)):
        diffs.append(f"{d}: in the world, not in the scan")
    for d in sorted(set(seen) - set(truth)):
        diffs.append(f"{d}: in the scan, not in the world")
    for d in sorted(set(truth) & set(seen)):
        diffs.extend(compare(truth[d], seen[d], dns_only))
    for line in diffs:
        print(line)
    print(f"{len(truth)} domains in the truth, {len(seen)} scanned, {len(diffs)} differences")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
