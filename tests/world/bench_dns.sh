#!/usr/bin/env bash
# Capacity of the world's DNS server, measured with dnsperf on a generated world with no added
# latency: the reference the scanner's DNS stage is compared to (docs/PERFORMANCE.md).
#
# usage: bench_dns.sh MTASTS_WORLD [DOMAINS [SECONDS [CLIENTS [OUTSTANDING]]]]
#   defaults: 1000000 domains, 20 s, 1 client, 200 queries outstanding
# Prints dnsperf's report and the CPU the server used (one event loop: one core at most).
# Environment: BENCH_DIR keeps the queries file and logs (default: a temporary directory).
#
# The queries file is the scanner's per-domain mix for domains drawn at random (fixed seed):
# TXT _mta-sts.D, MX D, TXT _smtp._tls.D, A and AAAA mta-sts.D, A mx.D.
set -euo pipefail
WORLD=$1
N=${2:-1000000}
SECONDS_RUN=${3:-20}
CLIENTS=${4:-1}
OUTSTANDING=${5:-200}
dir=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$dir"

queries="$dir/queries-$N.txt"
if [ ! -s "$queries" ]; then
    awk -v n="$N" -v domains=200000 'BEGIN {
        srand(1)
        for (i = 0; i < domains; i++) {
            d = sprintf("d%07d.example", int(rand() * n))
            print "_mta-sts." d " TXT"
            print d " MX"
            print "_smtp._tls." d " TXT"
            print "mta-sts." d " A"
            print "mta-sts." d " AAAA"
            print "mx." d " A"
        }
    }' >"$queries"
fi

"$WORLD" --generate "$N" --seed 1 --latency 0 --jitter 0 --dns 127.0.0.1:0 \
    --ca-dir "$dir/ca" --ready-file "$dir/ready" 2>"$dir/world.err" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 200); do
    [ -s "$dir/ready" ] && break
    sleep 0.05
done
port=$(sed -n 's/^dns_port=//p' "$dir/ready")

echo "mtasts-world: $N domains, DNS on 127.0.0.1:$port; dnsperf ${SECONDS_RUN}s," \
    "$CLIENTS clients, $OUTSTANDING outstanding"
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)
c0=$(cpu)
dnsperf -s 127.0.0.1 -p "$port" -d "$queries" -l "$SECONDS_RUN" -c "$CLIENTS" \
    -q "$OUTSTANDING" -t 2 | tee "$dir/dnsperf.txt"
c1=$(cpu)
echo "server CPU: $(awk -v t=$((c1 - c0)) -v hz="$hz" -v s="$SECONDS_RUN" \
    'BEGIN { printf "%.2f s in %d s (%.0f%% of one core)", t / hz, s, 100 * t / hz / s }')"

kill -TERM "$pid"
wait "$pid"
trap - EXIT
cat "$dir/world.err"
