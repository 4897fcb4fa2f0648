#!/usr/bin/env bash
# Runs the N shards of one scan on this host and prints the mtasts-analyze command that
# reads them together (docs/sharding.md).
#
#   scripts/shard/parallel.sh N INPUT OUTDIR [mtasts-scan options...]
#
# Shard K (0-based) writes the store OUTDIR/shard-K and its log OUTDIR/shard-K.log. Every
# shard gets the same --scan-id: the one among the options, else $MTS_SCAN_ID, else
# scan-YYYYMMDD-HHMMSS (UTC, taken once here). The scanner is $MTS_SCAN, else mtasts-scan
# from PATH; the analysis command printed at the end names $MTS_ANALYZE, else
# mtasts-analyze. At most $MTS_SHARD_JOBS shards run at once (default: N). GNU parallel is
# used when it is installed, plain background jobs otherwise.
#
# Resume: run the same command again with --resume and the same --scan-id; shards that
# completed are skipped, the others continue where they stopped.
#
# Exit status: 0 when every shard completed, 1 when one failed or was interrupted (its log
# says why; resume it), 2 on a usage error.
set -euo pipefail

usage() {
    echo "usage: $0 N INPUT OUTDIR [mtasts-scan options...]" >&2
    exit 2
}

scanner=${MTS_SCAN:-mtasts-scan}

# Internal: one shard. --run-shard K N INPUT OUTDIR SCAN-ID [options...]
if [ "${1:-}" = "--run-shard" ]; then
    k=$2 n=$3 input=$4 outdir=$5 id=$6
    shift 6
    "$scanner" --input "$input" --shard "$k/$n" --db "$outdir/shard-$k" --scan-id "$id" \
        "$@" >"$outdir/shard-$k.log" 2>&1 &
    pid=$!
    # SIGTERM here is passed on: the scanner finishes what is in flight and stops.
    trap 'kill -TERM "$pid" 2>/dev/null || true' TERM
    while :; do
        rc=0
        wait "$pid" || rc=$?
        kill -0 "$pid" 2>/dev/null || break # else the wait was cut short by the trap
    done
    echo "$rc" >"$outdir/shard-$k.rc"
    exit "$rc"
fi

[ $# -ge 3 ] || usage
n=$1 input=$2 outdir=$3
shift 3
case $n in
'' | *[!0-9]* | 0*) echo "$0: N must be a positive integer, not '$n'" >&2; exit 2 ;;
esac
[ "$n" -le 65536 ] || { echo "$0: N must be at most 65536" >&2; exit 2; }
[ "$input" = "-" ] && { echo "$0: INPUT must be a file (every shard reads it)" >&2; exit 2; }
[ -r "$input" ] || { echo "$0: cannot read $input" >&2; exit 2; }

# The options: take the scan id out, refuse what this script sets itself.
id=${MTS_SCAN_ID:-}
opts=()
while [ $# -gt 0 ]; do
    case $1 in
    --scan-id)
        [ $# -ge 2 ] || usage
        id=$2
        shift 2
        ;;
    --scan-id=*)
        id=${1#--scan-id=}
        shift
        ;;
    --shard | --shard=* | -d | --db | --db=* | -i | --input | --input=*)
        echo "$0: $1 is set by this script (one --shard, --db and --input per shard)" >&2
        exit 2
        ;;
    *)
        opts+=("$1")
        shift
        ;;
    esac
done
[ -n "$id" ] || id=scan-$(date -u +%Y%m%d-%H%M%S)
jobs=${MTS_SHARD_JOBS:-$n}
case $jobs in
'' | *[!0-9]* | 0*) echo "$0: MTS_SHARD_JOBS must be a positive integer" >&2; exit 2 ;;
esac

mkdir -p "$outdir"
self=$0
for ((k = 0; k < n; k++)); do
    rm -f "$outdir/shard-$k.rc"
done

# An interruption (Ctrl-C reaches every shard's scanner directly; SIGTERM to this script is
# passed on) stops the shards cleanly: they exit 0 with their scans marked interrupted, so
# this script then says to resume rather than to analyse.
interrupted=0
pids=()
on_signal() {
    interrupted=1
    if [ "$1" = TERM ] && [ ${#pids[@]} -gt 0 ]; then
        kill -TERM "${pids[@]}" 2>/dev/null || true
    fi
}
trap 'on_signal INT' INT
trap 'on_signal TERM' TERM

echo "scan $id: $n shards of $input into $outdir ($jobs at once)" >&2
if command -v parallel >/dev/null 2>&1 && parallel --version 2>/dev/null | grep -q GNU; then
    # -q quotes every word of the command, so options with blanks survive.
    seq 0 $((n - 1)) | parallel -q --jobs "$jobs" --halt never \
        bash "$self" --run-shard {} "$n" "$input" "$outdir" "$id" "${opts[@]}" &
    pids=($!)
    while kill -0 "${pids[0]}" 2>/dev/null; do
        wait "${pids[0]}" || true
    done
else
    for ((k = 0; k < n; k++)); do
        while [ "$interrupted" = 0 ] && [ "$(jobs -pr | wc -l)" -ge "$jobs" ]; do
            wait -n || true
        done
        [ "$interrupted" = 0 ] || break
        bash "$self" --run-shard "$k" "$n" "$input" "$outdir" "$id" "${opts[@]}" &
        pids+=($!)
    done
    while [ -n "$(jobs -pr)" ]; do
        wait -n || true
    done
fi

failed=()
for ((k = 0; k < n; k++)); do
    rc=$(cat "$outdir/shard-$k.rc" 2>/dev/null || echo none)
    if [ "$rc" = none ]; then
        failed+=("$k (not run or no exit status)")
    elif [ "$rc" != 0 ]; then
        failed+=("$k (exit status $rc, see $outdir/shard-$k.log)")
    elif [ "$interrupted" = 1 ] || grep -q '^scan interrupted:' "$outdir/shard-$k.log"; then
        # Without -q the scanner's last line says how it ended; with -q only a signal
        # seen here tells.
        failed+=("$k (interrupted, see $outdir/shard-$k.log)")
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    printf 'shard %s did not complete\n' "${failed[@]}" >&2
    printf 'resume: %q %q %q %q --scan-id %q --resume [the same options]\n' \
        "$0" "$n" "$input" "$outdir" "$id" >&2
    exit 1
fi
# The analysis of the union, shell-quoted, on stdout.
cmd=("${MTS_ANALYZE:-mtasts-analyze}" summary --scan-id "$id")
for ((k = 0; k < n; k++)); do
    cmd+=(--db "$outdir/shard-$k")
done
printf '%q ' "${cmd[@]}" | sed 's/ $//'
echo
