#!/usr/bin/env bash
# A scan split into 4 shards by scripts/shard/parallel.sh equals one unsharded scan of the
# same world: the shards partition the input, and the report and the export over the four
# stores equal those over the single store (docs/sharding.md).
. "$(dirname "$0")/lib.sh"
N=${SHARD_DOMAINS:-4000}
SHARDS=4

world_start "$WORK" --generate "$N" --seed 5 --latency 0 --jitter 0 \
    --ca-dir "$WORK/ca" --list "$WORK/list.txt"
world_ports

# The sharded scan in one stage (MTS_SHARD_STAGES=1; two stages: test_two_stage.sh), through
# the recipe itself; the scanner comes from $MTS_SCAN. The four
# shards run at once: each gets a quarter of one scan's domains and queries in flight.
expect "parallel.sh runs $SHARDS shards in one stage and exits 0" env MTS_SHARD_STAGES=1 \
    bash "$MTS_SOURCE/scripts/shard/parallel.sh" "$SHARDS" "$WORK/list.txt" "$WORK/shards" \
    --scan-id sharded "${SCAN_ARGS[@]}" --concurrency 75 --dns-inflight 150 \
    >"$WORK/analyze-cmd.txt"
for ((k = 0; k < SHARDS; k++)); do
    if [ -s "$WORK/shards/shard-$k.log" ]; then
        sed "s/^/shard $k: /" "$WORK/shards/shard-$k.log" >&2
    fi
done
dbs=()
for ((k = 0; k < SHARDS; k++)); do
    dbs+=(--db "$WORK/shards/shard-$k")
done
expect "parallel.sh prints the analysis command over every shard" \
    grep -q -- "summary --scan-id sharded ${dbs[*]}\$" "$WORK/analyze-cmd.txt"

# The same world scanned in one piece.
expect "unsharded scan exits 0" scan "$WORK/whole" sharded "$WORK/list.txt"

# (a) The shards' domain sets are disjoint and their union is the input list.
for ((k = 0; k < SHARDS; k++)); do
    "$MTS_RAW_EXPORT" "$WORK/shards/shard-$k" sharded | jq -r .domain >"$WORK/domains-$k.txt"
    "$MTS_RAW_EXPORT" "$WORK/shards/shard-$k" sharded --meta >"$WORK/meta-$k.json"
    # shellcheck disable=SC2016 # $s is jq's variable
    expect "shard $k: metadata says shard $k/$SHARDS, complete" \
        jq -e --arg s "$k/$SHARDS" '.shard == $s and .state == "complete"' \
        "$WORK/meta-$k.json" >/dev/null
    expect "shard $k is not empty" test -s "$WORK/domains-$k.txt"
done
sort "$WORK"/domains-[0-9]*.txt >"$WORK/union.txt"
expect "no domain is in two shards (or twice in one)" \
    test -z "$(uniq -d "$WORK/union.txt")"
expect "the union of the shards is the input list" \
    cmp -s "$WORK/union.txt" <(grep -v '^#' "$WORK/list.txt" | sed '/^$/d' | sort -u)
expect "the input list has $N names" test "$(wc -l <"$WORK/union.txt")" -eq "$N"

# (b) The report over the shards equals the report over the unsharded store, except for
# "stores" (how many stores were read).
"$MTS_ANALYZE" report --format json "${dbs[@]}" --scan-id sharded >"$WORK/report-shards.json"
"$MTS_ANALYZE" report --format json --db "$WORK/whole" --scan-id sharded \
    >"$WORK/report-whole.json"
expect "the reports name $SHARDS and 1 stores and count $N domains" /usr/bin/python3 -c '
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
n, k = int(sys.argv[3]), int(sys.argv[4])
sys.exit(0 if (a["stores"], b["stores"], a["domains"], b["domains"]) == (k, 1, n, n) else 1)
' "$WORK/report-shards.json" "$WORK/report-whole.json" "$N" "$SHARDS"
expect "report over the shards equals the unsharded report" /usr/bin/python3 - \
    "$WORK/report-shards.json" "$WORK/report-whole.json" <<'PY'
import json, sys

a, b = (json.load(open(p)) for p in sys.argv[1:3])
for r in (a, b):
    r.pop("stores", None)  # how many stores were read; everything else must agree
if a != b:
    def walk(x, y, path):
        if type(x) is not type(y) or not isinstance(x, (dict, list)):
            if x != y:
                print(f"{path or '/'}: shards {json.dumps(x)[:200]} whole {json.dumps(y)[:200]}",
                      file=sys.stderr)
            return
        keys = set(x) | set(y) if isinstance(x, dict) else range(max(len(x), len(y)))
        for k in keys:
            try:
                walk(x[k], y[k], f"{path}/{k}")
            except (KeyError, IndexError):
                print(f"{path}/{k}: present on one side only", file=sys.stderr)
    walk(a, b, "")
    sys.exit(1)
PY

# (c) The export over the shards, sorted by domain, equals the unsharded export.
"$MTS_ANALYZE" export --format jsonl "${dbs[@]}" --scan-id sharded >"$WORK/export-shards.jsonl"
"$MTS_ANALYZE" export --format jsonl --db "$WORK/whole" --scan-id sharded \
    >"$WORK/export-whole.jsonl"
expect "export over the shards has one line per input name" \
    test "$(wc -l <"$WORK/export-shards.jsonl")" -eq "$N"
expect "export over the shards equals the unsharded export" /usr/bin/python3 - \
    "$WORK/export-shards.jsonl" "$WORK/export-whole.jsonl" <<'PY'
import json, sys

def load(path):
    rows = {}
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            r.pop("scan", None)
            if r["domain"] in rows:
                print(f"{path}: {r['domain']} twice", file=sys.stderr)
                sys.exit(1)
            rows[r["domain"]] = r
    return rows

a, b = load(sys.argv[1]), load(sys.argv[2])
diff = [d for d in sorted(set(a) | set(b)) if a.get(d) != b.get(d)]
for d in diff[:10]:
    print(f"{d}:\n  shards {json.dumps(a.get(d), sort_keys=True)}\n"
          f"  whole  {json.dumps(b.get(d), sort_keys=True)}", file=sys.stderr)
if diff:
    print(f"{len(diff)} domains differ", file=sys.stderr)
sys.exit(1 if diff else 0)
PY

# The contract parallel.sh relies on: the analysis refuses stores that are not the
# distinct shards of one scan.
expect "the analysis refuses the same shard twice" \
    not "$MTS_ANALYZE" report --format json --scan-id sharded \
    --db "$WORK/shards/shard-0" --db "$WORK/shards/shard-0"
expect "the analysis refuses a shard with an unsharded store" \
    not "$MTS_ANALYZE" report --format json --scan-id sharded \
    --db "$WORK/shards/shard-0" --db "$WORK/whole"
expect "the analysis refuses an incomplete set of shards (3 of 4)" \
    not "$MTS_ANALYZE" report --format json --scan-id sharded \
    --db "$WORK/shards/shard-0" --db "$WORK/shards/shard-1" --db "$WORK/shards/shard-2"
expect "world stops cleanly" world_stop
finish
