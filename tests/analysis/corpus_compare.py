"""Compare this project's policy parser with postfix-mta-sts-resolver's on a corpus.

Usage: /usr/bin/python3 corpus_compare.py POLICY_CHECK CORPUS_DIR [SCENARIO_DIR]

For every CORPUS_DIR/*.txt, the verdict (valid or not) and, when both say valid, the mode,
max_age and mx list must agree, unless the file is in EXPECTED with the RFC clause that
decides the disagreement. Exits 1 on any unexplained disagreement, and also when an
EXPECTED entry no longer disagrees (the table must stay true). With SCENARIO_DIR, every
policy.body of the simulated world's scenarios is compared the same way (WORLD_EXPECTED)
and with the profile below.

Then the postfix-mta-sts-resolver sender profile (analysis/profiles.c) is compared with the
tool itself: for every file, decoded as the resolver does without a charset (ASCII) and
with charset=utf-8, the profile's reading (valid, and mode, max_age and mx when valid) must
equal what parse_mta_sts_policy and the checks of resolver.py accept. No disagreement is
expected: the profile models the tool, including where the tool differs from RFC 8461.
The same comparison then runs on RANDOM_BODIES bodies generated from a fixed seed out of
the pieces that decide the tool's reading (keys, separators, Python line breaks and white
space, int() forms, NUL, invalid UTF-8). Non-ASCII decimal digits, which int() accepts and
the profile does not, are left out (docs/validation.md, section 6).
"""
import glob
import json
import os
import random
import subprocess
import sys
import tempfile

from postfix_mta_sts_resolver.constants import HARD_RESP_LIMIT
from postfix_mta_sts_resolver.utils import parse_mta_sts_policy

MAX_AGE_LIMIT = 31557600

TRAILING = ("RFC 8461 §3.2 sts-policy-record",
            "more than one line break at the end: the grammar ends in one optional "
            "sts-policy-term; the lenient parser drops empty lines")
TRAILING_DOT = ("RFC 8461 §3.2 sts-policy-mx-value, RFC 5321 §4.1.2 Domain",
                "mx ends in a dot: Domain has no trailing dot; the lenient parser keeps the "
                "pattern as written")
JEKYLL = ("RFC 8461 §3.2 sts-policy-record",
          "Jekyll front matter (---, layout:, permalink:) before the policy: every line must "
          "be a field; the lenient parser skips lines without \":\" and blank lines (Jekyll "
          "strips the front matter when serving; the file as committed is judged)")

# file -> (RFC clause, why this project's strict verdict differs from the lenient parser)
EXPECTED = {
    "0023.txt": TRAILING_DOT,
    "0060.txt": TRAILING,
    "0080.txt": TRAILING,
    "0087.txt": TRAILING,
    "0101.txt": TRAILING_DOT,
    "0106.txt": ("RFC 8461 §3.2 sts-policy-record",
                 "the body starts with an empty line: the first line must be a field"),
    "0146.txt": JEKYLL,
    "0151.txt": JEKYLL,
    "0157.txt": TRAILING,
    "0158.txt": JEKYLL,
    "0162.txt": JEKYLL,
    "0166.txt": TRAILING,
    "0168.txt": ("RFC 8461 §3.2 sts-policy-max-age-value",
                 "two policies run together (\"max_age: 86400version: STSv1\"): the first max_age "
                 "is used and is not 1*10DIGIT; the lenient parser lets the second max_age "
                 "overwrite it"),
    "0169.txt": ("RFC 8461 §3.2 sts-policy-mx-value, RFC 5321 §4.1.2 Domain",
                 "mx label starts with \"_\": not a Let-dig; the lenient parser keeps it"),
    "0176.txt": ("RFC 8461 §3.2 sts-policy-mx-value",
                 "mx \"://google.com\" is not [\"*.\"] Domain; the lenient parser keeps it"),
    "0189.txt": JEKYLL,
    "0220.txt": ("RFC 8461 §3.2 sts-policy-mx-value, sts-policy-record",
                 "a YAML list under \"mx:\": an empty mx value and indented lines without "
                 "\":\"; the lenient parser accepts the empty pattern and skips the list"),
    "0225.txt": TRAILING_DOT,
    "0246.txt": TRAILING,
    "0251.txt": JEKYLL,
    "0269.txt": ("RFC 8461 §3.2 sts-policy-ext-value, sts-policy-record",
                 "YAML-style fingerprint lists: empty extension values and indented lines "
                 "without \":\"; the lenient parser ignores both"),
    "0270.txt": TRAILING,
}

# The world's scenario bodies (tests/world/scenarios, "<file>-<block>.txt"): every
# disagreement between this project's verdict and the tool's, with the clause that decides.
WORLD_EXPECTED = {
    "taxonomy-policy-bad-line.example.txt": (
        "RFC 8461 §3.2 sts-policy-field", "\"mx *.bigmail.test\" has no \":\"; the lenient "
        "parser skips the line"),
    "taxonomy-policy-bad-mx-legacy-dot.example.txt": (
        "RFC 8461 §3.2 sts-policy-mx-value", "\".bigmail.test\" (the draft's wildcard) is not "
        "[\"*.\"] Domain; the lenient parser keeps it"),
    "taxonomy-policy-control-char.example.txt": (
        "RFC 8461 §3.2 sts-policy-term", "a vertical tab in \"mode: enforce\\vb\": not VCHAR or "
        "WSP; Python's splitlines() breaks the line there"),
    "taxonomy-policy-empty-line.example.txt": (
        "RFC 8461 §3.2 sts-policy-record", "an empty line between fields; the lenient parser "
        "skips it"),
    "taxonomy-policy-lone-cr.example.txt": (
        "RFC 8461 §3.2 sts-policy-term", "lines end in a lone CR, not LF or CRLF; Python's "
        "splitlines() accepts CR"),
    "taxonomy-policy-mx-ip-address.example.txt": (
        "RFC 8461 §3.2 sts-policy-mx-value, RFC 5321 §4.1.2 Domain", "\"[127.1.1.1]\" is an "
        "address literal, not a Domain; the lenient parser keeps it"),
    "taxonomy-policy-mx-trailing-dot.example.txt": TRAILING_DOT,
    "taxonomy-policy-trailing-empty-lines.example.txt": TRAILING,
    "taxonomy-valid-extensions.example.txt": (
        "RFC 8461 §3.2 is silent; first-wins as for the TXT record (§3.1)", "\"mode\" given "
        "twice: this project uses the first (enforce, with a warning), the tool the last (none)"),
}


def theirs(body, charset="utf-8"):
    """postfix-mta-sts-resolver: its parser plus the checks resolver.py applies after it.
    The body is decoded as UTF-8 by default (the corpus files are UTF-8; the resolver decodes
    with the response's charset, ASCII when none is given)."""
    if len(body) > HARD_RESP_LIMIT:
        return {"valid": False}
    try:
        text = body.decode(charset)
    except UnicodeDecodeError:
        return {"valid": False}
    pol = parse_mta_sts_policy(text)
    if pol.get("version", None) != "STSv1":
        return {"valid": False}
    try:
        max_age = int(pol.get("max_age", "-1"))
    except ValueError:
        return {"valid": False}
    if not 0 <= max_age <= MAX_AGE_LIMIT:
        return {"valid": False}
    if "mode" not in pol:
        return {"valid": False}
    if pol["mode"] != "none":
        if pol["mode"] not in ("none", "testing", "enforce"):
            return {"valid": False}
        if not pol["mx"]:
            return {"valid": False}
    return {"valid": True, "mode": pol["mode"], "max_age": max_age, "mx": pol["mx"]}


RANDOM_BODIES = 3000
PIECES = [b"version", b"mode", b"mx", b"max_age", b":", b": ", b"STSv1", b"enforce",
          b"testing", b"none", b"86400", b"+5", b"-0", b"1_0", b"_1", b"1__0", b"31557600",
          b"31557601", b"\n", b"\r\n", b"\r", b"\x0b", b"\x0c", b"\x1c", b"\x1f", b" ", b"\t",
          b"\xc2\x85", b"\xe2\x80\xa8", b"\xc2\xa0", b"\xe3\x80\x80", b"\xff", b"\x00",
          b"*.example.com", b"x", b""]
VALID_START = b"version: STSv1\nmode: %s\nmx: a.example\nmax_age: 5\n"


def random_bodies(directory):
    rng = random.Random(8461)
    for i in range(RANDOM_BODIES):
        body = b"".join(rng.choice(PIECES) for _ in range(rng.randint(1, 40)))
        if rng.random() < 0.5:
            body = VALID_START % rng.choice([b"enforce", b"testing", b"none"]) + body
        with open(os.path.join(directory, "r%04d.txt" % i), "wb") as fh:
            fh.write(body)


def compare_profile(checker, files, problems):
    """The profile's readings (ASCII and UTF-8) against the tool's; returns how many agree."""
    ours = check_all(checker, files)
    agree = 0
    for path in files:
        name = os.path.basename(path)
        with open(path, "rb") as fh:
            body = fh.read()
        for key, charset in (("resolver", "ascii"), ("resolver_utf8", "utf-8")):
            want, got = theirs(body, charset), ours[name][key]
            if want == got:
                agree += 1
            else:
                problems.append("%s (%s): profile %r, tool %r" % (name, charset, got, want))
    return agree


ESCAPES = {"n": b"\n", "r": b"\r", "t": b"\t", "\\": b"\\", '"': b'"'}


def unescape(text):
    """The world's string escapes (tests/world/scenario.c): \\n \\r \\t \\\\ \\" \\xHH."""
    out, i = b"", 0
    while i < len(text):
        c = text[i]
        if c != "\\":
            out += c.encode("latin-1")
        elif text[i + 1] == "x":
            out += bytes([int(text[i + 2:i + 4], 16)])
            i += 2
        else:
            out += ESCAPES[text[i + 1]]
            i += 1
        i += 1
    return out


def world_tokens(rest):
    """A scenario line's value: quoted strings unescaped, bare words verbatim, concatenated."""
    out, i = b"", 0
    while i < len(rest):
        if rest[i] in " \t":
            i += 1
        elif rest[i] == '"':
            j = i + 1
            while rest[j] != '"':
                j += 2 if rest[j] == "\\" else 1
            out += unescape(rest[i + 1:j])
            i = j + 1
        else:
            j = i
            while j < len(rest) and rest[j] not in " \t":
                j += 1
            out += rest[i:j].encode("latin-1")
            i = j
    return out


def world_bodies(scenario_dir, directory):
    """Every policy.body / policy.body-crlf of the world's scenarios into directory, one file
    each, named after the scenario file and the block (domain or preset) that serves it;
    "{self}" becomes the block's name."""
    for scn in sorted(glob.glob(os.path.join(scenario_dir, "*.scn"))):
        stem = os.path.basename(scn)[:-4]
        with open(scn, encoding="latin-1") as fh:
            lines = fh.read().split("\n")
        block, i = "", 0
        while i < len(lines):
            words = lines[i].split()
            i += 1
            if words and words[0] in ("domain", "preset", "host") and not lines[i - 1][0].isspace():
                block = words[1]
            if not words or words[0] not in ("policy.body", "policy.body-crlf"):
                continue
            eol = b"\n" if words[0] == "policy.body" else b"\r\n"
            rest = lines[i - 1].split(None, 1)[1]
            if rest.startswith("<<"):
                body = b""
                while lines[i] != rest[2:]:
                    body += unescape(lines[i]) + eol
                    i += 1
                i += 1
            else:
                body = world_tokens(rest)
            body = body.replace(b"{self}", block.encode())
            path = os.path.join(directory, "%s-%s.txt" % (stem, block))
            if os.path.exists(path):
                raise ValueError("%s: two bodies in block %s" % (scn, block))
            with open(path, "wb") as fh:
                fh.write(body)


def compare_strict(files, ours, expected, problems):
    """This project's verdict against the tool's; returns (agreeing, explained) counts."""
    agree, explained = 0, 0
    for path in files:
        name = os.path.basename(path)
        with open(path, "rb") as fh:
            t = theirs(fh.read())
        o = ours[name]
        diff = []
        if o["valid"] != t["valid"]:
            diff.append("valid: ours %s, theirs %s" % (o["valid"], t["valid"]))
        elif o["valid"]:
            for key in ("mode", "max_age", "mx"):
                if o.get(key) != t.get(key):
                    diff.append("%s: ours %r, theirs %r" % (key, o.get(key), t.get(key)))
        if not diff:
            if name in expected:
                problems.append("%s: listed as a disagreement but the parsers agree" % name)
            else:
                agree += 1
            continue
        if name in expected:
            explained += 1
            print("  explained %s (%s): %s" % (name, expected[name][0], expected[name][1]))
            continue
        problems.append("%s: %s; our findings: %s" % (name, "; ".join(diff), ", ".join(o["codes"])))
    return agree, explained


def check_all(checker, files):
    """policy_check's JSON line per file, by file name."""
    out = subprocess.run([checker] + files, check=True, capture_output=True, text=True).stdout
    return {json.loads(line)["file"]: json.loads(line) for line in out.split("\n") if line}


def main():
    checker, corpus = sys.argv[1], sys.argv[2]
    files = sorted(glob.glob(os.path.join(corpus, "*.txt")))
    if not files:
        print("no corpus files in", corpus)
        return 1
    ours = check_all(checker, files)
    problems = []
    agree, explained = compare_strict(files, ours, EXPECTED, problems)
    print("%d files: %d agree, %d explained disagreements, %d unexplained"
          % (len(files), agree, explained, len(problems)))
    print("maddy profile reads %d of %d corpus files"
          % (sum(ours[os.path.basename(f)]["maddy"] != "absent" for f in files), len(files)))
    profile_agree = compare_profile(checker, files, problems)
    print("postfix-mta-sts-resolver profile: %d of %d corpus readings equal the tool's"
          % (profile_agree, 2 * len(files)))
    with tempfile.TemporaryDirectory() as tmp:
        random_bodies(tmp)
        generated = sorted(glob.glob(os.path.join(tmp, "*.txt")))
        random_agree = compare_profile(checker, generated, problems)
    print("postfix-mta-sts-resolver profile: %d of %d generated readings equal the tool's"
          % (random_agree, 2 * len(generated)))
    if len(sys.argv) > 3:
        with tempfile.TemporaryDirectory() as tmp:
            world_bodies(sys.argv[3], tmp)
            bodies = sorted(glob.glob(os.path.join(tmp, "*.txt")))
            w_agree, w_explained = compare_strict(bodies, check_all(checker, bodies),
                                                  WORLD_EXPECTED, problems)
            world_agree = compare_profile(checker, bodies, problems)
        print("%d world scenario bodies: %d agree, %d explained disagreements"
              % (len(bodies), w_agree, w_explained))
        print("postfix-mta-sts-resolver profile: %d of %d world scenario readings equal the "
              "tool's" % (world_agree, 2 * len(bodies)))
    for p in problems:
        print("  " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
