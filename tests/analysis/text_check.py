#!/usr/bin/python3
"""Fail when a text output of mtasts-analyze holds a byte a terminal would act on: a C0
control other than LF, DEL, a C1 control (U+0080-U+009F), invalid UTF-8, or an invisible
character that reorders text (bidirectional overrides and isolates, separators).

usage: text_check.py FILE...
"""
import sys

INVISIBLE = set(range(0x200B, 0x2010)) | set(range(0x2028, 0x202F)) | set(range(0x2060, 0x2070)) | {0x61C, 0xFEFF}


def bad_chars(data):
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        return [f"invalid UTF-8 at byte {e.start}"]
    return [f"U+{ord(c):04X} at {i}" for i, c in enumerate(text)
            if (ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) <= 0x9F or ord(c) in INVISIBLE]


def main():
    fails = 0
    for path in sys.argv[1:]:
        with open(path, "rb") as f:
            bad = bad_chars(f.read())
        if bad:
            print(f"{path}: {len(bad)} raw control characters, first {bad[:3]}")
            fails += 1
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
