#!/usr/bin/python3
"""Compares two scans of the same world (raw_export JSON Lines): the same domains, each
exactly once, with equal observations. Fields that describe the run rather than the world
are left out: times, durations, tries, the resolver, whether a cache answered, the scan
id.

  compare_scans.py A.jsonl B.jsonl [--minted-certificates] [--timing-details]

--minted-certificates: the servers' certificates were minted on demand (mtasts-world mints
a leaf when a name is first asked for, and again after its bounded cache evicted it), so
two scans of one world may see different leaves for the same name: the chain's bytes and
the leaf's validity dates are left out. Everything else of the handshake (version, cipher,
SNI, verification result, subject, issuer, names) is still compared.

--timing-details: hostile servers make some details depend on timing, not on the world:
libcurl's error text (it carries the elapsed milliseconds) and code (a refusal the world
plays as an immediate reset is code 7 or 35, whichever the client notices first; the
`result` is compared), and the last lines of an SMTP transcript (`quit`: where an endless
banner was cut) are left out.
"""
import json
import sys

RUN_FIELDS = {"t_start", "t_end", "ms", "tries", "resolver", "cached", "scan"}
MINTED_FIELDS = {"chain", "not_before", "not_after"}
TIMING_FIELDS = {"curl_error", "curl_code", "quit"}
LEFT_OUT = set(RUN_FIELDS)


def strip(v):
    if isinstance(v, dict):
        return {k: strip(x) for k, x in v.items() if k not in LEFT_OUT}
    if isinstance(v, list):
        return [strip(x) for x in v]
    return v


def load(path):
    recs = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if r["domain"] in recs:
                sys.exit(f"{path}: {r['domain']} recorded twice")
            recs[r["domain"]] = strip(r)
    return recs


def main():
    args = [a for a in sys.argv[1:] if a not in ("--minted-certificates", "--timing-details")]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    if "--minted-certificates" in sys.argv:
        LEFT_OUT.update(MINTED_FIELDS)
    if "--timing-details" in sys.argv:
        LEFT_OUT.update(TIMING_FIELDS)
    a, b = load(args[0]), load(args[1])
    diffs = [f"{d}: only in {args[0]}" for d in sorted(set(a) - set(b))]
    diffs += [f"{d}: only in {args[1]}" for d in sorted(set(b) - set(a))]
    for d in sorted(set(a) & set(b)):
        if a[d] != b[d]:
            diffs.append(f"{d}: {json.dumps(a[d], sort_keys=True)[:400]} != "
                         f"{json.dumps(b[d], sort_keys=True)[:400]}")
    for line in diffs[:50]:
        print(line)
    print(f"{len(a)} and {len(b)} domains, {len(diffs)} differences")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
