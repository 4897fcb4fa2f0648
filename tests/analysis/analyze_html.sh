#!/bin/sh
# The HTML report in headless Chromium: a screenshot is produced and is not blank, and the
# hostile strings planted in the fixture (policy mx pattern, banner, redirect target, MX
# host) appear only escaped: no <script> or <img> element in the rendered DOM.
# usage: analyze_html.sh MTASTS_ANALYZE ANALYZE_FIXTURE   (exit 77: no chromium)
set -u
A=$1
command -v chromium >/dev/null || exit 77
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$2" "$dir" || exit 1
fails=0
$A report --format html --db "$dir/one" --scan-id s1 --output "$dir/r.html" || exit 1
# the hostile MX host of the fixture reaches the provider table: it must be escaped
grep -q "&lt;script&gt;alert(1)" "$dir/r.html" || { echo "FAIL: escaped hostile host missing"; fails=1; }
if grep -q '<script\|<img\|onerror=[^&]*>' "$dir/r.html"; then echo "FAIL: unescaped markup"; fails=1; fi
if grep -q 'https\?://' "$dir/r.html"; then echo "FAIL: external reference"; fails=1; fi
# the sender profiles: the resolver's row
grep -q '>postfix-mta-sts-resolver</td><td>2</td><td>3</td><td>0</td><td>0</td><td>4</td><td>4</td></tr>' "$dir/r.html" ||
    { echo "FAIL: sender profile row missing"; fails=1; }
# the paper table: 5 of 7 domains with a record
grep -q '<tr><td>with an _mta-sts record</td><td>5</td><td>7</td><td>71.43</td></tr>' "$dir/r.html" ||
    { echo "FAIL: paper table row missing"; fails=1; }
flags="--headless --no-sandbox --disable-gpu --disable-background-networking
 --disable-component-update --disable-sync --no-first-run"
# shellcheck disable=SC2086
timeout 60 chromium $flags --user-data-dir="$dir/u1" --dump-dom "file://$dir/r.html" >"$dir/dom.html" 2>/dev/null
n=$(grep -c '<script\|<img' "$dir/dom.html")
[ "$n" -eq 0 ] || { echo "FAIL: $n injected elements in the DOM"; fails=1; }
grep -q '<svg' "$dir/dom.html" || { echo "FAIL: no SVG in the DOM"; fails=1; }
# shellcheck disable=SC2086
timeout 60 chromium $flags --user-data-dir="$dir/u2" --screenshot="$dir/shot.png" \
    --window-size=1200,2000 "file://$dir/r.html" >/dev/null 2>&1
/usr/bin/python3 - "$dir/shot.png" <<'PY' || fails=1
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, w, h = 8, b"", 0, 0
while pos < len(data):
    n, t = struct.unpack(">I4s", data[pos:pos + 8])
    if t == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", data[pos + 8:pos + 18])
    if t == b"IDAT":
        idat += data[pos + 8:pos + 8 + n]
    pos += 12 + n
raw = zlib.decompress(idat)
distinct = len(set(raw[i:i + 3] for i in range(0, len(raw), 997)))
print("screenshot %dx%d, %d bytes, %d distinct samples" % (w, h, len(data), distinct))
assert w == 1200 and distinct > 8, "blank screenshot"
PY
echo "analyze_html: $fails failures"
[ "$fails" -eq 0 ]
