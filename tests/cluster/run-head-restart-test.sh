#!/usr/bin/env bash
# A head restart is invisible to healthy work: a head and two nodes on
# loopback, a driver keeping a job going on the nodes (tasks only they
# offer, calls of a named actor living on one of them), while the head is
# killed with SIGKILL and started again on the same port, again and again.
# Every result must be right, and after each restart the named actor must
# be found again by a new driver. Every process started here is killed on
# exit, pass or fail.
#
#   run-head-restart-test.sh <manta> <cluster_driver> <cluster_module.so>
#                            [restarts]
set -euo pipefail

manta=$1
driver=$2
module=$3
restarts=${4:-10}
work=$(mktemp -d)
export MANTA_STATE_DIR=$work/state
unset MANTA_ADDRESS MANTA_TOKEN MANTA_TOKEN_FILE
source "$(dirname "$0")/nodes.sh"

cleanup() {
  kill_nodes
  rm -rf "$work"
}
trap cleanup EXIT

# The job's own output first, then every node's errors.
fail() {
  [ -s "$work/job.out" ] && { echo "--- $work/job.out" >&2; tail -20 "$work/job.out" >&2; }
  fail_showing_errors "$@"
}

# wait_registered HEAD N: the head lists N live nodes (at most 20 s).
wait_registered() {
  for _ in $(seq 400); do
    "$manta" status --address "$1" 2>/dev/null | grep -q ", $2 alive" &&
      return 0
    sleep 0.05
  done
  "$manta" status --address "$1" >&2 || true
  fail "the head does not list $2 live nodes"
}

start_node head --head --port 0 --num-cpus 1
head=$address
head_pid=$pid
port=${head##*:}
start_node node_a --address "$head" --num-cpus 2 --module "$module"
start_node node_b --address "$head" --num-cpus 2 --module "$module"
wait_registered "$head" 3

echo "== a job on the nodes while the head restarts $restarts times"
MANTA_TEST_STOP_FILE=$work/stop MANTA_ADDRESS=$head "$driver" head_restart \
  >"$work/job.out" 2>&1 &
job=$!
node_pids+=("$job")
# The job's named actor exists before the first kill.
for _ in $(seq 400); do
  "$manta" status --address "$head" 2>/dev/null | grep -q "survivor" && break
  sleep 0.05
done
"$manta" status --address "$head" | grep -q "survivor" ||
  fail "the job's named actor never showed up"

for i in $(seq "$restarts"); do
  sleep 0.5
  kill -9 "$head_pid"
  wait "$head_pid" 2>/dev/null || true
  sleep 0.3 # work goes on without a head meanwhile
  start_node "head$i" --head --port "$port" --num-cpus 1
  head_pid=$pid
  [ "$address" = "$head" ] || fail "restart $i: the head came back at $address"
  # The two nodes and the job's driver registered again by themselves.
  wait_registered "$head" 4
  MANTA_ADDRESS=$head "$driver" survivor >"$work/survivor.out" 2>&1 ||
    fail "restart $i: the named actor was not found: $(cat "$work/survivor.out")"
  kill -0 "$job" 2>/dev/null || fail "restart $i: the job ended early"
  echo "restart $i: every node back, the named actor found"
done

touch "$work/stop"
wait "$job" || fail "the job saw failures"
grep "head_restart:" "$work/job.out"
echo "PASS"
