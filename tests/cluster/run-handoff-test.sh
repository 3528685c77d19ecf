#!/usr/bin/env bash
# Task handoff across nodes (docs/scheduling.md, "Handing a task back"):
# a head, node B (2 CPUs) and node C (4 CPUs), both offering `meet`, on
# loopback with random free ports. A caller joins with a minute-long
# heartbeat, so its view of the load stays the one it joined with: B
# idle. Then another driver holds both of B's slots with long tasks, and
# the caller submits 4 meets that succeed only if all 4 run at once. Its
# stale view sends some to B, which must hand them back (C has 4 slots
# free); without that they wait behind B's busy slots and the rendezvous
# times out. Every process started here is killed on exit, pass or fail;
# every wait is bounded.
#
#   run-handoff-test.sh <manta> <cluster_driver> <cluster_module.so>
set -euo pipefail

manta=$1
driver=$2
module=$3
work=$(mktemp -d)
export MANTA_STATE_DIR=$work/state
unset MANTA_ADDRESS MANTA_TOKEN
source "$(dirname "$0")/nodes.sh"

cleanup() {
  kill_nodes
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The caller beats once a minute: the head must not take it for dead.
MANTA_DEAD_AFTER_MS=120000 start_node head --head --port 0 --num-cpus 1 --http-port off
head=$address
start_node node_b --address "$head" --num-cpus 2 --module "$module"
busy_pid=$pid
start_node node_c --address "$head" --num-cpus 4 --module "$module"
wait_alive "$head" 3 2

for round in 1 2; do
  echo "== round $round: B busy, the caller's view says idle"
  dir=$work/round$round
  mkdir -p "$dir/hold" "$dir/meet"
  export MANTA_TEST_DIR=$dir MANTA_TEST_BUSY_PID=$busy_pid
  MANTA_ADDRESS=$head MANTA_HEARTBEAT_MS=60000 \
    timeout 150 "$driver" handoff_meet >"$work/meet$round.out" 2>&1 &
  meet=$!
  node_pids+=("$meet")
  for _ in $(seq 600); do
    [ -e "$dir/ready" ] && break
    kill -0 "$meet" 2>/dev/null || break
    sleep 0.05
  done
  [ -e "$dir/ready" ] || { cat "$work/meet$round.out"; fail "the caller is not ready"; }
  MANTA_ADDRESS=$head timeout 150 "$driver" handoff_block \
    >"$work/block$round.out" 2>&1 &
  block=$!
  node_pids+=("$block")
  rc=0
  wait "$meet" || rc=$?
  cat "$work/meet$round.out"
  [ "$rc" -eq 0 ] || fail "driver phase handoff_meet (exit $rc)"
  rc=0
  wait "$block" || rc=$?
  cat "$work/block$round.out"
  [ "$rc" -eq 0 ] || fail "driver phase handoff_block (exit $rc)"
done
echo "PASS"
