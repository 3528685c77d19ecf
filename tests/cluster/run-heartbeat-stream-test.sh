#!/usr/bin/env bash
# Heartbeats on a stream, slower at rest (docs/protocol.md, "Heartbeats
# on a stream"): a head and nodes a and b, each serving /metrics. At rest
# the head receives heartbeats without a gRPC call ending per heartbeat
# (each node sends them on one stream it keeps open), and no node is
# declared dead although a node at rest heartbeats less often than the
# dead-after time (it tells the head, which waits that much longer);
# node b stopped with SIGSTOP keeps its stream open but sends nothing,
# and is declared dead by the head and seen dead by a all the same;
# resumed with SIGCONT, it registers again and is seen alive by every
# node. A node killed at rest is seen dead once its stream closes, not
# after the longer time it asked for at rest.
#   run-heartbeat-stream-test.sh MANTA_CLI
# Every process started is killed on exit, pass or fail.
set -euo pipefail
manta=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
fail() {
  fail_showing_errors "heartbeat stream test: $*"
}
# shellcheck source=nodes.sh
. "$here/nodes.sh"
b_pid=
cleanup() {
  if [ -n "$b_pid" ]; then kill -CONT "$b_pid" 2>/dev/null || true; fi
  kill_nodes
  rm -rf "$work"
}
trap cleanup EXIT
command -v curl >/dev/null ||
  fail "curl is missing (bash scripts/install-deps.sh installs it)"
export MANTA_STATE_DIR=$work/state MANTA_HEARTBEAT_MS=100 \
  MANTA_DEAD_AFTER_MS=1500 MANTA_HEARTBEAT_REST_MS=2000
unset MANTA_TOKEN MANTA_TOKEN_FILE MANTA_ADDRESS MANTA_METRICS_PORT

urls=()
start() { start_metrics_node "$@"; }
views() { peer_views "$@"; }
# counts URL: "MESSAGES_RECEIVED SERVER_CALLS_ENDED" of a node's gRPC.
counts() {
  curl -sS --max-time 5 "$1" | awk '
    /^manta_grpc_messages_received_total / { r = $2 }
    /^manta_grpc_calls_total\{side="server"/ { c += $2 }
    END { print r + 0, c + 0 }'
}

start head --head
head=$address
head_url=${urls[0]}
start node_a --address "$head"
a_url=${urls[1]}
start node_b --address "$head"
b_pid=$pid
views 3 0 "${urls[@]}"

echo "== at rest, heartbeats reach the head without a call each"
read -r r0 c0 < <(counts "$head_url")
# At least 8 heartbeats (two nodes, every 2 s at rest, more often before),
# in a bounded wait: longer than the dead-after time at rest.
for _ in $(seq 600); do
  read -r r1 c1 < <(counts "$head_url")
  [ $((r1 - r0)) -ge 8 ] && break
  sleep 0.1
done
[ $((r1 - r0)) -ge 8 ] ||
  fail "the head received $((r1 - r0)) messages in 60 s, not 8 heartbeats"
# A unary heartbeat ends one server call per message received.
[ $(((c1 - c0) * 4)) -lt $((r1 - r0)) ] ||
  fail "the head ended $((c1 - c0)) calls while it received $((r1 - r0))" \
    "messages: heartbeats are not on a stream"

views 3 0 "${urls[@]}"
! grep -q "declared dead" "$work/head.err" "$work/head.out" ||
  fail "the head declared a node at rest dead: $(grep -h "declared dead" \
    "$work/head.err" "$work/head.out")"

echo "== a node stopped with SIGSTOP is declared dead all the same"
kill -STOP "$b_pid"
views 2 1 "$head_url" "$a_url"
grep -q "node .* sent no heartbeat for .* declared dead" "$work/head.err" \
  "$work/head.out" || fail "the head did not say it declared node b dead"

echo "== resumed with SIGCONT, it is back in every view"
kill -CONT "$b_pid"
views 3 0 "${urls[@]}"

echo "== a node killed at rest is declared dead when its stream closes"
# c at rest says its next heartbeat may take 600 s; its stream closing
# (the socket of a killed process) brings the 1.5 s dead-after time back,
# well within the bounded wait of views, while 600 s would not be.
saved=("${urls[@]}")
MANTA_HEARTBEAT_REST_MS=600000 start node_c --address "$head"
c_pid=$pid
urls=("${saved[@]}")
views 4 0 "${urls[@]}"
sleep 2 # its first heartbeats (100 ms apart) are over: it rests
kill -9 "$c_pid"
views 3 1 "${urls[@]}"
echo "PASS"
