# Helpers for the integration tests: a world on free ports, a scanner pointed at it.
# Sourced, not run. Uses the world's own test helpers (tests/world/world_lib.sh).
WORLD=$MTS_WORLD
# shellcheck source=../world/world_lib.sh
. "$MTS_SOURCE/tests/world/world_lib.sh"

WORK=$(mktemp -d)
cleanup() {
    if [ -n "${real_started:-}" ]; then bash "$REAL" stop "$WORK/real" || true; fi
    if [ -n "${WORLD_PID:-}" ] && kill -0 "$WORLD_PID" 2>/dev/null; then
        kill -TERM "$WORLD_PID"
        wait "$WORLD_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# world_ports: read the world's ports from the ready file into SCAN_ARGS, the options that
# point mtasts-scan at it. The timeouts leave room for a loaded machine and a sanitizer
# build, where a TLS handshake can take a second; the world's own stalls outlast them.
world_ports() {
    local https smtp
    https=$(sed -n 's/^https_port=//p' "$WORK/ready")
    smtp=$(sed -n 's/^smtp_port=//p' "$WORK/ready")
    SCAN_ARGS=(--resolver "127.0.0.1:$DNS_PORT" --https-port "$https" --smtp-port "$smtp"
        --ca-file "$WORK/ca/ca.pem" --allow-private --ehlo scanner.mtasts-scan.test
        --timeout-dns 1000 --dns-tries 3 --timeout-connect 3000 --timeout-https 10000
        --timeout-smtp 5000 --https-max 50 --smtp-max 50 --concurrency 300 --dns-inflight 600 -q)
}

# scan DB SCAN-ID LIST [OPTIONS...]: mtasts-scan against the running world.
scan() {
    local db=$1 id=$2 list=$3
    shift 3
    "$MTS_SCAN" --input "$list" --db "$db" --scan-id "$id" "${SCAN_ARGS[@]}" "$@"
}

# The real-server fixture (tests/world/realservers.sh: unbound, nginx, postfix) in front of
# the running world. real_start [VAR=value ...] starts it with extra settings for the
# fixture and reads the addresses it reports (realservers.env); a fixture that does not
# come up fails the test with its servers' logs. real_stop stops it; cleanup does too.
REAL=$MTS_SOURCE/tests/world/realservers.sh
real_started=
real_start() {
    chmod 755 "$WORK" # the fixture's postfix daemons work below it
    real_started=1
    if ! env WORLD_READY="$WORK/ready" WORLD_CA_DIR="$WORK/ca" \
        WORLD_MKCERT="${MTS_MKCERT:-$(dirname "$MTS_WORLD")/world-mkcert}" "$@" \
        bash "$REAL" start "$WORK/real" >"$WORK/real.log" 2>&1; then
        echo "FAIL: the real-server fixture did not start" >&2
        real_logs
        exit 1
    fi
    . "$WORK/real/realservers.env"
}

real_stop() {
    bash "$REAL" stop "$WORK/real"
    real_started=
}

# real_logs: what the fixture's servers and the world said, for a failure report.
real_logs() {
    local f
    for f in "$WORK/real.log" "$WORK/real/unbound.log" "$WORK/real/nginx/error.log" \
        "$WORK/real/nginx/access.log" "$WORK/real/postfix.log" "$WORK/world.err"; do
        [ -s "$f" ] || continue
        echo "---- $f" >&2
        tail -40 "$f" >&2
    done
}
