#!/usr/bin/env bash
# The node's /metrics over real HTTP (docs/observability.md):
#   run-metrics-test.sh MANTA_CLI METRICS_DRIVER CLUSTER_MODULE
# 1. a head started as `manta start --head --metrics-port 0` prints its
#    metrics URL, and `manta status` shows it; a driver runs tasks, failing tasks and actor calls there;
#    the counters rise by exactly what ran, a 3 MB result fetched by the
#    driver is counted as sent by the head, and `promtool check metrics`
#    accepts the page before and after;
# 2. bad requests (unknown path, wrong method, oversized header) get 404,
#    405, 431 and the node keeps serving;
# 3. a head bound to 0.0.0.0 with a token given on purpose refuses a
#    request without the token or with a wrong one (401) and answers one
#    with it (requests go to 127.0.0.1 only);
# 4. a taken port, a bad --metrics-port and a bad MANTA_METRICS_PORT fail
#    with a message naming the cause.
# Every process started is killed on exit, pass or fail.
set -euo pipefail
manta=$1 driver=$2 module=$3
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
fail() {
  fail_showing_errors "metrics test: $*"
}
# shellcheck source=../cluster/nodes.sh
. "$here/../cluster/nodes.sh"
trap 'kill_nodes; rm -rf "$work"' EXIT
for tool in curl promtool; do
  command -v "$tool" >/dev/null ||
    fail "$tool is missing (bash scripts/install-deps.sh installs it)"
done
export MANTA_STATE_DIR=$work/state
unset MANTA_TOKEN MANTA_TOKEN_FILE MANTA_ADDRESS MANTA_METRICS_PORT

# value FILE SERIES: the sample of that exact series (name{labels}).
value() {
  awk -v k="$2" '$1 == k { print $2; found = 1 } END { if (!found) print "missing" }' "$1"
}
# delta NAME SERIES WANT: the series rose from before to after by WANT.
delta() {
  local b a
  b=$(value "$work/before.txt" "$1")
  a=$(value "$work/after.txt" "$1")
  [ "$b" != missing ] && [ "$a" != missing ] ||
    fail "$1 is missing from /metrics (before: $b, after: $a)"
  [ $((a - b)) -eq "$2" ] || fail "$1 rose by $((a - b)), not $2 ($b -> $a)"
}
scrape() {
  curl -sS --max-time 10 -o "$2" -w '%{http_code}' "$1"
}
lint() {
  promtool check metrics <"$1" >"$work/promtool.out" 2>&1 ||
    fail "promtool check metrics rejects $1: $(cat "$work/promtool.out")"
}

# --- 1. counters over real HTTP -------------------------------------------
start_node head --head --port 0 --metrics-port 0 --module "$module"
head_address=$address head_pid=$pid
url=$(sed -n 's/.* metrics \(http:[^ ]*\).*/\1/p' "$work/head.out")
[ -n "$url" ] || fail "the head printed no metrics URL: $(cat "$work/head.out")"
case $url in http://127.0.0.1:*/metrics) ;; *) fail "metrics not on loopback: $url" ;; esac
[ "$(scrape "$url" "$work/before.txt")" = 200 ] || fail "GET $url did not answer 200"
# The head advertises it (NodeInfo.metrics_address): `manta status` shows it.
for _ in $(seq 100); do
  "$manta" status >"$work/status.out" 2>&1 || true
  grep -qxF "    metrics    $url" "$work/status.out" && break
  sleep 0.05
done
grep -qxF "    metrics    $url" "$work/status.out" ||
  fail "manta status does not show $url: $(cat "$work/status.out")"
lint "$work/before.txt"
MANTA_ADDRESS=$head_address "$driver" 25 3 7 3000000 >"$work/driver.out" 2>"$work/driver.err" ||
  fail "the driver failed"
[ "$(scrape "$url" "$work/after.txt")" = 200 ] || fail "second GET did not answer 200"
lint "$work/after.txt"
delta 'manta_tasks_finished_total{function="add"}' 25
delta 'manta_tasks_submitted_total{function="add"}' 25
delta 'manta_task_run_seconds_count{function="add"}' 25
delta 'manta_tasks_failed_total{function="add"}' 0
delta 'manta_tasks_finished_total{function="fail"}' 3
delta 'manta_tasks_failed_total{function="fail"}' 3
delta 'manta_actor_calls_total{class="Counter"}' 7
# The histogram's buckets never go down, and +Inf holds every run.
awk '/^manta_task_run_seconds_bucket\{function="add",/ {
       if ($2 < last) { print "bucket went down: " $0; bad = 1 } last = $2 }
     END { exit bad }' "$work/after.txt" || fail "add's histogram is not cumulative"
[ "$(value "$work/after.txt" 'manta_task_run_seconds_bucket{function="add",le="+Inf"}')" = \
  "$(value "$work/after.txt" 'manta_task_run_seconds_count{function="add"}')" ] ||
  fail "add's +Inf bucket is not its count"
grep -q '^manta_peer_up{node="[0-9a-f]\{16\}"} 1$' "$work/after.txt" ||
  fail "no peer is up in the head's view"
grep -q 'task_id\|{task=' "$work/after.txt" && fail "a per-task label leaked"
# The driver fetched make_bytes' 3 MB result from the head (chunks of at
# most 1 MiB, each with a small header): the head counts what it sent.
awk '/^manta_transfer_sent_bytes_total\{node="[0-9a-f]+"\} / && $2 >= 3000000 { ok = 1 }
     END { exit !ok }' "$work/after.txt" ||
  fail "the head did not count 3 MB sent: $(grep transfer "$work/after.txt")"
# gRPC traffic: the driver's tasks, results and the fetched chunks came and
# went as messages, in calls the head answered; none failed.
for series in manta_grpc_messages_received_total manta_grpc_messages_sent_total \
  'manta_grpc_calls_total{side="server",code="OK"}'; do
  b=$(value "$work/before.txt" "$series")
  a=$(value "$work/after.txt" "$series")
  [ "$b" != missing ] && [ "$a" != missing ] && [ "$a" -gt "$b" ] ||
    fail "$series did not rise ($b -> $a)"
done
[ "$(value "$work/after.txt" 'manta_grpc_messages_sent_total')" -ge 3 ] ||
  fail "fewer gRPC messages sent than the 3 MB result's chunks"
grep -q '^manta_grpc_calls_total{side="server",code="UNAUTHENTICATED"}' "$work/after.txt" &&
  fail "an UNAUTHENTICATED call was counted on a head nobody was refused by"
echo "metrics test: counters rose by what ran; promtool accepts the page"

# --- 2. bad requests --------------------------------------------------------
base=${url%/metrics}
[ "$(scrape "$base/nope" /dev/null)" = 404 ] || fail "an unknown path did not answer 404"
code=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' -X POST "$url")
[ "$code" = 405 ] || fail "POST answered $code, not 405"
big=$(head -c 20000 /dev/zero | tr '\0' a)
code=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' -H "X-Big: $big" "$url")
[ "$code" = 431 ] || fail "a 20 KB header answered $code, not 431"
[ "$(scrape "$url" /dev/null)" = 200 ] || fail "the node stopped serving after bad requests"
echo "metrics test: 404, 405, 431 answered; the node kept serving"

# --- 3. the token beyond loopback, over HTTPS ---------------------------
# A bind beyond loopback needs TLS too; the metrics port then speaks HTTPS
# with the node's certificate (made here by the project's script).
mkdir -m 700 "$work/state2"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/token"
chmod 600 "$work/token"
bash "$here/../../scripts/tls-generate.sh" "$work/tls" >"$work/tls.out" 2>&1 ||
  fail "tls-generate.sh: $(cat "$work/tls.out")"
MANTA_STATE_DIR=$work/state2 start_node open --head --bind 0.0.0.0 --port 0 \
  --metrics-port 0 --token-file "$work/token" --tls-cert "$work/tls/node.pem" \
  --tls-key "$work/tls/node.key" --tls-ca "$work/tls/ca.pem"
open_pid=$pid
open_url=$(sed -n 's/.* metrics https:\/\/[^ ]*:\([0-9]*\)\/metrics.*/https:\/\/127.0.0.1:\1\/metrics/p' \
  "$work/open.out")
[ -n "$open_url" ] || fail "the open head printed no https metrics URL: $(cat "$work/open.out")"
tls_curl() {
  curl -sS --max-time 10 --cacert "$work/tls/ca.pem" "$@"
}
code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' \
  "http://${open_url#https://}" || true)
[ "$code" != 200 ] || fail "the TLS node's metrics answered plain HTTP"
code=$(tls_curl -o "$work/open.txt" -w '%{http_code}' "$open_url")
[ "$code" = 401 ] || fail "a request without the token answered $code, not 401"
code=$(tls_curl -o /dev/null -w '%{http_code}' \
  -H "Authorization: Bearer not-the-token-at-all-0123456789" "$open_url")
[ "$code" = 401 ] || fail "a wrong token answered $code, not 401"
# A gRPC call with a wrong token is refused, and counted as an error.
echo not-the-token-at-all-0123456789 >"$work/wrong-token"
chmod 600 "$work/wrong-token"
if "$manta" status --address "$address" --token-file "$work/wrong-token" \
  --tls-cert "$work/tls/node.pem" --tls-key "$work/tls/node.key" \
  --tls-ca "$work/tls/ca.pem" >"$work/refused.out" 2>&1; then
  fail "manta status with a wrong token was answered: $(cat "$work/refused.out")"
fi
code=$(tls_curl -o "$work/open.txt" -w '%{http_code}' \
  -H "Authorization: Bearer $(cat "$work/token")" "$open_url")
[ "$code" = 200 ] || fail "the right token answered $code, not 200"
grep -q '^manta_node_info{' "$work/open.txt" || fail "no metrics with the token"
refused=$(value "$work/open.txt" 'manta_grpc_calls_total{side="server",code="UNAUTHENTICATED"}')
[ "$refused" != missing ] && [ "$refused" -ge 1 ] ||
  fail "the refused call is not counted: $(grep manta_grpc_calls "$work/open.txt")"
echo "metrics test: beyond loopback, HTTPS with the node's certificate; 401 without the token, 200 with it"

# --- 4. clear errors ---------------------------------------------------------
taken=${url#http://127.0.0.1:}
taken=${taken%/metrics}
if MANTA_STATE_DIR=$work/state "$manta" start --foreground --head --port 0 \
  --metrics-port "$taken" >"$work/taken.out" 2>"$work/taken.err"; then
  fail "a head started on the taken metrics port $taken"
fi
grep -q "port is taken" "$work/taken.err" ||
  fail "a taken port was not named as the cause: $(cat "$work/taken.err")"
if "$manta" start --head --metrics-port 70000 >/dev/null 2>"$work/badport.err"; then
  fail "--metrics-port 70000 was accepted"
fi
grep -q -- "--metrics-port takes a port number" "$work/badport.err" ||
  fail "a bad --metrics-port was not explained: $(cat "$work/badport.err")"
if MANTA_METRICS_PORT=abc MANTA_ADDRESS=$head_address "$driver" 0 0 0 \
  >/dev/null 2>"$work/badenv.err"; then
  fail "MANTA_METRICS_PORT=abc was accepted"
fi
grep -q "MANTA_METRICS_PORT='abc' is not a port" "$work/badenv.err" ||
  fail "a bad MANTA_METRICS_PORT was not explained: $(cat "$work/badenv.err")"
echo "metrics test: taken port, bad flag and bad variable explained"

# --- 5. the heads stop cleanly (a sanitizer build reports leaks here) -------
for name in head open; do
  p=head_pid
  [ "$name" = open ] && p=open_pid
  kill -TERM "${!p}"
  rc=0
  wait "${!p}" || rc=$?
  [ "$rc" = 0 ] || fail "$name exited with $rc after SIGTERM"
  if grep -q "Sanitizer" "$work/$name.err"; then
    fail "$name: sanitizer report: $(grep -m3 Sanitizer "$work/$name.err")"
  fi
done
echo "metrics test: both heads stopped cleanly"
echo "metrics test: PASS"
