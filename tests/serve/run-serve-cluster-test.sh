#!/usr/bin/env bash
# Serve in a cluster, every process real: a head serving routes
# (--http-port 0) and two nodes offering the examples' echo function and
# ServeCounter class. `manta serve deploy` refused without the token (401)
# and accepted with it; the echo and a 2-replica counter answered through
# the head by curl, the replicas on the nodes; a redeploy while requests
# run in a loop loses none; a node killed with kill -9 loses its replica,
# which is replaced on the other node while the route keeps answering;
# `manta serve delete` removes a route.
#
#   run-serve-cluster-test.sh <manta> <libmanta_examples.so>
set -euo pipefail

manta=$1
examples=$2
work=$(mktemp -d)
export MANTA_STATE_DIR=$work/state
unset MANTA_ADDRESS MANTA_TOKEN MANTA_TOKEN_FILE MANTA_SERVE_ADDRESS
source "$(dirname "$0")/../cluster/nodes.sh"
loop_pids=()
cleanup() {
  local p
  for p in "${loop_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  kill_nodes
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

start_node head --head --port 0 --http-port 0 --num-cpus 1
head=$address
http=$(sed -n 's|.* serve http://\([^ ]*\).*|\1|p' "$work/head.out")
[ -n "$http" ] || fail "the head printed no serve address: $(cat "$work/head.out")"
start_node n1 --address "$head" --module "$examples" --num-cpus 2
n1_pid=$pid
start_node n2 --address "$head" --module "$examples" --num-cpus 2
for _ in $(seq 200); do
  [ "$("$manta" status --address "$head" 2>/dev/null | grep -c "ServeCounter")" -ge 2 ] && break
  sleep 0.05
done

cat >"$work/routes.yaml" <<'YAML'
# the echo and the counter of examples/
deployments:
  - route: /echo
    function: echo
  - route: /counter
    class: ServeCounter
    replicas: 2
    timeout_ms: 5000
    idempotent: true
YAML

# Without the token (a state folder that holds none): refused.
mkdir -m 700 "$work/empty"
if MANTA_STATE_DIR=$work/empty "$manta" serve deploy "$work/routes.yaml" \
  --http "$http" >"$work/notoken.out" 2>&1; then
  fail "deploy without the token was accepted"
fi
grep -q "401 unauthorized" "$work/notoken.out" ||
  fail "deploy without the token: $(cat "$work/notoken.out")"
# A bad file is refused naming why, and deploys nothing.
printf 'route: /x\nfunction: echo\nreplicas: 2\n' >"$work/bad.yaml"
if "$manta" serve deploy "$work/bad.yaml" --http "$http" >"$work/bad.out" 2>&1; then
  fail "a function deployment with replicas was accepted"
fi
grep -q "'replicas' and 'method' are for class" "$work/bad.out" ||
  fail "bad file: $(cat "$work/bad.out")"
# With the token (found in the state folder, as a user's would be).
"$manta" serve deploy "$work/routes.yaml" --http "$http" >"$work/deploy.out" ||
  fail "deploy: $(cat "$work/deploy.out")"
grep -q '"deployed":\["/echo","/counter"\]' "$work/deploy.out" ||
  fail "deploy said: $(cat "$work/deploy.out")"

# The head's own view of the nodes follows the directory by a heartbeat:
# until it lists the nodes' functions, calls say no node offers them.
for _ in $(seq 200); do
  got=$(curl -sS --max-time 10 "http://$http/echo?data=Hello" || true)
  [ "$got" = "Received data: Hello" ] && break
  sleep 0.05
done
[ "$got" = "Received data: Hello" ] || fail "echo through the head: $got"
echo "$got"
# Replicas made before the view had the class are dead: deploy again now.
# On a busy machine the head's view may still hold one of the two nodes
# then, and SPREAD places both replicas on the one it knows; deploying
# again (bounded) must reach one replica per node once the view is whole.
spread_deploy() {
  "$manta" serve deploy "$work/routes.yaml" --http "$http" >/dev/null ||
    fail "deploy again"
  "$manta" serve status --http "$http" >"$work/status.out"
  [ "$(sed -n 's/^  replica [01]  node \([0-9a-f]*\) .*/\1/p' "$work/status.out" | sort -u | wc -l)" = 2 ]
}
for _ in $(seq 20); do
  spread_deploy && break
  sleep 0.5
done

# count_replicas N: N POSTs to the counter; prints the replicas that
# answered, sorted, one per line; fails on any status but 200.
count_replicas() {
  local i
  for i in $(seq "$1"); do
    curl -sS --max-time 10 -o /dev/null -D - -X POST \
      "http://$http/counter/increment" |
      tr -d '\r' | sed -n 's/^X-Manta-Replica: //p'
  done | sort -u
}
[ "$(count_replicas 20 | tr '\n' ' ')" = "0 1 " ] ||
  fail "both counter replicas should answer"
"$manta" serve status --http "$http" >"$work/status.out"
version=$(sed -n 's/^\/counter -> class ServeCounter  version \([0-9]*\) .*/\1/p' "$work/status.out")
[ -n "$version" ] && [ "$version" -ge 2 ] ||
  fail "status: $(cat "$work/status.out")"
grep -c "^  replica [01]  node [0-9a-f]\{16\}  " "$work/status.out" | grep -qx 2 ||
  fail "status lists two replicas with their nodes: $(cat "$work/status.out")"
# SPREAD: one replica on each node.
[ "$(sed -n 's/^  replica [01]  node \([0-9a-f]*\) .*/\1/p' "$work/status.out" | sort -u | wc -l)" = 2 ] ||
  fail "the replicas share a node: $(cat "$work/status.out")"

# Redeploy while two loops of requests run: every request answers 200.
loop() {
  local i
  for i in $(seq 150); do
    curl -sS --max-time 10 -o /dev/null -w '%{http_code}\n' -X POST \
      "http://$http/counter/increment" || echo curl-failed
  done >"$work/loop$1"
}
loop 1 &
loop_pids+=($!)
loop 2 &
loop_pids+=($!)
for _ in 1 2 3; do
  sleep 0.2
  "$manta" serve deploy "$work/routes.yaml" --http "$http" >/dev/null ||
    fail "redeploy during the loop"
done
wait "${loop_pids[@]}"
loop_pids=()
codes=$(cat "$work/loop1" "$work/loop2" | sort | uniq -c | tr -s ' ')
echo "during redeploys:$codes"
[ "$(cat "$work/loop1" "$work/loop2" | grep -cx 200)" -eq 300 ] ||
  fail "requests lost during redeploy: $codes"
"$manta" serve status --http "$http" |
  grep -q "^/counter -> class ServeCounter  version $((version + 3)) " ||
  fail "version $((version + 3)) after three more redeploys: $("$manta" serve status --http "$http")"

# A route whose replicas are probed (health check every 200 ms): the kill
# below is noticed by the probe, with no request sent to it.
cat >"$work/probed.yaml" <<'YAML'
route: /probed
class: ServeCounter
method: increment
replicas: 2
health_check_method: healthy
health_check_period_ms: 200
health_check_timeout_ms: 3000
YAML
"$manta" serve deploy "$work/probed.yaml" --http "$http" >/dev/null ||
  fail "deploy the probed route"
replaced_of() { # ROUTE: the status's replaced count
  "$manta" serve status --json --http "$http" | python3 -c '
import json, sys
print([r for r in json.load(sys.stdin) if r["route"] == sys.argv[1]][0]["replaced"])' "$1"
}
probed_before=$(replaced_of /probed)

# kill -9 the first node: its replica is lost and replaced on the other.
disown "$n1_pid" 2>/dev/null || true
kill -9 "$n1_pid"
probed_after=$probed_before
for _ in $(seq 200); do
  probed_after=$(replaced_of /probed)
  [ "$probed_after" -gt "$probed_before" ] && break
  sleep 0.05
done
[ "$probed_after" -gt "$probed_before" ] ||
  fail "the health probe did not replace the killed node's replica"
echo "the health probe replaced the killed node's replica of /probed"
ok_run=0
seen=
for i in $(seq 300); do
  code=$(curl -sS --max-time 10 -o "$work/body" -D "$work/head" \
    -w '%{http_code}' -X POST "http://$http/counter/increment" || echo 000)
  case $code in
  200)
    ok_run=$((ok_run + 1))
    seen="$seen $(tr -d '\r' <"$work/head" | sed -n 's/^X-Manta-Replica: //p')"
    ;;
  503 | 504) ok_run=0 ;;
  *) fail "after the kill: status $code $(cat "$work/body")" ;;
  esac
  [ "$ok_run" -ge 20 ] && break
  sleep 0.05
done
[ "$ok_run" -ge 20 ] || fail "the route did not recover after the kill"
last=$(echo "$seen" | tr ' ' '\n' | tail -20 | sort -u | tr '\n' ' ')
echo "after the kill, the last 20 answers came from replicas: $last"
[ "$last" = "0 1 " ] || fail "both replicas answer after the kill"
grep -q "serve: route /counter replica [01] was lost (.*): replaced" \
  "$work/head.err" || fail "the head did not replace the lost replica"
# idempotent: the requests that met the lost replica were sent again.
"$manta" serve status --json --http "$http" >"$work/status.json"
python3 -c '
import json, sys
r = {x["route"]: x for x in json.load(open(sys.argv[1]))}["/counter"]
assert r["idempotent"] is True and r["retried"] >= 1, r
print("retried after the kill:", r["retried"])' "$work/status.json" ||
  fail "no request was retried: $(cat "$work/status.json")"

"$manta" serve delete /echo --http "$http" >/dev/null || fail "delete /echo"
code=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "http://$http/echo?data=x")
[ "$code" = 404 ] || fail "deleted route answered $code"
if "$manta" serve delete /echo --http "$http" 2>"$work/del.err"; then
  fail "deleting a missing route succeeded"
fi
grep -q "no route /echo" "$work/del.err" || fail "delete twice: $(cat "$work/del.err")"
echo "serve cluster: ok"
