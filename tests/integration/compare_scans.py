#!/usr/bin/python3
"""Compares two scans of the same world (raw_export JSON Lines): the same domains, each
exactly once, with equal observations. Fields that describe the run rather than the world
are left out: times, durations, tries, the resolver, whether a cache answered, the scan
id.

  compare_scans.py A.jsonl B.jsonl
"""
import json
import sys

RUN_FIELDS = {"t_start", "t_end", "ms", "tries", "resolver", "cached", "scan"}


def strip(v):
    if isinstance(v, dict):
        return {k: strip(x) for k, x in v.items() if k not in RUN_FIELDS}
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
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    a, b = load(sys.argv[1]), load(sys.argv[2])
    diffs = [f"{d}: only in {sys.argv[1]}" for d in sorted(set(a) - set(b))]
    diffs += [f"{d}: only in {sys.argv[2]}" for d in sorted(set(b) - set(a))]
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
