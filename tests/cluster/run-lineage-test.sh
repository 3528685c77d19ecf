#!/usr/bin/env bash
# Lost objects rebuilt from their lineage, across a real node death: a head
# and node x (the only node offering the functions at first); a driver
# makes large results there (they stay on x), then this script starts node
# y, and the driver kills x with SIGKILL, has a task on y use one before
# anyone waited for it (y asks the driver to rebuild it), and gets them
# back rebuilt (cluster_lineage.c says what must hold). The driver keeps lineage under
# MANTA_LINEAGE_MEMORY=64KiB, so that one object's lineage is evicted.
# Every process started here is killed on exit, pass or fail.
#
#   run-lineage-test.sh <manta> <cluster_driver> <cluster_module.so>
set -euo pipefail

manta=$1
driver=$2
module=$3
work=$(mktemp -d)
export MANTA_STATE_DIR=$work/state
unset MANTA_ADDRESS MANTA_TOKEN MANTA_TOKEN_FILE MANTA_LINEAGE_MEMORY
source "$(dirname "$0")/nodes.sh"

cleanup() {
  kill_nodes
  rm -rf "$work"
}
trap cleanup EXIT

echo "== a head and node x"
start_node head --head --port 0 --num-cpus 1
head=$address
MANTA_TEST_PIN=x start_node node_x --address "$head" --num-cpus 2 \
  --module "$module"
disown "$pid" 2>/dev/null || true # the driver kills it: no "Killed" line
wait_offered "$head" step_bytes 1

echo "== driver: results made on x"
mkdir "$work/sync"
# LINEAGE_TEST_LOG=info shows each rebuild in $work/driver.err.
MANTA_ADDRESS=$head MANTA_TEST_SYNC_DIR=$work/sync MANTA_LINEAGE_MEMORY=64KiB \
  MANTA_LOG=${LINEAGE_TEST_LOG:-warn} "$driver" lineage >"$work/driver.out" 2>"$work/driver.err" &
driver_pid=$!
node_pids+=("$driver_pid")
driver_reached prepared

echo "== node y; the driver kills x and gets everything back"
MANTA_TEST_PIN=y start_node node_y --address "$head" --num-cpus 2 \
  --module "$module"
wait_offered "$head" step_bytes 2
wait_offered "$head" on_y.len_sum 1
touch "$work/sync/go"
driver_finish lineage
echo "PASS"
