#!/usr/bin/env bash
# End-to-end test of mts_input_dry_run (what `mtasts-scan --dry-run` prints) through the
# inputs_dry_run driver: several files, gzip, stdin, shards, the opt-out list, strict mode.
# Usage: test_dry_run.sh DRIVER DATA_DIR
set -euo pipefail
drv=$(realpath "$1")
data=$(realpath "$2")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
cp "$data"/*.txt "$data"/*.csv .
fail=0

# same NAME EXPECTED ACTUAL: compares two texts, prints a diff on mismatch.
same() {
  if [ "$2" != "$3" ]; then
    echo "FAIL: $1"
    diff <(printf '%s\n' "$2") <(printf '%s\n' "$3") || true
    fail=1
  fi
}

mixed_names='example.com
www.example.org
xn--bcher-kva.example
xn--fa-hia.de
good.example
last.example'

# Several files, duplicates across them.
out=$("$drv" mixed.txt second.txt 2>err.txt)
same "several files: names" "$mixed_names
new.example" "$out"
same "several files: summary" 'inputs: 29 lines, 7 accepted, 5 duplicates, 0 excluded, 0 out-of-shard, 17 rejected
inputs: rejected empty-label 1
inputs: rejected ip-address 4
inputs: rejected idn-invalid 1
inputs: rejected invalid-char 3
inputs: rejected underscore 2
inputs: rejected label-too-long 1
inputs: rejected label-hyphen 2
inputs: rejected name-too-long 1
inputs: rejected single-label 1
inputs: rejected numeric-tld 1
inputs: sha256 '"$(printf '%s\nnew.example\n' "$mixed_names" | sha256sum | cut -d' ' -f1)" \
  "$(grep '^inputs: ' err.txt)"
same "several files: first rejection" 'mixed.txt:8: ip-address: "192.0.2.1"' "$(head -n 1 err.txt)"
same "several files: rejection lines" 17 "$(grep -c '^mixed.txt:' err.txt)"

# gzip, by name and on stdin; a plain file on stdin.
gzip -k mixed.txt
same "gzip file" "$mixed_names" "$("$drv" mixed.txt.gz 2>/dev/null)"
out=$(gzip -c tranco.csv | "$drv" - 2>err.txt)
same "gzip on stdin" 'google.com
facebook.com
xn--bcher-kva.example
quoted.example
spaced.example' "$out"
same "stdin messages" '<stdin>:5: csv-format: "5,"' "$(head -n 1 err.txt)"
same "plain on stdin" 'api.example.net
www.example.net' "$("$drv" - <umbrella.csv 2>/dev/null)"

# Shards 0..3 of 4 partition the input; their summaries add up.
all=$("$drv" mixed.txt tranco.csv 2>/dev/null | sort)
union=$(for k in 0 1 2 3; do "$drv" --shard "$k/4" mixed.txt tranco.csv 2>/dev/null; done | sort)
same "shard union" "$all" "$union"
same "shards disjoint" "" "$(printf '%s\n' "$union" | uniq -d)"
"$drv" --shard 4/4 mixed.txt >/dev/null 2>&1 && { echo "FAIL: shard 4/4 accepted"; fail=1; }

# The opt-out list.
out=$("$drv" --exclude exclude.txt mixed.txt tranco.csv 2>err.txt)
same "exclude: names" 'example.com
xn--bcher-kva.example
xn--fa-hia.de
good.example
last.example
google.com
quoted.example
spaced.example' "$out"
same "exclude: summary" \
  'inputs: 35 lines, 8 accepted, 5 duplicates, 2 excluded, 0 out-of-shard, 20 rejected' \
  "$(grep '^inputs: [0-9]' err.txt)"

# Strict mode: the first rejection stops the run with its file:line.
if out=$("$drv" --strict second.txt mixed.txt 2>err.txt); then
  echo "FAIL: strict run succeeded"
  fail=1
fi
same "strict: names before the error" 'example.com
new.example
www.example.org
xn--bcher-kva.example
xn--fa-hia.de' "$out"
same "strict: error" 'inputs: error: mixed.txt:8: ip-address: "192.0.2.1"' "$(cat err.txt)"

# A missing file fails before any name is printed.
if out=$("$drv" second.txt nope.txt 2>err.txt); then
  echo "FAIL: missing file accepted"
  fail=1
fi
same "missing file: output" "" "$out"
same "missing file: error" 'inputs: error: nope.txt: No such file or directory' "$(cat err.txt)"

[ $fail -eq 0 ] && echo "dry run: all checks passed"
exit $fail
