#!/usr/bin/python3
"""Compares mtasts-analyze's verdicts (export --format jsonl) with the world's ground truth:
for every domain the verdict, the sorted categories and the would-bounce flag must agree.

  compare_verdicts.py TRUTH.jsonl EXPORT.jsonl
"""
import json
import sys


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        truth = {t["domain"]: t for t in map(json.loads, f)}
    diffs, seen = [], set()
    with open(sys.argv[2], encoding="utf-8") as f:
        for r in map(json.loads, f):
            d = r["domain"]
            seen.add(d)
            t = truth.get(d)
            if t is None:
                diffs.append(f"{d}: analysed, not in the world")
                continue
            cats = sorted(c["code"] for c in r.get("categories", []))
            if r.get("verdict") != t["verdict"]:
                diffs.append(f"{d}: verdict want {t['verdict']}, got {r.get('verdict')}")
            if cats != t["categories"]:
                diffs.append(f"{d}: categories missing {sorted(set(t['categories']) - set(cats))}, "
                             f"extra {sorted(set(cats) - set(t['categories']))}")
            if r.get("would_bounce") != t["would_bounce"]:
                diffs.append(f"{d}: would_bounce want {t['would_bounce']}, "
                             f"got {r.get('would_bounce')}")
    diffs += [f"{d}: in the world, not analysed" for d in sorted(set(truth) - seen)]
    for line in diffs[:60]:
        print(line)
    print(f"{len(truth)} domains in the truth, {len(seen)} analysed, {len(diffs)} differences")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
