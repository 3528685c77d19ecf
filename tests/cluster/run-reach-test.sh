#!/usr/bin/env bash
# Hard node affinity between nodes that just met (docs/scheduling.md, "A
# node that just joined"): a head and node a, then, three times, a node b
# that joins, is called by hard affinity from a task on a as soon as the
# head lists it alive (and calls a back, and is called by the driver),
# with tasks and with actors created by hard affinity, and leaves; a
# function only b offers (only_bROUND) is called, with no options, from a
# task on a and from the driver at once. Every
# process started is killed on exit, pass or fail.
#   run-reach-test.sh <manta> <cluster_reach> <reach_module.so>
set -euo pipefail
manta=$1
driver=$2
module=$3
work=$(mktemp -d)
export MANTA_STATE_DIR=$work/state
unset MANTA_ADDRESS MANTA_TOKEN MANTA_TOKEN_FILE
# shellcheck source=nodes.sh
. "$(dirname "$0")/nodes.sh"
trap 'kill_nodes; rm -rf "$work"' EXIT

start_node head --head --port 0 --num-cpus 1 --http-port off
head=$address
start_node node_a --address "$head" --port 0 --num-cpus 2 --module "$module"
a=$address
wait_offered "$head" reach 1
for round in 1 2 3; do
  echo "== round $round: node b joins; a, b and the driver reach each other"
  MANTA_REACH_ONLY=only_b$round start_node "node_b$round" --address "$head" \
    --port 0 --num-cpus 2 --module "$module"
  b=$address
  b_pid=$pid
  MANTA_ADDRESS=$head "$driver" "$a" "$b" "$round" || fail "round $round"
  stop_process "node_b$round" "$b_pid"
done
echo "PASS"
