#!/usr/bin/python3
"""ctest scanner_defaults_docs: the docs state the defaults that `mtasts-scan --help` prints.

--help is built from scanner/mts_defaults.h, so it is the reference. Checked:
  - man/mtasts-scan.1 and the Defaults table of docs/pipeline.md name every option that
    has a numeric default in --help, with the same value, and no option --help lacks;
  - every other mention of an option's default in README.md and docs/*.md, written
    `--opt` (default V), `--opt` (V) or `--opt`, default V, has the same value.
Values may carry a unit (ms, s, min, KiB, MiB) and thousands separators.

usage: defaults_docs.py MTASTS_SCAN SOURCE_DIR
"""
import glob
import os
import re
import subprocess
import sys

UNITS = {"": 1, "ms": 1, "s": 1000, "min": 60000, "KiB": 1024, "MiB": 1 << 20}
VALUE = r"([0-9][0-9,]*)(?: ?(ms|s|min|KiB|MiB)\b)?"


def value(number, unit):
    return int(number.replace(",", "")) * UNITS[unit or ""]


def help_defaults(binary):
    """{option: value} for every option whose --help entry says (default N)."""
    text = subprocess.run([binary, "--help"], capture_output=True, text=True, check=True).stdout
    found, option = {}, None
    for line in text.splitlines():
        start = re.match(r"(?:  -\w, |      )(--[a-z0-9-]+)", line)
        if start:
            option = start.group(1)
        elif not line.startswith(" " * 20):
            option = None  # a heading or prose: no option's text goes on here
        m = re.search(r"\(default " + VALUE + r"\)", line)
        if m and option:
            if option in found:
                sys.exit(f"--help: {option} states two defaults")
            found[option] = value(m.group(1), m.group(2))
    return found


def man_defaults(path):
    """{option: value} from the mdoc page: .It Fl \\-opt ... then (default N) in its text."""
    found, option = {}, None
    for line in open(path, encoding="utf-8"):
        if line.startswith(".It "):
            m = re.search(r"\\-([a-z0-9-]+)", line)
            option = "--" + m.group(1) if m else None
        elif line.startswith((".El", ".Sh", ".Ss")):
            option = None
        m = re.search(r"\(default " + VALUE + r"\)", line)
        if m and option:
            found[option] = value(m.group(1), m.group(2))
    return found


def pipeline_table(path):
    """{option: value} from the rows of the Defaults table of docs/pipeline.md."""
    text = open(path, encoding="utf-8").read()
    section = re.search(r"^## Defaults\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    if not section:
        sys.exit(f"{path}: no '## Defaults' section")
    found = {}
    for m in re.finditer(r"^\| `(--[a-z0-9-]+)` \| " + VALUE + r" \|", section.group(1), re.M):
        found[m.group(1)] = value(m.group(2), m.group(3))
    return found


def prose_mentions(path):
    """[(line number, option, value)] for each default stated beside an option."""
    pattern = re.compile(r"`(--[a-z0-9-]+)`(?: \((?:default:? )?" + VALUE + r"\)|, default " +
                         VALUE + ")")
    out = []
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        if line.startswith("| `--"):
            continue  # a table row: the Defaults table is checked whole
        for m in pattern.finditer(line):
            number, unit = (m.group(2), m.group(3)) if m.group(2) else (m.group(4), m.group(5))
            out.append((n, m.group(1), value(number, unit)))
    return out


def compare_whole(name, stated, reference):
    errors = []
    for option, v in sorted(reference.items()):
        if option not in stated:
            errors.append(f"{name}: {option} has no default (--help: {v})")
        elif stated[option] != v:
            errors.append(f"{name}: {option} default {stated[option]}, --help says {v}")
    for option in sorted(set(stated) - set(reference)):
        errors.append(f"{name}: {option} has a default that --help does not state")
    return errors


def main():
    binary, source = sys.argv[1], sys.argv[2]
    reference = help_defaults(binary)
    if len(reference) < 15:
        sys.exit(f"--help: only {len(reference)} defaults found; the parser is broken")
    errors = compare_whole("man/mtasts-scan.1",
                           man_defaults(os.path.join(source, "man/mtasts-scan.1")), reference)
    pipeline = os.path.join(source, "docs/pipeline.md")
    errors += compare_whole("docs/pipeline.md (Defaults)", pipeline_table(pipeline), reference)
    mentions = 0
    for path in [os.path.join(source, "README.md")] + sorted(
            glob.glob(os.path.join(source, "docs/*.md"))):
        for n, option, v in prose_mentions(path):
            mentions += 1
            name = os.path.relpath(path, source)
            if option not in reference:
                errors.append(f"{name}:{n}: {option} has no default in --help")
            elif reference[option] != v:
                errors.append(f"{name}:{n}: {option} default {v}, --help says {reference[option]}")
    for e in errors:
        print("FAIL:", e)
    if errors:
        return 1
    print(f"defaults: {len(reference)} options, man page and docs/pipeline.md agree; "
          f"{mentions} mentions elsewhere agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
