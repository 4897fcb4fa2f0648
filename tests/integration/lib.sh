# Helpers for the integration tests: a world on free ports, a scanner pointed at it.
# Sourced, not run. Uses the world's own test helpers (tests/world/world_lib.sh).
WORLD=$MTS_WORLD
# shellcheck source=../world/world_lib.sh
. "$MTS_SOURCE/tests/world/world_lib.sh"

WORK=$(mktemp -d)
cleanup() {
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
