#!/usr/bin/env bash
# Who moves a large object's bytes (docs/architecture.md, "Objects across
# nodes" and "Relays"), read from the nodes' transfer counters (/metrics):
# 1. a head, node x and node y (each with its own pinned functions). The
#    driver passes a large result made on x to a task on x and one on y
#    (cluster_transfer.c): x must have sent the object once, to y, and
#    none of it to the driver, which never reads it;
# 2. nodes z and w join. While y holds a copy, z reads the object: x
#    points z to y, so z receives it from y and x sends z nothing. Then z
#    holds a copy and w reads it, pointed to z; as soon as z has sent w a
#    first chunk, w is stopped (SIGSTOP), z killed (SIGKILL) and w let go
#    on: w received part of the object from z and then all of it from x,
#    and reports the bytes x made.
# Every process started is killed on exit, pass or fail.
#   run-transfer-test.sh <manta> <cluster_transfer> <cluster_module.so>
set -euo pipefail
manta=$1
driver=$2
module=$3
work=$(mktemp -d)
export MANTA_STATE_DIR=$work/state
unset MANTA_ADDRESS MANTA_TOKEN MANTA_TOKEN_FILE MANTA_METRICS_PORT
# shellcheck source=nodes.sh
. "$(dirname "$0")/nodes.sh"
trap 'kill_nodes; rm -rf "$work"' EXIT
command -v curl >/dev/null ||
  fail "curl is missing (bash scripts/install-deps.sh installs it)"

bytes=$((24 << 20))

# metrics_url NAME: the /metrics URL node NAME printed when it started.
metrics_url() {
  sed -n 's/.* metrics \(http:[^ ]*\).*/\1/p' "$work/$1.out"
}
# peer_bytes NAME sent|received NODE_ID: the node's bytes of that
# direction with that peer (0 if none).
peer_bytes() {
  curl -sS --max-time 10 "$(metrics_url "$1")" |
    awk -v k="manta_transfer_$2_bytes_total{node=\"$3\"}" \
      '$1 == k { s = $2 } END { printf "%d\n", s }'
}
# node_id ADDRESS: the id of the node at ADDRESS, from the head.
node_id() {
  "$manta" status --json --address "$head" | python3 -c '
import json, sys
for n in json.load(sys.stdin)["nodes"]:
    if n["address"] == sys.argv[1]:
        print(n["node_id"])' "$1"
}
# transfer_total NAME sent|received: the node's bytes of that direction,
# summed over its peers.
transfer_total() {
  curl -sS --max-time 10 "$(metrics_url "$1")" |
    awk -v k="manta_transfer_$2_bytes_total{" \
      'index($1, k) == 1 { s += $2 } END { printf "%d\n", s }'
}

start_node head --head --port 0 --num-cpus 1 --http-port off
head=$address
MANTA_TEST_PIN=x start_node node_x --address "$head" --port 0 --num-cpus 2 \
  --module "$module" --metrics-port 0 --http-port off
x_id=$(node_id "$address")
MANTA_TEST_PIN=y start_node node_y --address "$head" --port 0 --num-cpus 2 \
  --module "$module" --metrics-port 0 --http-port off
y_id=$(node_id "$address")
wait_offered "$head" on_x.len_sum 1
wait_offered "$head" on_y.len_sum 1

echo "== a result made on x, passed to a task on x and one on y"
MANTA_ADDRESS=$head "$driver" pass_on "$bytes" || fail "pass_on"
sent=$(transfer_total node_x sent)
got=$(transfer_total node_y received)
echo "x sent $sent bytes, y received $got bytes (the object: $bytes)"
# The chunks carry the object's encoding and a few bytes of header each
# (counted by the receiver only): a little beyond the object.
[ "$got" -ge "$bytes" ] && [ "$got" -lt $((bytes + 4096)) ] ||
  fail "y received $got bytes, not the object once"
[ "$sent" -ge "$bytes" ] && [ "$sent" -lt $((bytes + 4096)) ] ||
  fail "x sent $sent bytes, not the object once: the driver fetched it too"

echo "== relays: z reads from y's copy; w from z's, z killed mid-way"
MANTA_TEST_PIN=z start_node node_z --address "$head" --port 0 --num-cpus 2 \
  --module "$module" --metrics-port 0 --http-port off
z_id=$(node_id "$address") z_pid=$pid
MANTA_LOG=info MANTA_TEST_PIN=w start_node node_w --address "$head" --port 0 --num-cpus 2 \
  --module "$module" --metrics-port 0 --http-port off
w_id=$(node_id "$address") w_pid=$pid
wait_offered "$head" on_w.len_sum 1
# The object must take longer to send than the script takes to stop w
# (tens of ms); smaller for slow builds (TRANSFER_TEST_RELAY_MIB).
rbytes=$((${TRANSFER_TEST_RELAY_MIB:-512} << 20))
mkdir "$work/sync"
MANTA_ADDRESS=$head MANTA_LOG=info "$driver" relay "$rbytes" "$work/sync" \
  >"$work/driver.out" 2>"$work/driver.err" &
driver_pid=$!
node_pids+=("$driver_pid")
driver_reached relayed
from_x=$(peer_bytes node_x sent "$z_id")
from_y=$(peer_bytes node_z received "$y_id")
echo "z received $from_y bytes from y; x sent z $from_x"
[ "$from_x" -eq 0 ] || fail "x sent z $from_x bytes: z was not pointed to y"
[ "$from_y" -ge "$rbytes" ] || fail "z received $from_y bytes from y"
touch "$work/sync/go"

driver_reached held_z
# w is pointed to z: stop w once z has sent it something, then kill z.
for _ in $(seq 6000); do
  [ "$(peer_bytes node_z sent "$w_id")" -gt 0 ] && break
  sleep 0.01
done
kill -STOP "$w_pid"
disown "$z_pid" 2>/dev/null || true
kill -9 "$z_pid"
wait_gone=0
for _ in $(seq 200); do
  kill -0 "$z_pid" 2>/dev/null || { wait_gone=1; break; }
  sleep 0.05
done
kill -CONT "$w_pid"
[ "$wait_gone" -eq 1 ] || fail "node z did not die"
driver_finish relay
from_z=$(peer_bytes node_w received "$z_id")
from_x=$(peer_bytes node_w received "$x_id")
echo "w received $from_z bytes from z before it died, then $from_x from x"
[ "$from_z" -gt 0 ] || fail "w received nothing from z: it was not pointed to z"
[ "$from_z" -lt "$rbytes" ] ||
  fail "w received all of it from z before z died: no fallback to see"
[ "$from_x" -ge "$rbytes" ] || fail "w did not fetch it again from x"
grep -q "fetching from its owner" "$work/node_w.err" ||
  fail "w did not log its fallback to the owner"
echo "PASS"
