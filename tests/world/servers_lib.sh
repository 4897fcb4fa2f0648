# Shared by the world server tests (test_https.sh, test_smtp.sh, test_realservers.sh):
# a private temporary directory, mtasts-world started on free ports and stopped by pid, and
# a tiny assertion kit that counts failures. Source it; needs WORLD_BIN (and WORLD_MKCERT,
# WORLD_SCENARIOS) from the environment, as tests/world/CMakeLists.txt sets them.

T=$(mktemp -d "${TMPDIR:-/tmp}/world-servers.XXXXXX")
chmod 755 "$T" # the real-server fixture's postfix daemons work below it
WORLD_PID=
FAILURES=0
CHECKS=0

servers_cleanup() {
  if [ -n "$WORLD_PID" ] && kill -0 "$WORLD_PID" 2>/dev/null; then
    kill "$WORLD_PID" 2>/dev/null
    wait "$WORLD_PID" 2>/dev/null
  fi
  if declare -F extra_cleanup >/dev/null; then extra_cleanup; fi
  rm -rf "$T"
}
trap servers_cleanup EXIT

# world_start SCENARIO [extra mtasts-world options...]: starts the world and sets
# DNS_PORT, HTTPS_PORT, SMTP_PORT and CA (the root's PEM file).
world_start() {
  local scenario=$1
  shift
  "$WORLD_BIN" --scenario "$scenario" --ca-dir "$T/ca" --ready-file "$T/ready" \
    --conn-stats "$T/conn-stats.json" "$@" 2>"$T/world.log" &
  WORLD_PID=$!
  local i
  for i in $(seq 1 200); do
    [ -s "$T/ready" ] && break
    if ! kill -0 "$WORLD_PID" 2>/dev/null; then
      echo "mtasts-world exited:" >&2
      cat "$T/world.log" >&2
      exit 1
    fi
    sleep 0.05
  done
  [ -s "$T/ready" ] || { echo "mtasts-world never became ready" >&2; exit 1; }
  DNS_PORT=$(sed -n 's/^dns_port=//p' "$T/ready")
  HTTPS_PORT=$(sed -n 's/^https_port=//p' "$T/ready")
  SMTP_PORT=$(sed -n 's/^smtp_port=//p' "$T/ready")
  CA="$T/ca/ca.pem"
  export DNS_PORT HTTPS_PORT SMTP_PORT CA
}

# expect WHAT WANT GOT: equality.
expect() {
  CHECKS=$((CHECKS + 1))
  if [ "$2" != "$3" ]; then
    FAILURES=$((FAILURES + 1))
    printf 'FAIL %s: want [%s], got [%s]\n' "$1" "$2" "$3"
  fi
}

# expect_match WHAT REGEX TEXT: an extended regular expression somewhere in TEXT.
expect_match() {
  CHECKS=$((CHECKS + 1))
  if ! grep -Eq -- "$2" <<<"$3"; then
    FAILURES=$((FAILURES + 1))
    printf 'FAIL %s: /%s/ not in [%s]\n' "$1" "$2" "$(head -c 600 <<<"$3")"
  fi
}

# expect_true WHAT COMMAND...: the command succeeds.
expect_true() {
  local what=$1
  shift
  CHECKS=$((CHECKS + 1))
  if ! "$@"; then
    FAILURES=$((FAILURES + 1))
    printf 'FAIL %s: %s\n' "$what" "$*"
  fi
}

# world_stop: SIGTERM, then the exit status must be 0 and the log free of sanitizer reports.
world_stop() {
  [ -n "$WORLD_PID" ] || return 0
  local rc=0
  if kill -0 "$WORLD_PID" 2>/dev/null; then
    kill "$WORLD_PID"
    wait "$WORLD_PID" || rc=$?
  else
    wait "$WORLD_PID" 2>/dev/null || rc=$?
  fi
  WORLD_PID=
  expect "mtasts-world exit status" 0 "$rc"
  expect "mtasts-world sanitizer reports" "" \
    "$(grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T/world.log")"
}

finish() {
  world_stop
  [ "$FAILURES" -eq 0 ] || tail -20 "$T/world.log"
  echo "$CHECKS checks, $FAILURES failed"
  [ "$FAILURES" -eq 0 ]
}
