#!/usr/bin/env bash
# Routes shared across a cluster and kept over a head restart (docs/serve.md,
# "Routes across the cluster"), every process real: a head and two nodes,
# each with its own ingress (--http-port 0). Routes deployed through node
# A's ingress are served by B's and the head's; the head is killed with
# kill -9 and started again on its port, and its new ingress serves the
# routes the nodes announced again; a route deleted through B stops being
# served by A and the head, though A (stopped across the restart) announces
# it to the new head after the delete; a redeploy through B reaches A.
#
#   run-serve-shared-test.sh <manta> <libmanta_examples.so>
set -euo pipefail

manta=$1
examples=$2
work=$(mktemp -d)
export MANTA_STATE_DIR=$work/state
unset MANTA_ADDRESS MANTA_TOKEN MANTA_TOKEN_FILE MANTA_SERVE_ADDRESS
unset MANTA_TLS_CERT MANTA_TLS_KEY MANTA_TLS_CA
source "$(dirname "$0")/../cluster/nodes.sh"
cleanup() {
  [ -n "${a_pid:-}" ] && kill -CONT "$a_pid" 2>/dev/null
  kill_nodes
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

source "$(dirname "$0")/serve_helpers.sh"

start_node head --head --port 0 --http-port 0 --num-cpus 1
head=$address
head_pid=$pid
port=${head##*:}
h=$(serve_address head)
# a logs at info: the test waits below for its line saying it announced
# its routes to a new head.
MANTA_LOG=info start_node a --address "$head" --module "$examples" \
  --num-cpus 2 --http-port 0
a=$(serve_address a)
a_pid=$pid
start_node b --address "$head" --module "$examples" --num-cpus 2 --http-port 0
b=$(serve_address b)
[ -n "$h" ] && [ -n "$a" ] && [ -n "$b" ] ||
  fail "an ingress address is missing: head '$h', a '$a', b '$b'"

cat >"$work/routes.yaml" <<'YAML'
deployments:
  - route: /echo
    function: echo
  - route: /counter
    class: ServeCounter
    replicas: 2
YAML
"$manta" serve deploy "$work/routes.yaml" --http "$a" >"$work/deploy.out" ||
  fail "deploy through a: $(cat "$work/deploy.out")"

# Served by the ingress it was deployed through, and by the others.
until_body "http://$a/echo?data=Hello" "Received data: Hello" "a's echo"
until_body "http://$b/echo?data=Hello" "Received data: Hello" "b's echo"
until_body "http://$h/echo?data=Hello" "Received data: Hello" "the head's echo"
until_status "http://$b/counter/increment" 200 "b's counter"
"$manta" serve status --http "$b" >"$work/status_b.out"
grep -q "^/counter -> class ServeCounter" "$work/status_b.out" ||
  fail "b's status lacks the counter: $(cat "$work/status_b.out")"
echo "serve shared: deployed through a, served by a, b and the head"

# The head dies hard and comes back on its port: the nodes register again
# and announce their routes to it; its new ingress serves them. a is
# stopped meanwhile (SIGSTOP), so only b announces; a sees the new head
# only after the delete below, and its late announce of /echo must not
# bring the deleted route back.
kill -STOP "$a_pid"
kill -9 "$head_pid"
wait "$head_pid" 2>/dev/null || true
start_node head2 --head --port "$port" --http-port 0 --num-cpus 1
[ "$address" = "$head" ] || fail "the head came back at $address, not $head"
h2=$(serve_address head2)
[ -n "$h2" ] || fail "the new head printed no serve address"
until_body "http://$h2/echo?data=Again" "Received data: Again" \
  "the restarted head's echo (routes announced again)"
until_body "http://$b/echo?data=Again" "Received data: Again" \
  "b's echo after the head restart"
echo "serve shared: after kill -9 of the head, the new head serves the routes"

# Deleted through b: gone from a and from the head, though a announces
# it to the new head after the delete.
"$manta" serve delete /echo --http "$b" >"$work/delete.out" ||
  fail "delete through b: $(cat "$work/delete.out")"
until_status "http://$h2/echo?data=x" 404 "the head after the delete"
kill -CONT "$a_pid"
for _ in $(seq 1200); do
  grep -q "announcing this node's routes again" "$work/a.err" && break
  sleep 0.05
done
grep -q "announcing this node's routes again" "$work/a.err" ||
  fail "a never announced its routes to the new head"
until_status "http://$a/echo?data=x" 404 "a after the delete through b"
until_status "http://$h2/echo?data=x" 404 "the head after the delete"
# Redeployed through b with another target kind: a follows.
printf 'route: /echo\nclass: ServeCounter\nmethod: increment\nreplicas: 1\n' \
  >"$work/redeploy.yaml"
"$manta" serve deploy "$work/redeploy.yaml" --http "$b" >"$work/redeploy.out" ||
  fail "redeploy through b: $(cat "$work/redeploy.out")"
for _ in $(seq 300); do
  "$manta" serve status --http "$a" 2>/dev/null | grep -q "^/echo -> class ServeCounter" && break
  sleep 0.05
done
"$manta" serve status --http "$a" >"$work/status_a.out"
grep -q "^/echo -> class ServeCounter" "$work/status_a.out" ||
  fail "a did not follow the redeploy through b: $(cat "$work/status_a.out")"
until_status "http://$a/echo" 200 "a's redeployed route"
echo "serve shared: a delete and a redeploy through b reached a and the head"
echo "serve_shared: ok"
