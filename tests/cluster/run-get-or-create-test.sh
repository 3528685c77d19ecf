#!/usr/bin/env bash
# Get-or-create of named actors across processes: a head and two driver
# processes (separate processes on loopback) that, round after round, meet
# at a file barrier and ask manta_actor_get_or_create for the same name at
# the same moment (get_or_create_driver.c). Each round both must get the
# same actor (the identity it reports: the pid and serial of its
# constructor's run), exactly one of them must have created it, and the
# constructor must have run once per name (its lines in the shared file).
# Every process started here is killed on exit, pass or fail.
#
# With a command after ROUNDS, that command (given "b a DIR ROUNDS") is
# driver b instead: java_get_or_create races the Java driver
# (GetOrCreateDriver.java) against the C one. A driver that cannot tell
# whether it created the actor prints "created -1"; the rounds are then
# judged by the identities and the constructor's runs alone.
#
#   run-get-or-create-test.sh <manta> <get_or_create_driver> [ROUNDS [CMD...]]
set -euo pipefail

manta=$1
driver=$2
rounds=${3:-100}
driver_b=("$driver")
if [ $# -gt 3 ]; then
  driver_b=("${@:4}")
fi
work=$(mktemp -d)
export MANTA_STATE_DIR=$work/state
unset MANTA_ADDRESS MANTA_TOKEN MANTA_TOKEN_FILE
source "$(dirname "$0")/nodes.sh"

cleanup() {
  kill_nodes
  rm -rf "$work"
}
trap cleanup EXIT

echo "== a head"
start_node head --head --port 0 --num-cpus 1
head=$address

echo "== two drivers racing for $rounds names"
mkdir -m 700 "$work/meet"
MANTA_ADDRESS=$head "$driver" a b "$work/meet" "$rounds" \
  >"$work/a.out" 2>"$work/a.err" &
pid_a=$!
node_pids+=("$pid_a")
MANTA_ADDRESS=$head "${driver_b[@]}" b a "$work/meet" "$rounds" \
  >"$work/b.out" 2>"$work/b.err" &
pid_b=$!
node_pids+=("$pid_b")
# Each driver's own waits are bounded (20 s per barrier), so these end.
wait "$pid_a" || fail "driver a failed"
wait "$pid_b" || fail "driver b failed"

echo "== the same actor each round, constructed once"
[ "$(grep -c '^round ' "$work/a.out")" -eq "$rounds" ] ||
  fail "driver a reported $(grep -c '^round ' "$work/a.out") rounds"
[ "$(grep -c '^round ' "$work/b.out")" -eq "$rounds" ] ||
  fail "driver b reported $(grep -c '^round ' "$work/b.out") rounds"
bad=0
for ((i = 0; i < rounds; i++)); do
  la=$(grep "^round $i " "$work/a.out")
  lb=$(grep "^round $i " "$work/b.out")
  ida=$(awk '{print $4}' <<<"$la")
  idb=$(awk '{print $4}' <<<"$lb")
  ca=$(awk '{print $6}' <<<"$la")
  cb=$(awk '{print $6}' <<<"$lb")
  runs=$(grep -c "^race-$i " "$work/meet/constructed" || true)
  created_ok=1
  if [[ $ca != -1 && $cb != -1 && $((ca + cb)) -ne 1 ]]; then
    created_ok=0
  fi
  if [[ $ida != "$idb" || $created_ok -ne 1 || $runs -ne 1 ]]; then
    echo "round $i: a got $ida (created $ca), b got $idb (created $cb)," \
      "constructor ran $runs time(s)" >&2
    bad=$((bad + 1))
  fi
done
[ "$bad" -eq 0 ] || fail "$bad of $rounds rounds went wrong"
# (Lines other than race-N: a driver's probes, not raced.)
races=$(grep -c '^race-' "$work/meet/constructed" || true)
[ "$races" -eq "$rounds" ] ||
  fail "$races constructor runs for $rounds names"
echo "a created $(grep -c 'created 1' "$work/a.out"), b created" \
  "$(grep -c 'created 1' "$work/b.out") of $rounds"
echo "PASS"
