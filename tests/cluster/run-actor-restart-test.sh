#!/usr/bin/env bash
# Actor restarts across real node deaths: a head and two nodes offering the
# class Phoenix (separate processes on loopback); a driver creates a Phoenix
# with max_restarts 1 and max_task_retries 1 and kills its node with
# SIGKILL mid-call, then kills the node it was restarted on. Then two nodes
# offering Ember: one driver (the owner) creates an Ember with restarts
# and hands its handle, as the bytes of a value, to a second driver, which
# also finds it by name, kills the actor's node with SIGKILL mid-call and
# keeps calling through both handles. Then nodes offering Wisp, one
# failing every constructor: a restart there counts and moves on. Then
# nodes offering Shade: restarts honour a hard or soft node affinity and a
# placement group bundle (cluster_restarts.c says what must hold). Every process started here is killed on exit, pass or fail.
#
# Given a Java command after the module (test java_actor_restart), that
# command runs the Phoenix phase instead (manta.ActorRestartDriver) and
# the script ends there.
#
#   run-actor-restart-test.sh <manta> <cluster_driver> <cluster_module.so>
#                             [java command...]
set -euo pipefail

manta=$1
driver=$2
module=$3
shift 3
java=("$@")
work=$(mktemp -d)
export MANTA_STATE_DIR=$work/state
unset MANTA_ADDRESS MANTA_TOKEN MANTA_TOKEN_FILE
source "$(dirname "$0")/nodes.sh"

owner=

cleanup() {
  if [[ -n $owner ]]; then
    kill -9 "$owner" 2>/dev/null || true
    wait "$owner" 2>/dev/null || true
  fi
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

if [[ ${#java[@]} -gt 0 ]]; then
  echo "== a Java driver: restart, retried call"
  MANTA_ADDRESS=$head "${java[@]}" || fail "the Java driver"
  exit 0
fi

echo "== driver: restart, retried call, restarts used up"
MANTA_ADDRESS=$head "$driver" actor_restart || fail "driver phase actor_restart"

echo "== two nodes offering Ember; its owner hands its handle to another driver"
MANTA_TEST_CLASSES=Ember start_node node_c --address "$head" --num-cpus 1 \
  --module "$module"
MANTA_TEST_CLASSES=Ember start_node node_d --address "$head" --num-cpus 1 \
  --module "$module"
wait_offered "$head" Ember 2
mkdir -p "$work/shared"
MANTA_ADDRESS=$head MANTA_TEST_DIR=$work/shared MANTA_LOG=info \
  "$driver" handle_owner >"$work/owner.log" 2>&1 &
owner=$!
echo "== the holder kills the actor's node and keeps calling"
status=0
MANTA_ADDRESS=$head MANTA_TEST_DIR=$work/shared MANTA_LOG=info \
  "$driver" handle_holder || status=$?
owner_status=0
wait "$owner" || owner_status=$?
owner=
echo "-- the owner's output"
cat "$work/owner.log"
[[ $status -eq 0 ]] || fail "driver phase handle_holder"
[[ $owner_status -eq 0 ]] || fail "driver phase handle_owner"

echo "== nodes e, f, g offering Wisp; every constructor on f fails"
pids=()
for n in e f g; do
  fails=0
  [[ $n == f ]] && fails=1
  MANTA_TEST_CTOR_FAILS=$fails MANTA_TEST_CLASSES=Wisp start_node "node_$n" \
    --address "$head" --num-cpus 1 --module "$module"
  pids+=("$pid")
done
wait_offered "$head" Wisp 3
MANTA_ADDRESS=$head MANTA_TEST_PIDS=$(IFS=,; echo "${pids[*]}") MANTA_LOG=info \
  "$driver" restart_ctor || fail "driver phase restart_ctor"

echo "== nodes h, i, j offering Shade: restarts honour the placement asked"
pids=()
for n in h i j; do
  MANTA_TEST_CLASSES=Shade start_node "node_$n" --address "$head" \
    --num-cpus 1 --resources shade=1 --module "$module"
  pids+=("$pid")
done
wait_offered "$head" Shade 3
MANTA_ADDRESS=$head MANTA_TEST_PIDS=$(IFS=,; echo "${pids[*]}") MANTA_LOG=info \
  "$driver" restart_placement || fail "driver phase restart_placement"
echo "PASS"
