#!/usr/bin/env bash
# The Slurm recipe on a real Slurm: munged, slurmctld and slurmd from Debian's slurm-wlm,
# started on this one machine with their configuration in a temporary directory, run
# scripts/shard/slurm-array.sbatch as a 4-task job array against the simulated world; the
# report over the 4 shard stores must equal the report of an unsharded scan. Skips (77)
# with the reason where Slurm cannot start (packages absent, not root, a daemon that does
# not come up). Packages: scripts/setup installs slurm-wlm and munge.
# The test runs in network and mount namespaces of its own (unshare): the daemons' ports
# collide with nothing, nothing leaves loopback, and slurmd finds a cgroup hierarchy even
# where the caller's /sys has none mounted (ip netns exec remounts /sys).
if [ -z "${MTS_SLURM_UNSHARED:-}" ]; then
    if [ "$(id -u)" != 0 ] || ! unshare --net --mount true 2>/dev/null; then
        echo "SKIP: cannot create network and mount namespaces (root needed)" >&2
        exit 77
    fi
    exec env MTS_SLURM_UNSHARED=1 unshare --net --mount --propagation private bash "$0" "$@"
fi
ip link set lo up
# Slurm binds its ports with getaddrinfo(AI_ADDRCONFIG), which finds no address when only
# loopback is up: a veth pair, both ends in this namespace, gives it one (TEST-NET-1).
ip link add mts0 type veth peer name mts1 2>/dev/null &&
    ip addr add 192.0.2.1/24 dev mts0 && ip link set mts0 up && ip link set mts1 up
# No cgroup under /sys (ip netns exec mounts a fresh /sys): mount the hierarchies this
# process is in, as /proc/self/cgroup lists them, which is what slurmd checks against.
mount_cgroups() {
    local ctrls
    mount -t tmpfs -o mode=755 cgroup_root /sys/fs/cgroup || return 0
    while IFS=: read -r _ ctrls _; do
        case $ctrls in
            "") mkdir -p /sys/fs/cgroup/unified && mount -t cgroup2 none /sys/fs/cgroup/unified ;;
            name=*)
                mkdir -p "/sys/fs/cgroup/${ctrls#name=}" &&
                    mount -t cgroup -o "none,$ctrls" cgroup "/sys/fs/cgroup/${ctrls#name=}"
                ;;
            *) mkdir -p "/sys/fs/cgroup/$ctrls" && mount -t cgroup -o "$ctrls" cgroup "/sys/fs/cgroup/$ctrls" ;;
        esac || true
    done </proc/self/cgroup
}
grep -q ' /sys/fs/cgroup[ /]' /proc/mounts || mount_cgroups
. "$(dirname "$0")/lib.sh"
N=${SLURM_DOMAINS:-400}
SHARDS=4

skip() {
    echo "SKIP: $*" >&2
    exit 77
}
for p in munged slurmctld slurmd sbatch squeue; do
    command -v "$p" >/dev/null || PATH=$PATH:/usr/sbin command -v "$p" >/dev/null ||
        skip "$p not installed (apt-get install slurm-wlm munge)"
done
PATH=$PATH:/usr/sbin
[ "$(id -u)" = 0 ] || skip "slurmd runs jobs as their user and needs root here"

S=$WORK/slurm
mkdir -p "$S/munge" "$S/state" "$S/spool" "$S/job/shards"
chmod 711 "$S/munge"
pids=()
slurm_stop() {
    local p
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    pids=()
}
trap 'slurm_stop; cleanup' EXIT
# daemon_logs: what the daemons said, for a skip or failure report.
daemon_logs() {
    local f
    for f in "$S"/munged.log "$S"/slurmctld.log "$S"/slurmd.log; do
        [ -s "$f" ] && { echo "---- $f" >&2; tail -20 "$f" >&2; }
    done
    return 0
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

dd if=/dev/urandom of="$S/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$S/munge/munge.key"
munged --foreground --force --socket="$S/munge/sock" --key-file="$S/munge/munge.key" \
    --log-file="$S/munged.log" --pid-file="$S/munge/munged.pid" \
    --seed-file="$S/munge/seed" 2>>"$S/munged.log" &
pids+=($!)
for _ in $(seq 1 100); do [ -S "$S/munge/sock" ] && break; sleep 0.05; done
[ -S "$S/munge/sock" ] || { daemon_logs; skip "munged did not start"; }

export SLURM_CONF=$S/slurm.conf
cat >"$SLURM_CONF" <<CONF
ClusterName=mtstest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$S/munge/sock
CredType=cred/munge
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldLogFile=$S/slurmctld.log
SlurmdLogFile=$S/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
ReturnToService=2
MpiDefault=none
NodeName=mtsnode NodeHostname=localhost NodeAddr=127.0.0.1 CPUs=8 RealMemory=16384 State=UNKNOWN
PartitionName=test Nodes=mtsnode Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld -D -i -f "$SLURM_CONF" >>"$S/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -N mtsnode -f "$SLURM_CONF" >>"$S/slurmd.out" 2>&1 &
pids+=($!)
up=
for _ in $(seq 1 30); do
    if timeout 5 sinfo -h -N -o '%T' 2>/dev/null | grep -q '^idle'; then up=1 && break; fi
    sleep 0.5
done
[ -n "$up" ] || { daemon_logs; skip "slurmctld/slurmd did not bring node mtsnode up"; }

world_start "$WORK" --generate "$N" --seed 5 --latency 0 --jitter 0 \
    --ca-dir "$WORK/ca" --list "$WORK/list.txt"
world_ports
# The recipe's options: the world's, without -q (the recipe reads the scan's last line).
opts=()
for a in "${SCAN_ARGS[@]}"; do [ "$a" = -q ] || opts+=("$a"); done
resolver=${opts[1]}
opts=("${opts[@]:2}" --concurrency 75 --dns-inflight 150)

# As the recipe says: in the submission directory, shards/ exists before sbatch (Slurm
# opens each task's log there before the script runs). Stage 1, then stage 2 (the recipe's
# two arrays; --wait stands for the afterok dependency).
for stage in dns probes; do
    if env -C "$S/job" SCAN_ID=slurm INPUT="$WORK/list.txt" RESOLVER="$resolver" STAGE=$stage \
        SHARDS=$SHARDS MTS_SCAN="$MTS_SCAN" SCAN_OPTS="${opts[*]}" \
        timeout 300 sbatch --wait --quiet --array=0-$((SHARDS - 1)) --export=ALL \
        --output="shards/$stage-%a.log" "$MTS_SOURCE/scripts/shard/slurm-array.sbatch"; then
        ok
    else
        bad "sbatch --wait runs the 4-task array of stage $stage and every task succeeds"
        daemon_logs
    fi
    for ((k = 0; k < SHARDS; k++)); do
        [ -s "$S/job/shards/$stage-$k.log" ] &&
            sed "s/^/$stage task $k: /" "$S/job/shards/$stage-$k.log" >&2
    done
done
dbs=()
for ((k = 0; k < SHARDS; k++)); do
    dbs+=(--db "$S/job/shards/shard-$k" --db "$S/job/shards/probes-$k")
    expect "task $k's store holds shard $k/$SHARDS, complete" \
        bash -c '"$1" "$2" slurm --meta | jq -e --arg s "$3" ".shard == \$s and .state == \"complete\"" >/dev/null' \
        _ "$MTS_RAW_EXPORT" "$S/job/shards/shard-$k" "$k/$SHARDS"
done
slurm_stop

expect "unsharded scan exits 0" scan "$WORK/whole" slurm "$WORK/list.txt"
"$MTS_ANALYZE" report --format json "${dbs[@]}" --scan-id slurm | jq -S 'del(.stores)' \
    >"$WORK/report-shards.json"
"$MTS_ANALYZE" report --format json --db "$WORK/whole" --scan-id slurm | jq -S 'del(.stores)' \
    >"$WORK/report-whole.json"
expect "the shard report counts $N domains" test "$(jq .domains "$WORK/report-shards.json")" = "$N"
expect "the report over the 4 + 4 stores of both stages equals the unsharded report" \
    cmp "$WORK/report-shards.json" "$WORK/report-whole.json"
expect "world stops cleanly" world_stop
finish
