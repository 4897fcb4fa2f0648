#!/usr/bin/python3
"""Check every field of `mtasts-analyze export --format csv` against the JSON Lines export
of the same scan: the CSV, read with Python's csv module, must hold the same values, with
each text cell that a spreadsheet could run as a formula (starting = + - @ TAB CR)
neutralised by a leading single quote (docs/export-schema.md), and no other cell changed.

usage: csv_check.py EXPORT.csv EXPORT.jsonl
"""
import csv
import json
import sys

COLUMNS = ["domain", "scan", "verdict", "would_bounce", "txt_verdict", "txt_id",
           "fetch_result", "fetch_status", "media_type", "redirect", "cert_verdict",
           "policy_valid", "mode", "max_age", "mx_patterns", "mx_hosts", "mx_not_covered",
           "mx_refused", "tlsrpt_verdict", "categories", "rua_size_limit"]


def joined(items, key=None, fkey=None, fval=None):
    out = []
    for e in items or []:
        v = e.get(key) if key else e
        if isinstance(v, str) and (fkey is None or e.get(fkey) == fval):
            out.append(v)
    return " ".join(out)


def expected_cells(rec):
    txt, f, p, mx = rec.get("txt", {}), rec.get("policy_fetch", {}), rec.get("policy", {}), rec.get("mx", [])
    return [rec.get("domain"), rec.get("scan"), rec.get("verdict"), rec.get("would_bounce"),
            txt.get("verdict"), txt.get("id"), f.get("result"), f.get("status"),
            f.get("media_type"), f.get("redirect"), f.get("cert_verdict"), p.get("valid"),
            p.get("mode"), p.get("max_age"), joined(p.get("mx")), joined(mx, "host"),
            joined(mx, "host", "covered", "no"), joined(mx, "host", "status", "refused"),
            rec.get("tlsrpt", {}).get("verdict"), joined(rec.get("categories"), "code"),
            size_limits(rec.get("tlsrpt", {}).get("rua_size_limit"))]


def size_limits(limits):
    return " ".join("none" if v is None else str(v) for v in limits or [])


def as_csv(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    return "'" + v if v[:1] in ("=", "+", "-", "@", "\t", "\r") else v


def main():
    with open(sys.argv[2], encoding="utf-8") as f:
        want = {}
        for line in f:
            rec = json.loads(line)
            want[rec["domain"]] = [as_csv(v) for v in expected_cells(rec)]
    with open(sys.argv[1], encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    fails = 0
    if rows[0] != COLUMNS:
        print("header:", rows[0])
        fails += 1
    neutralised = 0
    for row in rows[1:]:
        if len(row) != len(COLUMNS) or row[0] not in want:
            print("bad row:", row)
            fails += 1
            continue
        for col, got, exp in zip(COLUMNS, row, want.pop(row[0])):
            if got != exp:
                print(f"{row[0]} {col}: got {got!r} want {exp!r}")
                fails += 1
            if got[:1] in ("=", "+", "-", "@", "\t", "\r"):
                print(f"{row[0]} {col}: a formula reaches the spreadsheet: {got!r}")
                fails += 1
            neutralised += got.startswith("'")
    if want:
        print("rows missing from the CSV:", sorted(want))
        fails += 1
    print(f"csv_check: {len(rows) - 1} rows, {neutralised} cells neutralised, {fails} failures")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
