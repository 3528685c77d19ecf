#!/usr/bin/env bash
# `manta logs` (docs/observability.md):
#   run-logs-test.sh MANTA_CLI CLUSTER_MODULE
# A head and a node, their standard error in files. `manta logs` prints
# the head's log, `manta logs ID-PREFIX` the node's (through the head and
# Node.Observe); `manta logs -f --bytes 1` follows the head's log and
# prints the line the head writes when the node is killed -9 and declared
# dead, then ends on SIGINT with status 0; the dead node's log, an unknown
# node and bad options fail with a message; GET /api/logs answers the
# head's log. Every process is killed on exit.
set -euo pipefail
manta=$1 module=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
fail() {
  fail_showing_errors "logs test: $*"
}
# shellcheck source=../cluster/nodes.sh
. "$here/../cluster/nodes.sh"
trap 'kill_nodes; rm -rf "$work"' EXIT
export MANTA_STATE_DIR=$work/state
unset MANTA_TOKEN MANTA_TOKEN_FILE MANTA_ADDRESS MANTA_METRICS_PORT
export MANTA_HEARTBEAT_MS=200 MANTA_DEAD_AFTER_MS=1500 MANTA_LOG=info

start_node head --head --port 0 --metrics-port 0 --module "$module"
head_address=$address head_pid=$pid
start_node node --address "$head_address" --port 0 --module "$module"
node_address=$address node_pid=$pid
node_id=$("$manta" status --address "$head_address" |
  awk -v a="$node_address" '$1 == "node" && $3 == a { print $2 }')
[ -n "$node_id" ] || fail "the node is not in manta status"

"$manta" logs --address "$head_address" >"$work/head-log.out" 2>"$work/logs.err" ||
  fail "manta logs failed: $(cat "$work/logs.err")"
grep -qF "manta[$head_pid] info: cluster: head" "$work/head-log.out" ||
  fail "the head's log lacks its start: $(cat "$work/head-log.out")"
"$manta" logs "${node_id:0:6}" --address "$head_address" >"$work/node-log.out" \
  2>"$work/logs.err" || fail "manta logs NODE failed: $(cat "$work/logs.err")"
grep -qF "manta[$node_pid] info: cluster:" "$work/node-log.out" ||
  fail "the node's log is not the node's: $(cat "$work/node-log.out")"
grep -qF "manta[$head_pid]" "$work/node-log.out" &&
  fail "the node's log holds the head's lines"
cmp -s "$work/node-log.out" "$work/node.err" ||
  fail "manta logs NODE differs from the node's standard error"
echo "logs test: the head's and the node's logs, by default and by id prefix"

# Follow the head's log from its last byte (the newline it ends with:
# printed at once, so the follower is known to have started); the node's
# death is written there after.
"$manta" logs --address "$head_address" -f --bytes 1 >"$work/follow.out" \
  2>"$work/follow.err" &
follower=$!
node_pids+=("$follower")
for _ in $(seq 200); do
  [ -s "$work/follow.out" ] && break
  sleep 0.05
done
[ -s "$work/follow.out" ] || fail "manta logs -f printed nothing: $(cat "$work/follow.err")"
kill -9 "$node_pid"
for _ in $(seq 200); do
  grep -q "declared dead" "$work/follow.out" && break
  sleep 0.1
done
grep -q "node $node_id ($node_address) sent no heartbeat" "$work/follow.out" ||
  fail "manta logs -f did not print the node's death: $(cat "$work/follow.out")"
grep -qF "info: cluster: head" "$work/follow.out" &&
  fail "--bytes 1 printed the log from its start"
kill -INT "$follower"
rc=0
wait "$follower" || rc=$?
[ "$rc" = 0 ] || fail "manta logs -f ended with $rc on SIGINT: $(cat "$work/follow.err")"
echo "logs test: -f printed the head's new lines and stopped on SIGINT"

if "$manta" logs "$node_id" --address "$head_address" >/dev/null 2>"$work/dead.err"; then
  fail "the dead node's log was given"
fi
grep -q "is dead" "$work/dead.err" || fail "$(cat "$work/dead.err")"
if "$manta" logs ffffffffzz --address "$head_address" >/dev/null 2>"$work/none.err"; then
  fail "an unknown node's log was given"
fi
grep -q "no node ffffffffzz in the cluster" "$work/none.err" || fail "$(cat "$work/none.err")"
if "$manta" logs --bytes many >/dev/null 2>"$work/bad.err"; then
  fail "--bytes many was accepted"
fi
grep -q -- "--bytes takes a number" "$work/bad.err" || fail "$(cat "$work/bad.err")"
echo "logs test: a dead node, an unknown node and a bad option explained"

url=$(sed -n 's/.* metrics \(http:[^ ]*\)\/metrics.*/\1/p' "$work/head.out")
code=$(curl -sS --max-time 10 -o "$work/api-logs.out" -w '%{http_code}' "$url/api/logs")
[ "$code" = 200 ] || fail "GET /api/logs answered $code"
head -1 "$work/api-logs.out" | grep -q '^next [0-9]*$' || fail "no next offset"
grep -q "declared dead" "$work/api-logs.out" || fail "GET /api/logs is not the head's log"
echo "logs test: PASS"
