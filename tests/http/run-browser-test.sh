#!/usr/bin/env bash
# The dashboard in headless Chromium (tests/http/dashboard_browser.py):
#   run-browser-test.sh MANTA_CLI METRICS_DRIVER CLUSTER_MODULE [SCREENSHOT]
# A head and two nodes on loopback; the page lists the three, shows the
# tasks-finished count rising while a driver runs tasks, and marks a node
# dead after kill -9, with no console error. SCREENSHOT (optional): where
# to save the page during the job (docs/dashboard.png is made this way).
# Every process started is killed on exit, pass or fail.
set -euo pipefail
manta=$1 driver=$2 module=$3 shot=${4:--}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
fail() {
  fail_showing_errors "browser test: $*"
}
# shellcheck source=../cluster/nodes.sh
. "$here/../cluster/nodes.sh"
trap 'kill_nodes; rm -rf "$work"' EXIT
export MANTA_STATE_DIR=$work/state
unset MANTA_TOKEN MANTA_TOKEN_FILE MANTA_ADDRESS MANTA_METRICS_PORT
export MANTA_HEARTBEAT_MS=200 MANTA_DEAD_AFTER_MS=1500

start_node head --head --port 0 --metrics-port 0 --module "$module"
head_address=$address
url=$(sed -n 's/.* metrics \(http:[^ ]*\)\/metrics.*/\1\//p' "$work/head.out")
[ -n "$url" ] || fail "the head printed no HTTP URL: $(cat "$work/head.out")"
start_node node1 --address "$head_address" --port 0 --module "$module"
start_node node2 --address "$head_address" --port 0 --module "$module"
victim_pid=$pid victim_address=$address
# Failing tasks and actor calls first: the page lists their errors.
MANTA_ADDRESS=$head_address "$driver" 20 3 5 >"$work/first.out" \
  2>"$work/first.err" || fail "the first driver failed"
# The job: many add tasks, one after another, for as long as the browser
# watches (the browser test stops it).
MANTA_ADDRESS=$head_address python3 "$here/dashboard_browser.py" "$url" 3 \
  "$victim_pid" "$victim_address" "$shot" -- "$driver" 100000000 0 0 ||
  fail "the browser test failed"
