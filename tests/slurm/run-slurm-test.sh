#!/usr/bin/env bash
# deploy/slurm/manta-cluster.sbatch under a real Slurm: munged, slurmctld
# and slurmd of Debian's packages, started here on loopback with every file
# in a temporary folder (ports the kernel picks, a munge key and socket of
# their own; nothing of the machine's Slurm or munge is used or touched).
# Then sbatch runs the name-matching driver on a manta cluster the script
# starts in the allocation (a head and a node through srun), and its output
# must be what an embedded run writes; a second job is cancelled with
# scancel once its cluster is up, and every manta process of it must end.
# Exits 77 (CTest: skipped) with the reason when Slurm cannot run here.
# Every process started here is stopped on exit, pass or fail.
#
#   run-slurm-test.sh <manta> <name_match bin dir> <source dir>
set -euo pipefail

manta=$1
bin=$2
src=$(cd "$3" && pwd)
script=$src/deploy/slurm/manta-cluster.sbatch
tmp=$(mktemp -d)
chmod 755 "$tmp" # munged wants every folder above its socket searchable
unset MANTA_ADDRESS MANTA_TOKEN MANTA_TOKEN_FILE SLURM_JOB_ID
export SLURM_CONF=$tmp/slurm.conf
pids=()

# stop PID: SIGTERM, up to 10 s, then SIGKILL.
stop() {
  kill -TERM "$1" 2>/dev/null || return 0
  for _ in $(seq 1 100); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$1" 2>/dev/null || true
}
cleanup() {
  local i
  # slurmd before slurmctld, munged last: each talks to the next.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    stop "${pids[i]}"
  done
  if [ -f "$tmp/munge/munged.pid" ]; then
    stop "$(cat "$tmp/munge/munged.pid")"
  fi
  # Any manta process a job left (the test fails on it before this).
  for f in "$tmp"/jobs/*/state/head-* "$tmp"/jobs/*/state/node-*; do
    [ -f "$f" ] && kill -KILL "$(cut -d' ' -f1 "$f")" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

skip() {
  echo "SKIP: $*"
  exit 77
}
fail() {
  echo "FAIL: $*" >&2
  for f in "$tmp"/*.log "$tmp"/jobs/*/*.log "$tmp"/*.out; do
    [ -f "$f" ] && { echo "--- $f" >&2; tail -n 15 "$f" >&2; }
  done
  exit 1
}

for tool in munged mungekey slurmctld slurmd sbatch srun scancel scontrol sinfo; do
  command -v "$tool" >/dev/null ||
    skip "$tool not found (Debian: slurmctld slurmd slurm-client munge; scripts/install-deps.sh)"
done
if [ "$(id -u)" -ne 0 ]; then
  skip "slurmd must run as root to start job steps as their user"
fi

free_ports() {
  python3 -c 'import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])'
}

echo "== munged with its own key and socket"
mkdir -m 700 "$tmp/munge"
mungekey --create --keyfile="$tmp/munge/munge.key" --bits=1024
chmod 711 "$tmp/munge"
munged --force --socket="$tmp/munge/munge.sock" \
  --key-file="$tmp/munge/munge.key" --log-file="$tmp/munge.log" \
  --pid-file="$tmp/munge/munged.pid" --seed-file="$tmp/munge/seed" ||
  skip "munged does not start here: $(tail -n 3 "$tmp/munge.log" 2>/dev/null)"

echo "== slurmctld and slurmd on loopback"
read -r ctld_port d_port < <(free_ports)
host=$(hostname -s)
mkdir -p "$tmp/ctld" "$tmp/spool" "$tmp/jobs"
touch "$tmp/plugstack.conf"
cat >"$SLURM_CONF" <<CONF
ClusterName=mantatest
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
AuthType=auth/munge
AuthInfo=socket=$tmp/munge/munge.sock
CredType=cred/munge
StateSaveLocation=$tmp/ctld
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
ProctrackType=proctrack/pgid
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
KillWait=5
PlugStackConfig=$tmp/plugstack.conf
NodeName=$host NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=10 State=UP
CONF
slurmctld -D -f "$SLURM_CONF" >"$tmp/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" >"$tmp/slurmd.out" 2>&1 &
pids+=($!)
# Each query bounded (sinfo retries for long without a controller), the
# whole wait too.
idle() { timeout 5 sinfo -h -o '%T' 2>/dev/null | grep -qx idle; }
deadline=$((SECONDS + 60))
until idle; do
  if [ "$SECONDS" -ge "$deadline" ] || ! kill -0 "${pids[0]}" 2>/dev/null ||
    ! kill -0 "${pids[1]}" 2>/dev/null; then
    skip "Slurm did not come up (60 s): $(tail -q -n 3 "$tmp/slurmctld.out" "$tmp/slurmd.out" 2>/dev/null | tr '\n' ' ')"
  fi
  sleep 0.2
done
echo "ok: $(sinfo -h -o '%P %T %N')"

echo "== the name-matching driver on a manta cluster in an allocation"
cd "$tmp"
"$bin/gen_names" --seed 17 --refs 3000 --queries 100 ref.csv queries.csv
opts=(--quiet --chunk-size 600 --batch-size 10 -k 3)
timeout 120 "$bin/name_match" "${opts[@]}" ref.csv queries.csv -o embedded.csv
export MANTA=$manta MANTA_MODULES=$bin/name_match_module.so
export MANTA_JOB_DIR=$tmp/jobs/run
timeout 300 sbatch --wait --nodes=1 --ntasks=2 --cpus-per-task=1 \
  --time=5 -o "$tmp/run.out" "$script" \
  "$bin/name_match" "${opts[@]}" --cpus 1 ref.csv queries.csv -o slurm.csv ||
  fail "the job failed"
grep -q "manta-cluster: 2 nodes ready" "$tmp/run.out" || fail "no cluster of 2 nodes"
grep -q "the driver exited with status 0" "$tmp/run.out" || fail "the driver failed"
cmp embedded.csv slurm.csv || fail "the job wrote other matches than the embedded run"
grep -q "node ready at" "$MANTA_JOB_DIR/nodes.log" || fail "no node started through srun"
[ ! -e "$MANTA_JOB_DIR/token" ] || fail "the job's token was left behind"
left=$(find "$MANTA_JOB_DIR/state" -name 'head-[0-9]*' -o -name 'node-[0-9]*' | grep -v '\.log$' || true)
[ -z "$left" ] || fail "manta processes left state files: $left"
echo "ok: sbatch ran name_match on a head and a node; output as embedded"

echo "== a cancelled job stops its cluster"
export MANTA_JOB_DIR=$tmp/jobs/cancel
job=$(sbatch --parsable --nodes=1 --ntasks=2 --cpus-per-task=1 --time=5 \
  -o "$tmp/cancel.out" "$script" sleep 300)
for _ in $(seq 1 600); do
  grep -q "manta-cluster: 2 nodes ready" "$tmp/cancel.out" 2>/dev/null && break
  sleep 0.2
done
grep -q "manta-cluster: 2 nodes ready" "$tmp/cancel.out" || fail "the cluster of job $job never came up"
mapfile -t job_pids < <(cat "$MANTA_JOB_DIR"/state/head-[0-9]* "$MANTA_JOB_DIR"/state/node-[0-9]* 2>/dev/null |
  cut -d' ' -f1)
[ "${#job_pids[@]}" -eq 2 ] || fail "job $job: ${#job_pids[@]} manta processes, not 2"
scancel "$job"
for _ in $(seq 1 300); do
  alive=0
  for p in "${job_pids[@]}"; do
    kill -0 "$p" 2>/dev/null && alive=1
  done
  [ "$alive" = 0 ] && break
  sleep 0.1
done
[ "$alive" = 0 ] || fail "manta processes of the cancelled job still run 30 s later"
echo "ok: scancel stopped the head and the node of job $job"
# The job leaves the queue before the daemons stop (a step daemon whose
# controller is gone retries for minutes).
for _ in $(seq 1 300); do
  [ -z "$(timeout 5 squeue -h -j "$job" 2>/dev/null)" ] && break
  sleep 0.1
done
[ -z "$(timeout 5 squeue -h -j "$job" 2>/dev/null)" ] || fail "job $job is still queued 30 s after scancel"
echo PASS
