#!/usr/bin/env bash
# Cancelling, retries and the runtime context across processes: a head and
# two nodes loaded with cancel_module.c, on loopback. The driver
# (cluster_cancel.c) cancels a chain of calls recursively through both
# nodes, cancels actor calls on the actor's node, checks context and
# retry_exceptions against the node that ran them, then kills the nodes
# (SIGKILL) under calls with max_retries 1 and 0; in a second cluster, it
# kills the node of an actor call it cancelled (the call must not be sent
# to the restarted actor). Every process started here is killed on exit,
# pass or fail.
#
#   run-cancel-test.sh <manta> <cluster_cancel> <cancel_module.so>
set -euo pipefail

manta=$1
driver=$2
module=$3
work=$(mktemp -d)
export MANTA_STATE_DIR=$work/state
export TMPDIR=$work
unset MANTA_ADDRESS MANTA_TOKEN MANTA_TOKEN_FILE
source "$(dirname "$0")/nodes.sh"

cleanup() {
  kill_nodes
  rm -rf "$work"
}
trap cleanup EXIT

# wait_offered HEAD N: N live nodes offer "chain" (at most 20 s).
wait_offered() {
  local st
  for _ in $(seq 400); do
    st=$("$manta" status --address "$1" 2>/dev/null || true)
    [ "$(grep -c "chain" <<<"$st")" -ge "$2" ] && return 0
    sleep 0.05
  done
  "$manta" status --address "$1" || true
  fail "$2 nodes do not offer chain"
}

echo "== a head and two nodes with the cancel module"
start_node head --head --port 0 --num-cpus 1
head=$address
start_node node_a --address "$head" --num-cpus 4 --module "$module"
start_node node_b --address "$head" --num-cpus 4 --module "$module"
wait_offered "$head" 2

echo "== driver: recursive cancel, actor calls, context, retry_exceptions"
MANTA_ADDRESS=$head CANCEL_MODULE=$module "$driver" cancel ||
  fail "driver phase cancel"
echo "== driver: max_retries against killed nodes"
MANTA_ADDRESS=$head "$driver" kill || fail "driver phase kill"

echo "== a second cluster: an actor call cancelled, then lost with its node"
start_node head2 --head --port 0 --num-cpus 1
head2=$address
start_node node_c --address "$head2" --num-cpus 4 --module "$module"
start_node node_d --address "$head2" --num-cpus 4 --module "$module"
wait_offered "$head2" 2
MANTA_ADDRESS=$head2 "$driver" lost || fail "driver phase lost"
echo "PASS"
