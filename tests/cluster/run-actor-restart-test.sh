#!/usr/bin/env bash
# Actor restarts across real node deaths: a head and two nodes offering the
# class Phoenix (separate processes on loopback); a driver creates a Phoenix
# with max_restarts 1 and max_task_retries 1 and kills its node with
# SIGKILL mid-call, then kills the node it was restarted on
# (cluster_restarts.c says what must hold). Every process started here is
# killed on exit, pass or fail.
#
#   run-actor-restart-test.sh <manta> <cluster_driver> <cluster_module.so>
set -euo pipefail

manta=$1
driver=$2
module=$3
work=$(mktemp -d)
export MANTA_STATE_DIR=$work/state
unset MANTA_ADDRESS MANTA_TOKEN MANTA_TOKEN_FILE
source "$(dirname "$0")/nodes.sh"

cleanup() {
  kill_nodes
  rm -rf "$work"
}
trap cleanup EXIT

echo "== a head and two nodes offering Phoenix"
start_node head --head --port 0 --num-cpus 1
head=$address
MANTA_TEST_CLASSES=Phoenix start_node node_a --address "$head" --num-cpus 1 \
  --module "$module"
MANTA_TEST_CLASSES=Phoenix start_node node_b --address "$head" --num-cpus 1 \
  --module "$module"
wait_offered "$head" Phoenix 2

echo "== driver: restart, retried call, restarts used up"
MANTA_ADDRESS=$head "$driver" actor_restart || fail "driver phase actor_restart"
echo "PASS"
