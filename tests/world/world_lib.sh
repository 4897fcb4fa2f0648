# Shared helpers for the world's shell tests: start mtasts-world on free ports, read its ready
# file, stop it by pid. Sourced, not run. Every test uses its own temporary directory.

set -euo pipefail

fails=0
checks=0

ok() {
    checks=$((checks + 1))
}

bad() {
    checks=$((checks + 1))
    fails=$((fails + 1))
    echo "FAIL: $*" >&2
}

# expect DESCRIPTION COMMAND...: the command must succeed
expect() {
    local what=$1
    shift
    if "$@"; then ok; else bad "$what"; fi
}

# not COMMAND...: succeeds when the command fails
not() {
    ! "$@"
}

finish() {
    echo "$checks checks, $fails failed"
    [ "$fails" -eq 0 ]
}

# world_start WORKDIR ARGS...: start mtasts-world in the background, wait for its ready file,
# set WORLD_PID and DNS_PORT.
world_start() {
    local dir=$1
    shift
    rm -f "$dir/ready"
    "$WORLD" --ready-file "$dir/ready" "$@" 2>"$dir/world.err" &
    WORLD_PID=$!
    for _ in $(seq 1 200); do
        [ -s "$dir/ready" ] && break
        if ! kill -0 "$WORLD_PID" 2>/dev/null; then
            cat "$dir/world.err" >&2
            return 1
        fi
        sleep 0.05
    done
    [ -s "$dir/ready" ] || return 1
    DNS_PORT=$(sed -n 's/^dns_port=//p' "$dir/ready")
}

# world_stop: SIGTERM, wait; returns the exit status of mtasts-world.
world_stop() {
    kill -TERM "$WORLD_PID"
    local rc=0
    wait "$WORLD_PID" || rc=$?
    return $rc
}
