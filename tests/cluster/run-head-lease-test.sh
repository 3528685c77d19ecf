#!/usr/bin/env bash
# Two heads on one store: the store's lease decides which one is active
# (docs/head-store.md, "Two heads on one store"), with a real redis-server
# started here on a random loopback port and a lease of 2 s:
#
# 1. head 1 on port P1 takes the lease; head 2 started on P2 on the same
#    store waits as a standby: its log says so and names head 1, it does
#    not listen, and the lease in Redis names head 1. A node started with
#    --address P1,P2 registers with head 1.
# 2. head 1 killed with kill -9: head 2 takes over once the lease expires
#    (its log says so, it serves), the node registers with it and head 2
#    lists it alive after the dead-after time.
# 3. head 3 started on P1 waits as a standby behind head 2. Head 2 is
#    stopped with SIGSTOP for longer than the lease: head 3 takes over and
#    the node moves to it. Head 2 continued (SIGCONT) finds its lease lost:
#    it logs so, writes nothing (the node stays in the store although head
#    2, which hears from it no more, declares it dead), refuses a node
#    that registers with it, naming head 3, and its status says so.
#
# Skipped (77) when redis-server is not installed. Every process started
# here is killed on exit, pass or fail.
#
#   run-head-lease-test.sh <manta> <cluster_module.so>
set -euo pipefail

manta=$1
module=$2
work=$(mktemp -d)
export MANTA_STATE_DIR=$work/state
unset MANTA_ADDRESS MANTA_TOKEN MANTA_TOKEN_FILE
export MANTA_HEAD_LEASE_MS=2000 MANTA_DEAD_AFTER_MS=3000
source "$(dirname "$0")/nodes.sh"
source "$(dirname "$0")/redis.sh"

store_test_start

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# until_log FILE PATTERN SECONDS: waits until FILE has a line matching
# PATTERN, at most SECONDS.
until_log() {
  for _ in $(seq $(($3 * 20))); do
    grep -q -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  fail "no '$2' in $1 after $3 s"
}

# A head in the background (start_process would wait for it to serve).
start_head() {
  local name=$1 port=$2
  : >"$work/$name.out"
  "$manta" start --foreground --head --port "$port" --num-cpus 1 \
    --http-port off --store "$url" --cluster-name lease \
    >"$work/$name.out" 2>"$work/$name.err" &
  pid=$!
  node_pids+=("$pid")
}

lease() {
  redis-cli -p "$redis_port" GET manta:lease:lease
}

redis_start
url=redis://127.0.0.1:$redis_port
p1=$(free_port)
p2=$(free_port)
head1=127.0.0.1:$p1
head2=127.0.0.1:$p2

echo "== head 1 active, head 2 a standby"
start_head head1 "$p1"
head1_pid=$pid
until_log "$work/head1.out" " ready at $head1" 20
start_head head2 "$p2"
head2_pid=$pid
until_log "$work/head2.err" "waits as a standby" 20
grep -q "held by the head at $head1 (incarnation 1)" "$work/head2.err" ||
  fail "head 2's log does not name head 1: $(cat "$work/head2.err")"
lease | grep -q "^1 $head1\$" || fail "the lease is not head 1's: $(lease)"
if "$manta" status --address "$head2" >/dev/null 2>&1; then
  fail "the standby head 2 answers"
fi
grep -q " ready at " "$work/head2.out" && fail "the standby says it is ready"
echo "head 2: $(grep -m1 -o "the store .*standby" "$work/head2.err")"

start_node node --address "$head1,$head2" --num-cpus 1 --module "$module"
node=$address
wait_offered "$head1" step_bytes 1

echo "== head 1 killed: head 2 takes over"
kill -9 "$head1_pid"
wait "$head1_pid" 2>/dev/null || true
until_log "$work/head2.out" " ready at $head2" 20
grep -q "lease expired: this head holds the store's lease (incarnation 2" \
  "$work/head2.err" || fail "head 2 does not say it took over"
lease | grep -q "^2 $head2\$" || fail "the lease is not head 2's: $(lease)"
until_log "$work/node.err" "registered with the head at $head2" 20
sleep 4 # past the dead-after time: alive because it speaks to head 2
"$manta" status --address "$head2" | grep "$node" | grep -qi alive ||
  fail "head 2 does not list the node alive"
echo "node $node moved to head 2"

echo "== head 3 a standby; head 2 paused past its lease"
start_head head3 "$p1"
head3_pid=$pid
until_log "$work/head3.err" "held by the head at $head2 (incarnation 2)" 20
kill -STOP "$head2_pid"
until_log "$work/head3.out" " ready at $head1" 20
lease | grep -q "^3 $head1\$" || fail "the lease is not head 3's: $(lease)"
for _ in $(seq 400); do
  [ "$(grep -c "registered with the head at $head1" "$work/node.err")" -ge 1 ] &&
    "$manta" status --address "$head1" 2>/dev/null | grep "$node" |
    grep -qi alive && break
  sleep 0.05
done
"$manta" status --address "$head1" | grep "$node" | grep -qi alive ||
  fail "the node did not move to head 3"
nodes_before=$(redis-cli -p "$redis_port" HLEN manta:lease:nodes)
[ "$nodes_before" -ge 1 ] || fail "the store lists no node"
kill -CONT "$head2_pid"
until_log "$work/head2.err" "lost the store's lease (incarnation 2)" 20
# Head 2 hears from the node no more: it declares it dead after the
# dead-after time, and would remove it from the store if it could write.
until_log "$work/head2.err" "declared dead" 20
sleep 2 # what head 2 would write, it would have written by now
nodes_after=$(redis-cli -p "$redis_port" HLEN manta:lease:nodes)
[ "$nodes_after" = "$nodes_before" ] ||
  fail "the paused head wrote to the store: $nodes_before node(s), now $nodes_after"
lease | grep -q "^3 $head1\$" || fail "the lease is not head 3's: $(lease)"
"$manta" status --address "$head1" | grep "$node" | grep -qi alive ||
  fail "head 3 does not list the node alive"
if "$manta" start --foreground --address "$head2" --num-cpus 1 \
  >"$work/late.out" 2>"$work/late.txt"; then
  fail "a node registered with the old head 2"
fi
grep -q "lost the store's lease to the head at $head1 (incarnation 3)" \
  "$work/late.txt" || fail "the refusal does not name head 3: $(cat "$work/late.txt")"
echo "refused: $(grep -m1 -o "this head lost.*" "$work/late.txt")"
"$manta" status --address "$head2" 2>&1 | grep "store:" |
  grep "FAILING" | grep -q "lost the store's lease to the head at $head1" ||
  fail "manta status of head 2 does not say it lost the lease: $("$manta" status --address "$head2" 2>&1)"
kill -0 "$head3_pid" || fail "head 3 died"
echo "PASS"
