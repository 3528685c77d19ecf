#!/usr/bin/env bash
# Who moves a large object's bytes (docs/architecture.md, "Objects across
# nodes"): a head, node x and node y (each with its own pinned functions
# and /metrics). The driver passes a large result made on x to a task on x
# and one on y (cluster_transfer.c): x's transfer counters must show the
# object sent once, to y, and none of it to the driver, which never reads
# it. Every process started is killed on exit, pass or fail.
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
MANTA_TEST_PIN=y start_node node_y --address "$head" --port 0 --num-cpus 2 \
  --module "$module" --metrics-port 0 --http-port off
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
echo "PASS"
