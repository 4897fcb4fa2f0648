#!/usr/bin/env bash
# Runs the N shards of one scan on this host and prints the mtasts-analyze command that
# reads them together (docs/sharding.md).
#
#   scripts/shard/parallel.sh N INPUT OUTDIR [mtasts-scan options...]
#
# Two stages (MTS_SHARD_STAGES=2, the default): stage 1 shard K (0-based, by domain) writes
# the store OUTDIR/shard-K (log OUTDIR/shard-K.log) with --stage dns; once every shard of
# stage 1 completed, stage 2 shard K (by MX address) probes its part of the (MX host,
# address) pairs of all N stores into OUTDIR/probes-K (log OUTDIR/probes-K.log), so each
# pair is probed once in the whole scan. MTS_SHARD_STAGES=1: one stage, every shard probes
# the MX hosts of its own domains (OUTDIR/shard-K only). Every
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

# Internal: one shard of one stage. --run-shard STAGE K N INPUT OUTDIR SCAN-ID [options...]
# STAGE: all (one-stage), dns (stage 1) or probes (stage 2, reading the N stage-1 stores).
if [ "${1:-}" = "--run-shard" ]; then
    stage=$2 k=$3 n=$4 input=$5 outdir=$6 id=$7
    shift 7
    if [ "$stage" = probes ]; then
        name=probes-$k
        if [ ! -e "$outdir/$name/data.mdb" ]; then
            args=()
            for o in "$@"; do
                [ "$o" = --resume ] || args+=("$o")
            done
            set -- ${args[@]+"${args[@]}"}
        fi
        what=()
        for ((j = 0; j < n; j++)); do
            what+=(--probe-mx-from "$outdir/shard-$j")
        done
    else
        name=shard-$k
        what=(--input "$input" --stage "$stage")
    fi
    "$scanner" "${what[@]}" --shard "$k/$n" --db "$outdir/$name" --scan-id "$id" \
        "$@" >"$outdir/$name.log" 2>&1 &
    pid=$!
    # SIGTERM here is passed on: the scanner finishes what is in flight and stops.
    trap 'kill -TERM "$pid" 2>/dev/null || true' TERM
    while :; do
        rc=0
        wait "$pid" || rc=$?
        kill -0 "$pid" 2>/dev/null || break # else the wait was cut short by the trap
    done
    echo "$rc" >"$outdir/$name.rc"
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
    --shard | --shard=* | -d | --db | --db=* | -i | --input | --input=* | --stage | --stage=* | \
        --probe-mx-from | --probe-mx-from=*)
        echo "$0: $1 is set by this script (one --shard, --db and --input per shard;" \
            "--stage and --probe-mx-from per stage)" >&2
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
stages=${MTS_SHARD_STAGES:-2}
case $stages in
1 | 2) ;;
*) echo "$0: MTS_SHARD_STAGES must be 1 or 2" >&2; exit 2 ;;
esac

mkdir -p "$outdir"
self=$0

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

# run_stage STAGE PREFIX [options...]: the N shards of one stage, PREFIX-K their stores.
# Returns 1 (saying which and how to resume) unless every shard completed.
run_stage() {
    local stage=$1 prefix=$2 k rc
    shift 2
    for ((k = 0; k < n; k++)); do
        rm -f "$outdir/$prefix-$k.rc"
    done
    echo "scan $id ($stage): $n shards of $input into $outdir ($jobs at once)" >&2
    pids=()
    if command -v parallel >/dev/null 2>&1 && parallel --version 2>/dev/null | grep -q GNU; then
        # -q quotes every word of the command, so options with blanks survive.
        seq 0 $((n - 1)) | parallel -q --jobs "$jobs" --halt never \
            bash "$self" --run-shard "$stage" {} "$n" "$input" "$outdir" "$id" "$@" &
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
            bash "$self" --run-shard "$stage" "$k" "$n" "$input" "$outdir" "$id" "$@" &
            pids+=($!)
        done
        while [ -n "$(jobs -pr)" ]; do
            wait -n || true
        done
    fi

    local failed=()
    for ((k = 0; k < n; k++)); do
        rc=$(cat "$outdir/$prefix-$k.rc" 2>/dev/null || echo none)
        if [ "$rc" = none ]; then
            failed+=("$prefix-$k (not run or no exit status)")
        elif [ "$rc" != 0 ]; then
            failed+=("$prefix-$k (exit status $rc, see $outdir/$prefix-$k.log)")
        elif [ "$interrupted" = 1 ] || grep -q '^scan interrupted:' "$outdir/$prefix-$k.log"; then
            # Without -q the scanner's last line says how it ended; with -q only a signal
            # seen here tells.
            failed+=("$prefix-$k (interrupted, see $outdir/$prefix-$k.log)")
        fi
    done
    if [ ${#failed[@]} -gt 0 ]; then
        printf '%s did not complete\n' "${failed[@]}" >&2
        printf 'resume: %q %q %q %q --scan-id %q --resume [the same options]\n' \
            "$0" "$n" "$input" "$outdir" "$id" >&2
        return 1
    fi
}

if [ "$stages" = 1 ]; then
    run_stage all shard "${opts[@]}" || exit 1
else
    run_stage dns shard "${opts[@]}" || exit 1
    # Stage 2 reads no input: the opt-out list was applied in stage 1. A stage-2 store is
    # resumed only when it exists (stage 2 may never have started it).
    probe_opts=()
    resume=0
    skip=0
    for o in "${opts[@]}"; do
        if [ "$skip" = 1 ]; then
            skip=0
            continue
        fi
        case $o in
        --exclude) skip=1 ;;
        --exclude=* | --strict) ;;
        --resume) resume=1 ;;
        *) probe_opts+=("$o") ;;
        esac
    done
    [ "$resume" = 1 ] && probe_opts+=(--resume)
    run_stage probes probes "${probe_opts[@]}" || exit 1
fi

# The analysis of the union, shell-quoted, on stdout.
cmd=("${MTS_ANALYZE:-mtasts-analyze}" summary --scan-id "$id")
for ((k = 0; k < n; k++)); do
    cmd+=(--db "$outdir/shard-$k")
done
if [ "$stages" = 2 ]; then
    for ((k = 0; k < n; k++)); do
        cmd+=(--db "$outdir/probes-$k")
    done
fi
printf '%q ' "${cmd[@]}" | sed 's/ $//'
echo
