#!/usr/bin/env bash
# Heartbeat deltas across processes (docs/protocol.md, "Heartbeat
# deltas"): a head and nodes a and b, each serving /metrics, whose
# manta_peer_up lines are that node's view of the cluster. A node c that
# joins late is seen alive by every other node; killed with SIGKILL, it is
# seen dead by every other node; a node d that leaves on purpose is dropped
# from every view. Those views are built from deltas: after the first
# heartbeat a node hears only what changed.
#   run-view-delta-test.sh MANTA_CLI
# Every process started is killed on exit, pass or fail.
set -euo pipefail
manta=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
fail() {
  fail_showing_errors "view delta test: $*"
}
# shellcheck source=nodes.sh
. "$here/nodes.sh"
trap 'kill_nodes; rm -rf "$work"' EXIT
command -v curl >/dev/null ||
  fail "curl is missing (bash scripts/install-deps.sh installs it)"
export MANTA_STATE_DIR=$work/state MANTA_HEARTBEAT_MS=100 \
  MANTA_DEAD_AFTER_MS=1500
unset MANTA_TOKEN MANTA_TOKEN_FILE MANTA_ADDRESS MANTA_METRICS_PORT

urls=()
start() { start_metrics_node "$@"; }
views() { peer_views "$1" "$2" "${urls[@]}"; }

start head --head
head=$address
start node_a --address "$head"
start node_b --address "$head"
views 3 0
# Every node is at rest now: its next heartbeats bring empty deltas.
sleep 0.5
echo "== a node joining late is seen by every other node"
saved=("${urls[@]}")
start node_c --address "$head"
c_pid=$pid
urls=("${saved[@]}")
views 4 0
echo "== a node killed with SIGKILL is seen dead by every other node"
kill -9 "$c_pid"
views 3 1
echo "== a node leaving on purpose is dropped from every view"
start node_d --address "$head"
d_pid=$pid
urls=("${saved[@]}")
views 4 1
stop_process node_d "$d_pid"
views 3 1
echo "PASS"
