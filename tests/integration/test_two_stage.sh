#!/usr/bin/env bash
# A two-stage scan in 4 shards (docs/sharding.md): stage 1 by domain (--stage dns), stage 2
# by MX address (--probe-mx-from). Every (MX host, address) that stage 1 lists is probed
# exactly once across the stage-2 stores (and, seen from the world's SMTP servers, in one
# session each), and the analysis over the 8 stores equals that
# of one unsharded scan of the same world. A one-stage sharded scan of the same world is
# run too, for the probe counts: it probes the shared MX addresses once per shard.
. "$(dirname "$0")/lib.sh"
N=${SHARD_DOMAINS:-3000}
SHARDS=4

world_start "$WORK" --generate "$N" --seed 5 --latency 0 --jitter 0 \
    --ca-dir "$WORK/ca" --list "$WORK/list.txt" --conn-stats "$WORK/conn.json"
world_ports
# More scan options from $SHARD_SCAN_OPTS (e.g. --smtp-all, for the counts in docs/sharding.md).
read -r -a extra <<<"${SHARD_SCAN_OPTS:-}"
OPTS=("${SCAN_ARGS[@]}" --concurrency 75 --dns-inflight 150 ${extra[@]+"${extra[@]}"})

expect "parallel.sh runs both stages of $SHARDS shards and exits 0" \
    bash "$MTS_SOURCE/scripts/shard/parallel.sh" "$SHARDS" "$WORK/list.txt" "$WORK/two" \
    --scan-id two "${OPTS[@]}" >"$WORK/analyze-cmd.txt"
for log in "$WORK"/two/*.log; do
    [ -s "$log" ] && sed "s|^|$(basename "$log"): |" "$log" >&2
done
dbs=()
for ((k = 0; k < SHARDS; k++)); do
    dbs+=(--db "$WORK/two/shard-$k")
done
probe_dbs=()
for ((k = 0; k < SHARDS; k++)); do
    probe_dbs+=(--db "$WORK/two/probes-$k")
done
expect "parallel.sh prints the analysis command over both stages' stores" \
    grep -q -- "summary --scan-id two ${dbs[*]} ${probe_dbs[*]}\$" "$WORK/analyze-cmd.txt"

# (a) Stage 1 probes nothing and lists the pairs to probe; stage 2 probes each once.
for ((k = 0; k < SHARDS; k++)); do
    "$MTS_RAW_EXPORT" "$WORK/two/shard-$k" two --meta >"$WORK/meta-$k.json"
    # shellcheck disable=SC2016 # $s is jq's variable
    expect "stage-1 shard $k: metadata says stage dns, shard $k/$SHARDS, complete" \
        jq -e --arg s "$k/$SHARDS" '.stage == "dns" and .shard == $s and .state == "complete"' \
        "$WORK/meta-$k.json" >/dev/null
    "$MTS_RAW_EXPORT" "$WORK/two/shard-$k" two --probes >"$WORK/stage1-probes-$k.txt"
    expect "stage-1 shard $k holds no probe record" test ! -s "$WORK/stage1-probes-$k.txt"
    "$MTS_RAW_EXPORT" "$WORK/two/shard-$k" two |
        jq -r '.mx[] | .host as $h | (.probes // [])[] | select(.skip == null) | "\($h)\t\(.addr)"' \
            >>"$WORK/listed.txt"
    "$MTS_RAW_EXPORT" "$WORK/two/probes-$k" two --meta >"$WORK/pmeta-$k.json"
    # shellcheck disable=SC2016 # $s is jq's variable
    expect "stage-2 shard $k: metadata says stage probes, shard $k/$SHARDS, complete" \
        jq -e --arg s "$k/$SHARDS" '.stage == "probes" and .shard == $s and .state == "complete"' \
        "$WORK/pmeta-$k.json" >/dev/null
    "$MTS_RAW_EXPORT" "$WORK/two/probes-$k" two --probes >"$WORK/probed-$k.txt"
    expect "stage-2 shard $k probed some pairs" test -s "$WORK/probed-$k.txt"
    expect "stage-2 shard $k counts the probes it stored" \
        test "$(jq .counts.probes "$WORK/pmeta-$k.json")" -eq "$(wc -l <"$WORK/probed-$k.txt")"
done
sort "$WORK"/probed-[0-9]*.txt >"$WORK/probed.txt"
sort -u "$WORK/listed.txt" >"$WORK/listed-distinct.txt"
expect "no (MX host, address) is probed twice across the stage-2 stores" \
    test -z "$(uniq -d "$WORK/probed.txt")"
expect "the stage-2 stores probe exactly the pairs stage 1 listed" \
    cmp "$WORK/probed.txt" "$WORK/listed-distinct.txt"
expect "the domains share MX addresses (the test means something)" \
    test "$(wc -l <"$WORK/listed.txt")" -gt "$(wc -l <"$WORK/listed-distinct.txt")"

# Seen from the servers (the world's SMTP session counts, written on SIGUSR1): stage 1
# opened no session, stage 2 one per (MX host, address) it listed.
kill -USR1 "$WORLD_PID"
for _ in $(seq 1 100); do
    [ -s "$WORK/conn.json" ] && break
    sleep 0.05
done
expect "the servers saw one SMTP session per listed pair, none more" /usr/bin/python3 -c '
import collections, json, sys
stats = json.load(open(sys.argv[1]))
pairs = [line.rstrip("\n").split("\t") for line in open(sys.argv[2])]
per_addr = collections.Counter(addr for _, addr in pairs)
wrong = [a for a in set(per_addr) | set(stats)
         if per_addr.get(a, 0) != stats.get(a, {}).get("sessions", 0)]
print("sessions != listed pairs at:", wrong[:5], file=sys.stderr) if wrong else None
sys.exit(1 if wrong or not pairs else 0)
' "$WORK/conn.json" "$WORK/listed-distinct.txt"

# (b) The same world: one unsharded scan, and one sharded scan in one stage.
expect "unsharded scan exits 0" scan "$WORK/whole" two "$WORK/list.txt" \
    ${extra[@]+"${extra[@]}"}
expect "one-stage sharded scan exits 0" env MTS_SHARD_STAGES=1 \
    bash "$MTS_SOURCE/scripts/shard/parallel.sh" "$SHARDS" "$WORK/list.txt" "$WORK/one" \
    --scan-id two "${OPTS[@]}" >/dev/null
"$MTS_RAW_EXPORT" "$WORK/whole" two --probes >"$WORK/whole-probes.txt"
for ((k = 0; k < SHARDS; k++)); do
    "$MTS_RAW_EXPORT" "$WORK/one/shard-$k" two --probes
done >"$WORK/one-probes.txt"
echo "probes: unsharded $(wc -l <"$WORK/whole-probes.txt"), $SHARDS shards one-stage" \
    "$(wc -l <"$WORK/one-probes.txt"), two-stage $(wc -l <"$WORK/probed.txt")" >&2
expect "two-stage probes as many pairs as the unsharded scan" \
    cmp -s "$WORK/probed.txt" <(sort "$WORK/whole-probes.txt")
expect "one-stage shards probe shared addresses more than once" \
    test "$(wc -l <"$WORK/one-probes.txt")" -gt "$(wc -l <"$WORK/probed.txt")"

# (c) The analysis over the 8 stores equals the unsharded one.
"$MTS_ANALYZE" report --format json --scan-id two "${dbs[@]}" "${probe_dbs[@]}" \
    >"$WORK/report-two.json"
"$MTS_ANALYZE" report --format json --scan-id two --db "$WORK/whole" >"$WORK/report-whole.json"
expect "report over both stages equals the unsharded report" /usr/bin/python3 -c '
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for r in (a, b):
    r.pop("stores", None)  # how many stores were read
if a != b:
    print("two-stage", json.dumps(a, sort_keys=True)[:2000], file=sys.stderr)
    print("whole    ", json.dumps(b, sort_keys=True)[:2000], file=sys.stderr)
sys.exit(a != b)
' "$WORK/report-two.json" "$WORK/report-whole.json"
"$MTS_ANALYZE" export --format jsonl --scan-id two "${dbs[@]}" "${probe_dbs[@]}" |
    jq -c -S 'del(.scan)' | sort >"$WORK/export-two.jsonl"
"$MTS_ANALYZE" export --format jsonl --scan-id two --db "$WORK/whole" |
    jq -c -S 'del(.scan)' | sort >"$WORK/export-whole.jsonl"
expect "export over both stages has one line per input name" \
    test "$(wc -l <"$WORK/export-two.jsonl")" -eq "$N"
expect "export over both stages, sorted, equals the unsharded export" \
    cmp "$WORK/export-two.jsonl" "$WORK/export-whole.jsonl"

# (d) The analysis refuses a two-stage scan without its probes, or with a probe shard missing.
expect "the analysis refuses stage 1 without the stage-2 stores" \
    not "$MTS_ANALYZE" report --format json --scan-id two "${dbs[@]}"
expect "the analysis refuses 3 of 4 stage-2 stores" \
    not "$MTS_ANALYZE" report --format json --scan-id two "${dbs[@]}" "${probe_dbs[@]:0:6}"
expect "the analysis refuses stage-2 stores alone" \
    not "$MTS_ANALYZE" report --format json --scan-id two "${probe_dbs[@]}"

# (e) Stage 2 refuses what is not a complete stage 1, and resumes without probing again.
expect "stage 2 refuses a one-stage store" \
    not "$MTS_SCAN" --probe-mx-from "$WORK/whole" --scan-id two --db "$WORK/bad" -q
expect "stage 2 refuses a stage-2 store as its source" \
    not "$MTS_SCAN" --probe-mx-from "$WORK/two/probes-1" --scan-id two --db "$WORK/bad" -q
expect "stage 2 left no store behind after refusing its sources" test ! -e "$WORK/bad"
rc=0
"$MTS_SCAN" --probe-mx-from "$WORK/two/shard-0" --input "$WORK/list.txt" --scan-id two \
    --db "$WORK/bad" -q 2>/dev/null || rc=$?
expect "stage 2 with an input list is a usage error (exit 2)" test "$rc" -eq 2
expect "a new stage 2 over an existing one is refused without --resume" \
    not "$MTS_SCAN" --probe-mx-from "$WORK/two/shard-0" --probe-mx-from "$WORK/two/shard-1" \
    --probe-mx-from "$WORK/two/shard-2" --probe-mx-from "$WORK/two/shard-3" --shard 0/4 \
    --scan-id two --db "$WORK/two/probes-0" "${OPTS[@]}"
expect "stage 2 --resume of a complete shard probes nothing again" \
    "$MTS_SCAN" --probe-mx-from "$WORK/two/shard-0" --probe-mx-from "$WORK/two/shard-1" \
    --probe-mx-from "$WORK/two/shard-2" --probe-mx-from "$WORK/two/shard-3" --shard 0/4 \
    --scan-id two --db "$WORK/two/probes-0" --resume "${OPTS[@]}"
"$MTS_RAW_EXPORT" "$WORK/two/probes-0" two --meta >"$WORK/pmeta-0-again.json"
expect "the resumed stage-2 shard counts every pair resumed, none probed" \
    jq -e '.counts.probes == 0 and .counts.resumed == .counts.pairs and .state == "complete"' \
    "$WORK/pmeta-0-again.json" >/dev/null
# (f) An interrupted stage 2 (SIGTERM once it is running, one probe at a time) ends
# cleanly, marked interrupted; resumed, it probes the rest, each pair still once.
from=()
for ((k = 0; k < SHARDS; k++)); do
    from+=(--probe-mx-from "$WORK/two/shard-$k")
done
# On a loaded machine the stage can finish before the signal lands: such a try tests
# nothing and is made again on a fresh store (five tries at most).
rc=0
for try in 1 2 3 4 5; do
    rm -rf "$WORK/cut"
    "$MTS_SCAN" "${from[@]}" --scan-id two --db "$WORK/cut" "${OPTS[@]}" --smtp-max 1 &
    pid=$!
    for _ in $(seq 1 400); do
        "$MTS_RAW_EXPORT" "$WORK/cut" two --meta 2>/dev/null | grep -q '"running"' && break
        sleep 0.01
    done
    kill -TERM "$pid" 2>/dev/null || true
    rc=0
    wait "$pid" || rc=$?
    "$MTS_RAW_EXPORT" "$WORK/cut" two --meta 2>/dev/null | grep -q '"complete"' || break
    echo "try $try: stage 2 finished before SIGTERM; again"
done
expect "stage 2 exits 0 after SIGTERM" test "$rc" -eq 0
expect "the interrupted stage 2 is marked interrupted, with some pairs left" \
    jq -e '.state == "interrupted" and .counts.probes < .counts.pairs' \
    <("$MTS_RAW_EXPORT" "$WORK/cut" two --meta) >/dev/null
expect "stage 2 --resume completes the interrupted one" \
    "$MTS_SCAN" "${from[@]}" --scan-id two --db "$WORK/cut" "${OPTS[@]}" --resume
expect "the resumed stage 2 is complete and resumed what was stored" \
    jq -e '.state == "complete" and .counts.resumed > 0 and
        .counts.resumed + .counts.probes == .counts.pairs' \
    <("$MTS_RAW_EXPORT" "$WORK/cut" two --meta) >/dev/null
expect "the interrupted and resumed stage 2 holds every listed pair once" \
    cmp <("$MTS_RAW_EXPORT" "$WORK/cut" two --probes | sort) "$WORK/listed-distinct.txt"

expect "parallel.sh --resume over the complete scan exits 0" \
    bash "$MTS_SOURCE/scripts/shard/parallel.sh" "$SHARDS" "$WORK/list.txt" "$WORK/two" \
    --scan-id two "${OPTS[@]}" --resume >/dev/null
for ((k = 0; k < SHARDS; k++)); do
    expect "resumed stage-2 shard $k probed nothing again" \
        jq -e '.counts.probes == 0 and .counts.resumed == .counts.pairs and .state == "complete"' \
        <("$MTS_RAW_EXPORT" "$WORK/two/probes-$k" two --meta) >/dev/null
done
expect "world stops cleanly" world_stop
finish
