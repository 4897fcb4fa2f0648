#!/usr/bin/env bash
# A scan killed with SIGKILL at a random moment and then resumed holds every domain exactly
# once and equals an uninterrupted scan of the same world (DNS stages, 100,000 domains).
. "$(dirname "$0")/lib.sh"
N=${RESUME_DOMAINS:-100000}

world_start "$WORK" --generate "$N" --seed 7 --latency 0 --jitter 0 \
    --ca-dir "$WORK/ca" --list "$WORK/list.txt"
world_ports

"$MTS_SCAN" --input "$WORK/list.txt" --db "$WORK/db" --scan-id resumed "${SCAN_ARGS[@]}" \
    --no-https --no-smtp --concurrency 500 &
pid=$!
delay_ms=$((1500 + RANDOM % 2500))
echo "killing the scanner after ${delay_ms} ms"
sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
kill -KILL "$pid"
wait "$pid" || true

"$MTS_RAW_EXPORT" "$WORK/db" resumed >"$WORK/partial.jsonl"
done_before=$(wc -l <"$WORK/partial.jsonl")
echo "$done_before domains committed before the kill"
expect "the kill came mid-scan" test "$done_before" -gt 0 -a "$done_before" -lt "$N"

expect "resume exits 0" scan "$WORK/db" resumed "$WORK/list.txt" --no-https --no-smtp \
    --concurrency 500 --resume --progress 2>"$WORK/resume.err"
last=$(tr '\r' '\n' <"$WORK/resume.err" | grep -v '^$' | tail -1)
echo "resume said: $last"
expect "the resume's last line counts resumed and new domains" /usr/bin/python3 -c '
import re, sys
m = re.fullmatch(r"scan complete: (\d+) domains in [0-9.]+ s \((\d+) resumed, (\d+) new\)", sys.argv[1])
sys.exit(0 if m and [int(g) for g in m.groups()] == [int(sys.argv[2]), int(sys.argv[3]),
                                                     int(sys.argv[2]) - int(sys.argv[3])] else 1)
' "$last" "$N" "$done_before"
expect "resume refuses another shard" not scan "$WORK/db" resumed "$WORK/list.txt" --no-https \
    --no-smtp --resume --shard 1/2
expect "uninterrupted scan exits 0" scan "$WORK/db" full "$WORK/list.txt" --no-https --no-smtp \
    --concurrency 500
"$MTS_RAW_EXPORT" "$WORK/db" resumed >"$WORK/resumed.jsonl"
"$MTS_RAW_EXPORT" "$WORK/db" full >"$WORK/full.jsonl"
expect "every input name recorded" test "$(wc -l <"$WORK/resumed.jsonl")" -eq "$N"
expect "resumed scan equals the uninterrupted one" /usr/bin/python3 \
    "$MTS_SOURCE/tests/integration/compare_scans.py" "$WORK/resumed.jsonl" "$WORK/full.jsonl"
"$MTS_RAW_EXPORT" "$WORK/db" resumed --meta >"$WORK/meta.json"
expect "the resumed scan is complete and skipped what was committed" /usr/bin/python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
sys.exit(0 if m["state"] == "complete" and m["counts"]["resumed"] == int(sys.argv[2]) else 1)
' "$WORK/meta.json" "$done_before"
expect "world stops cleanly" world_stop
finish
