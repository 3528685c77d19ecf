#!/usr/bin/env bash
# The dashboard's JSON API over real HTTP (docs/observability.md):
#   run-api-test.sh MANTA_CLI METRICS_DRIVER CLUSTER_MODULE
# 1. a head and a node; a driver runs tasks, failing tasks and actor calls;
#    the head's /api/cluster lists both nodes alive with their reports,
#    the functions' counts summed over the nodes, p50/p99, the errors with
#    their origin; the slices (/api/nodes ...) and /api/node agree; an
#    unknown API path is 404 JSON;
# 2. the node killed with SIGKILL: the head's API marks it dead and still
#    answers;
# 3. a head bound beyond loopback with a token (and TLS): every route,
#    the page included, is 401 without the token or with a wrong one; the
#    header and the login cookie both open it; a browser without the
#    token gets the login page.
# Every process started is killed on exit, pass or fail.
set -euo pipefail
manta=$1 driver=$2 module=$3
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
fail() {
  fail_showing_errors "api test: $*"
}
# shellcheck source=../cluster/nodes.sh
. "$here/../cluster/nodes.sh"
trap 'kill_nodes; rm -rf "$work"' EXIT
for tool in curl python3; do
  command -v "$tool" >/dev/null || fail "$tool is missing"
done
export MANTA_STATE_DIR=$work/state
unset MANTA_TOKEN MANTA_TOKEN_FILE MANTA_ADDRESS MANTA_METRICS_PORT
# A node is declared dead after 1.5 s of silence (the default is 3 s).
export MANTA_HEARTBEAT_MS=200 MANTA_DEAD_AFTER_MS=1500

get() { # get URL FILE [curl args]: the status code
  local url=$1 out=$2
  shift 2
  curl -sS --max-time 20 -o "$out" -w '%{http_code}' "$@" "$url"
}
# check FILE PYTHON: runs PYTHON with d = the JSON of FILE; it must print
# nothing (anything printed is the failure).
check() {
  local msg
  msg=$(python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
$2" "$1" 2>&1) || fail "checking $1: $msg"
  [ -z "$msg" ] || fail "$msg (in $1: $(head -c 1500 "$1"))"
}

# --- 1. the cluster's document ----------------------------------------------
start_node head --head --port 0 --metrics-port 0 --module "$module"
head_address=$address
base=$(sed -n 's/.* metrics \(http:[^ ]*\)\/metrics.*/\1/p' "$work/head.out")
[ -n "$base" ] || fail "the head printed no HTTP URL: $(cat "$work/head.out")"
start_node node --address "$head_address" --port 0 --module "$module"
node_pid=$pid node_address=$address
MANTA_ADDRESS=$head_address "$driver" 25 3 7 >"$work/driver.out" \
  2>"$work/driver.err" || fail "the driver failed"
[ "$(get "$base/api/cluster" "$work/cluster.json")" = 200 ] ||
  fail "GET /api/cluster did not answer 200"
check "$work/cluster.json" "
alive = [n for n in d['nodes'] if n['state'] == 'alive']
addrs = sorted(n['address'] for n in alive)
if addrs != sorted(['$head_address', '$node_address']): print('alive nodes:', addrs)
for n in alive:
    if not n['report']: print('no report from', n['address'], n['report_error'])
    elif n['report']['node_id'] != n['node_id']: print('report of another node')
    if n['heartbeat_age_seconds'] > 5: print('stale heartbeat', n)
    if not any(r['name'] == 'CPU' for r in n['resources']): print('no CPU', n)
f = {x['name']: x for x in d['functions']}
if f['add']['finished'] != 25 or f['add']['failed'] != 0: print('add:', f['add'])
if f['fail']['finished'] != 3 or f['fail']['failed'] != 3: print('fail:', f['fail'])
if f['add']['p50_seconds'] is None or f['add']['p99_seconds'] < f['add']['p50_seconds']: print('quantiles:', f['add'])
if d['totals']['tasks_finished'] != 28: print('totals:', d['totals'])
errs = [e for e in d['errors'] if e['what'] == 'function fail']
if len(errs) != 3: print('errors:', d['errors'])
for e in errs:
    if e['code'] != 'MANTA_ERR_TASK_FAILED' or 'on node ' + e['node_id'] not in e['origin']: print('error origin:', e)
calls = sum(c['calls'] for n in alive for c in n['report']['classes'] if c['name'] == 'Counter')
if calls != 7: print('Counter calls:', calls)
"
echo "api test: /api/cluster lists both nodes, summed counts, quantiles, errors with origin"
for part in nodes functions actors errors totals; do
  [ "$(get "$base/api/$part" "$work/$part.json")" = 200 ] ||
    fail "GET /api/$part did not answer 200"
  check "$work/$part.json" "
whole = json.load(open('$work/cluster.json'))['$part']
if type(d) != type(whole): print('/api/$part is not the cluster document\'s $part')"
done
check "$work/functions.json" "
if sum(f['finished'] for f in d if f['name'] == 'add') != 25: print(d)"
[ "$(get "$base/api/node" "$work/node.json")" = 200 ] || fail "GET /api/node"
check "$work/node.json" "
if d['address'] != '$head_address': print('the head answered for', d['address'])"
[ "$(get "$base/api/nope" "$work/nope.json")" = 404 ] || fail "an unknown API path did not answer 404"
[ "$(get "$base/" "$work/index.html")" = 200 ] || fail "GET / did not answer 200"
grep -q '<script src="/dashboard.js">' "$work/index.html" || fail "/ is not the dashboard"
[ "$(get "$base/dashboard.js" /dev/null)" = 200 ] || fail "GET /dashboard.js"
echo "api test: slices, /api/node, 404, the page and its script"

# --- 2. a node killed ---------------------------------------------------------
kill -9 "$node_pid"
dead=0
for _ in $(seq 100); do
  if [ "$(get "$base/api/nodes" "$work/nodes2.json")" = 200 ] &&
    python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if any(n['address'] == '$node_address' and n['state'] == 'dead' for n in d) else 1)
" "$work/nodes2.json"; then
    dead=1
    break
  fi
  sleep 0.1
done
[ "$dead" = 1 ] || fail "the killed node is not dead in /api/nodes: $(cat "$work/nodes2.json")"
check "$work/nodes2.json" "
h = [n for n in d if n['address'] == '$head_address']
if not h or h[0]['state'] != 'alive' or not h[0]['report']: print('the head is not alive with its report')"
echo "api test: the killed node is dead in the API, the head still answers"

# --- 3. the token beyond loopback -------------------------------------------
mkdir -m 700 "$work/state2"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/token"
chmod 600 "$work/token"
token=$(cat "$work/token")
bash "$here/../../scripts/tls-generate.sh" "$work/tls" >"$work/tls.out" 2>&1 ||
  fail "tls-generate.sh: $(cat "$work/tls.out")"
MANTA_STATE_DIR=$work/state2 start_node open --head --bind 0.0.0.0 --port 0 \
  --metrics-port 0 --token-file "$work/token" --tls-cert "$work/tls/node.pem" \
  --tls-key "$work/tls/node.key" --tls-ca "$work/tls/ca.pem"
open=$(sed -n 's/.* metrics https:\/\/[^ ]*:\([0-9]*\)\/metrics.*/https:\/\/127.0.0.1:\1/p' \
  "$work/open.out")
[ -n "$open" ] || fail "the open head printed no https URL: $(cat "$work/open.out")"
tget() {
  get "$@" --cacert "$work/tls/ca.pem"
}
for path in / /dashboard.js /dashboard.css /api/cluster /api/node /api/nodes \
  /api/functions /api/actors /api/errors /api/totals /api/nope /login.html; do
  code=$(tget "$open$path" "$work/no.out")
  [ "$code" = 401 ] || fail "$path without the token answered $code, not 401"
  code=$(tget "$open$path" /dev/null -H "Authorization: Bearer wrong-$token")
  [ "$code" = 401 ] || fail "$path with a wrong token answered $code, not 401"
  code=$(tget "$open$path" /dev/null -H "Cookie: manta_token=wrong-$token")
  [ "$code" = 401 ] || fail "$path with a wrong cookie answered $code, not 401"
done
code=$(tget "$open/api/cluster" "$work/open.json" -H "Authorization: Bearer $token")
[ "$code" = 200 ] || fail "/api/cluster with the token answered $code"
check "$work/open.json" "
if d['totals']['nodes_alive'] != 1: print('open head:', d['totals'])"
code=$(tget "$open/api/cluster" /dev/null -H "Cookie: manta_token=$token")
[ "$code" = 200 ] || fail "/api/cluster with the login cookie answered $code"
code=$(tget "$open/" "$work/page.html" -H "Cookie: manta_token=$token")
[ "$code" = 200 ] || fail "/ with the login cookie answered $code"
grep -q '/dashboard.js' "$work/page.html" || fail "/ with the cookie is not the page"
# A browser without the token: 401, and the body is the login page.
code=$(tget "$open/" "$work/login.html" -H "Accept: text/html,*/*")
[ "$code" = 401 ] || fail "a browser's / answered $code, not 401"
grep -q 'asks for the cluster token' "$work/login.html" ||
  fail "a browser without the token did not get the login page"
grep -q 'api/\|dashboard.js' "$work/login.html" &&
  fail "the login page shows more than the form"
echo "api test: beyond loopback, 401 on every route without the token; header and cookie open it; browsers get the login page"
echo "api test: PASS"
