#!/usr/bin/env bash
# ctest demo_interrupt: Ctrl-C during scripts/demo's scan (SIGINT to the demo's process
# group, as a terminal sends it), or a SIGTERM to the demo alone, stops the scanner first
# while the world still answers, then the world (SIGTERM from the demo); no report is
# written and the demo exits 130.
# usage: demo_interrupt.sh SOURCE_DIR BUILD_DIR
set -u
src=$1
build=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0
check() { # what, got, want
    if [ "$2" != "$3" ]; then
        echo "FAIL $1: got [$2] want [$3]"
        fails=$((fails + 1))
    fi
}

# run_demo NAME SIGNAL TARGET: start the demo, wait until it scans, send SIGNAL to TARGET
# ("group": the demo's process group, as a terminal's Ctrl-C; "script": the demo alone,
# as a job scheduler's SIGTERM), then check what it did.
run_demo() {
    local name=$1 sig=$2 target=$3
    local log=$work/$name.log out=$work/$name
    # setsid: the demo leads its own process group, the one a terminal signals
    DEMO_BUILD=$build DEMO_OUT=$out DEMO_DOMAINS=${DEMO_INTERRUPT_DOMAINS:-20000} \
        setsid "$src/scripts/demo" >"$log" 2>&1 &
    local demo=$!
    for _ in $(seq 1 1200); do
        grep -q '^== scanning' "$log" && break
        sleep 0.1
    done
    sleep 2
    if [ "$target" = group ]; then kill "-$sig" -- "-$demo"; else kill "-$sig" "$demo"; fi
    wait "$demo"
    check "$name: demo exit status" $? 130
    tr '\r' '\n' <"$log" | grep -E '^(scan |== )' | sed "s/^/  $name: /"

    check "$name: no report from an interrupted scan" "$(ls "$out"/report.html 2>/dev/null)" ""
    check "$name: the store says interrupted" \
        "$("$build/analysis/mtasts-analyze" scans --db "$out/db" | awk -F '\t' '$2 == "demo" { print $3 }')" \
        interrupted
    check "$name: the scanner said so" "$(tr '\r' '\n' <"$log" | grep -c '^scan interrupted: ')" 1
    # the world was stopped by the demo (SIGTERM) after the scanner, never by the signal
    check "$name: the world's stop" "$(grep -o 'signal [0-9]*, stopping' "$out/world.log")" \
        "signal 15, stopping"
}
run_demo ctrl-c INT group
run_demo sigterm TERM script
echo "demo_interrupt: $fails failures"
[ "$fails" -eq 0 ]
