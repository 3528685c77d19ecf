#!/usr/bin/env bash
# A standby head found through the head address list (docs/head-store.md),
# with a real redis-server started here on a random loopback port:
#
# head 1 on the store on port P1; a node started with --address P1,P2 and a
# driver with MANTA_ADDRESS=P1,P2 holding the named actor "keeper" (5).
# Head 1 is killed with SIGKILL and head 2 started on P2 on the same store:
# the node registers with head 2 on its own (its log says so, and head 2
# still lists it alive after the time a node that never spoke is declared
# dead); a new driver with MANTA_ADDRESS=P2 finds keeper and reads 5; the
# holder, which moved to head 2 as well, adds 1 (6). Then bad lists (an
# empty element, a bad port) are refused clearly by manta start and by a
# driver.
#
# Skipped (77) when redis-server is not installed. Every process started
# here is killed on exit, pass or fail.
#
#   run-head-list-test.sh <manta> <store_driver> <cluster_module.so>
set -euo pipefail

manta=$1
driver=$2
module=$3
work=$(mktemp -d)
export MANTA_STATE_DIR=$work/state
unset MANTA_ADDRESS MANTA_TOKEN MANTA_TOKEN_FILE
# Short enough that a node which never registers with head 2 is declared
# dead while the test waits below.
export MANTA_DEAD_AFTER_MS=4000
source "$(dirname "$0")/nodes.sh"
source "$(dirname "$0")/redis.sh"

store_test_start

fail() {
  local f
  for f in "$work"/*.out; do
    [ -s "$f" ] && { echo "--- $f" >&2; tail -15 "$f" >&2; }
  done
  fail_showing_errors "$@"
}

# A free loopback port for head 2 (free when asked; nothing here takes it).
p2=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
head2=127.0.0.1:$p2

redis_start
url=redis://127.0.0.1:$redis_port
start_node head1 --head --port 0 --num-cpus 1 --http-port off --store "$url" \
  --cluster-name hl
head1=$address
head1_pid=$pid
start_node node --address "$head1,$head2" --num-cpus 2 --resources pg=1 \
  --module "$module"
node=$address
MANTA_TEST_STOP_FILE=$work/stop MANTA_TEST_KILL_FILE=$work/kill \
  MANTA_ADDRESS="$head1,$head2" "$driver" hold >"$work/hold.out" 2>&1 &
hold=$!
node_pids+=("$hold")
for _ in $(seq 1200); do
  grep -q "^held" "$work/hold.out" && break
  kill -0 "$hold" 2>/dev/null || fail "the holder ended early"
  sleep 0.05
done
grep -q "^held" "$work/hold.out" || fail "the holder never held keeper"
touch "$work/kill" # the holder's "doomed" goes now (its phase wants it)
for _ in $(seq 400); do
  grep -q "^doomed killed" "$work/hold.out" && break
  sleep 0.05
done

echo "== head 1 killed, head 2 started on $head2 on the same store"
kill -9 "$head1_pid"
wait "$head1_pid" 2>/dev/null || true
node_wait_s=20 start_node head2 --head --port "$p2" --num-cpus 1 --http-port off \
  --store "$url" --cluster-name hl
[ "$address" = "$head2" ] || fail "head 2 serves at $address, not $head2"

for _ in $(seq 1200); do
  grep -q "registered with the head at $head2" "$work/node.err" && break
  sleep 0.05
done
grep -q "registered with the head at $head2" "$work/node.err" ||
  fail "the node did not register with head 2"
# Past the time head 2 declares a silent node dead: the node is alive
# because it speaks to head 2 now.
sleep 5
st=$("$manta" status --address "$head2" 2>&1)
grep "$node" <<<"$st" | grep -qi "alive" ||
  fail "head 2 does not list the node alive: $st"
echo "node $node moved to head 2"

MANTA_ADDRESS=$head2 "$driver" lookup >"$work/lookup.out" 2>&1 ||
  fail "a new driver on head 2 did not find keeper"
grep -q "lookup: keeper=5" "$work/lookup.out" || fail "keeper is not the same instance"
touch "$work/stop"
wait "$hold" || fail "the holder failed after the failover"
grep -q "hold: ok" "$work/hold.out" || fail "the holder did not finish"
echo "driver: keeper found through head 2 and called"

echo "== bad lists are refused"
refused() {
  local want=$1
  shift
  if "$@" >"$work/bad.out" 2>"$work/bad.txt"; then
    fail "$* succeeded"
  fi
  grep -q -- "$want" "$work/bad.txt" || fail "$*: no '$want' in: $(cat "$work/bad.txt")"
  echo "refused: $(grep -m1 -- "$want" "$work/bad.txt")"
}
refused "an empty element" "$manta" start --foreground --address "$head2,"
refused "an empty element" "$manta" start --foreground --address ",$head2"
refused "the port must be a number" "$manta" start --foreground \
  --address "$head2,127.0.0.1:99999"
refused "the port must be a number" "$manta" status --address "$head2,h:x"
MANTA_ADDRESS="$head2,,$head2" refused "an empty element in the head address list" \
  "$driver" lookup
MANTA_ADDRESS="$head2,127.0.0.1:0" refused "the port must be a number" \
  "$driver" lookup
echo "PASS"
