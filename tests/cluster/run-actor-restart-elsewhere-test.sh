#!/usr/bin/env bash
# An actor restart whose first node dies before answering the creation
# tries another node offering the class; calls made while the creation
# waits queue up to the bound of 100000. A head and nodes a, b and c
# offering Phoenix, dead after 16 s of silence (time enough for 100000
# calls while the restart waits for b, even under sanitizers). The driver
# creates the actor on a, kills a with SIGKILL and stops b with SIGSTOP 8 s
# later (cluster_restarts.c, restart_elsewhere, says what must hold). Every process started here is
# killed on exit, pass or fail.
#
#   run-actor-restart-elsewhere-test.sh <manta> <cluster_driver> <module.so>
set -euo pipefail

manta=$1
driver=$2
module=$3
work=$(mktemp -d)
export MANTA_STATE_DIR=$work/state
unset MANTA_ADDRESS MANTA_TOKEN MANTA_TOKEN_FILE
export MANTA_DEAD_AFTER_MS=16000
source "$(dirname "$0")/nodes.sh"

cleanup() {
  kill_nodes
  rm -rf "$work"
}
trap cleanup EXIT

echo "== a head; nodes a, b, c"
start_node head --head --port 0 --num-cpus 1
head=$address
MANTA_TEST_CLASSES=Phoenix start_node node_a --address "$head" --num-cpus 1 \
  --module "$module"
a_pid=$pid
disown "$pid" 2>/dev/null || true # the driver kills it: no "Killed" line
MANTA_TEST_CLASSES=Phoenix start_node node_b --address "$head" --num-cpus 1 \
  --module "$module"
b_pid=$pid
MANTA_TEST_CLASSES=Phoenix start_node node_c --address "$head" --num-cpus 1 \
  --module "$module"
c_pid=$pid
wait_offered "$head" Phoenix 3

echo "== driver: the restart goes to b, which never answers, then to c"
MANTA_ADDRESS=$head MANTA_TEST_PIDS=$a_pid,$b_pid,$c_pid MANTA_LOG=info \
  "$driver" restart_elsewhere ||
  fail "driver phase restart_elsewhere"
echo "PASS"
