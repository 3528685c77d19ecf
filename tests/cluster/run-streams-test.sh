#!/usr/bin/env bash
# Streams across nodes (docs/api.md, "Streams"): a head and two nodes
# (separate `manta start` processes with the test module, on loopback with
# random free ports) and a driver reading the streams of generators and of
# an actor method running on the nodes. Every process started here is
# killed on exit, pass or fail.
#
#   run-streams-test.sh <manta> <cluster_driver> <cluster_module.so>
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

start_node head --head --port 0 --num-cpus 1
head=$address
MANTA_TEST_PIN=a start_node node_a --address "$head" --num-cpus 2 \
  --module "$module"
MANTA_TEST_PIN=b MANTA_TEST_CLASSES=OnlyB start_node node_b \
  --address "$head" --num-cpus 2 --module "$module"
# Until the head lists both nodes with their functions (at most 10 s; the
# driver says what is missing otherwise).
for _ in $(seq 200); do
  st=$("$manta" status --address "$head" 2>/dev/null || true)
  grep -q ", 3 alive" <<<"$st" &&
    [ "$(grep -c "functions  add," <<<"$st")" -eq 2 ] && break
  sleep 0.05
done

echo "== driver: streams"
MANTA_ADDRESS=$head "$driver" streams || fail "driver phase streams"
echo "streams across nodes: ok"
