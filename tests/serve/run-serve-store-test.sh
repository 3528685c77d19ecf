#!/usr/bin/env bash
# Serve routes in the head's store (docs/serve.md, "Routes across the
# cluster"; docs/head-store.md), with a real redis-server on a random
# loopback port: a head on the store and node A (each with an ingress);
# routes deployed through A; then A and the head are killed with kill -9
# (nobody is left to announce the routes again), a new head is started on
# the same store and a new node C (which never saw the routes) joins: C's
# ingress and the new head's serve them, from the store alone. A route
# deleted through C is gone from the store too: a third head started on it
# does not serve it. Skipped (77) without redis-server. Every process
# started here is killed on exit, pass or fail.
#
#   run-serve-store-test.sh <manta> <libmanta_examples.so>
set -euo pipefail

manta=$1
examples=$2
work=$(mktemp -d)
export MANTA_STATE_DIR=$work/state
unset MANTA_ADDRESS MANTA_TOKEN MANTA_TOKEN_FILE MANTA_SERVE_ADDRESS \
  MANTA_TLS_CERT MANTA_TLS_KEY MANTA_TLS_CA
here=$(dirname "$0")
source "$here/../cluster/nodes.sh"
source "$here/../cluster/redis.sh"
store_test_start

source "$(dirname "$0")/serve_helpers.sh"
stop_hard() { # PID: kill -9, waited for
  kill -9 "$1"
  wait "$1" 2>/dev/null || true
}

redis_start
store=redis://127.0.0.1:$redis_port
start_node head --head --port 0 --http-port 0 --num-cpus 1 --store "$store"
head=$address head_pid=$pid
port=${head##*:}
start_node a --address "$head" --module "$examples" --num-cpus 2 --http-port 0
a=$(serve_address a) a_pid=$pid
cat >"$work/routes.yaml" <<'YAML'
deployments:
  - route: /echo
    function: echo
  - route: /counter
    class: ServeCounter
    replicas: 1
YAML
"$manta" serve deploy "$work/routes.yaml" --http "$a" >"$work/deploy.out" ||
  fail "deploy through a: $(cat "$work/deploy.out")"
until_body "http://$a/echo?data=Hello" "Received data: Hello" "a's echo"
for _ in $(seq 200); do
  [ "$(redis-cli -p "$redis_port" --raw hlen manta:default:routes 2>/dev/null)" = 2 ] && break
  sleep 0.05
done
[ "$(redis-cli -p "$redis_port" --raw hlen manta:default:routes)" = 2 ] ||
  fail "the store does not hold the 2 routes: $(redis-cli -p "$redis_port" keys '*')"
echo "serve store: 2 routes deployed through a, in the store"

# Nobody left who deployed them: the store alone brings them back.
stop_hard "$a_pid"
stop_hard "$head_pid"
start_node head2 --head --port "$port" --http-port 0 --num-cpus 1 --store "$store"
head2_pid=$pid
h2=$(serve_address head2)
start_node c --address "$head" --module "$examples" --num-cpus 2 --http-port 0
c=$(serve_address c)
until_body "http://$c/echo?data=Again" "Received data: Again" \
  "c's echo (a route only the store knew)"
until_status "http://$c/counter/increment" 200 "c's counter"
until_body "http://$h2/echo?data=Head" "Received data: Head" "the new head's echo"
echo "serve store: after kill -9 of a and the head, a new head and node c serve them"

# A delete reaches the store: a head started on it afterwards serves the
# route left, not the deleted one.
"$manta" serve delete /echo --http "$c" >"$work/delete.out" ||
  fail "delete through c: $(cat "$work/delete.out")"
until_status "http://$c/echo?data=x" 404 "c after the delete"
for _ in $(seq 200); do
  [ "$(redis-cli -p "$redis_port" --raw hlen manta:default:routes)" = 1 ] && break
  sleep 0.05
done
[ "$(redis-cli -p "$redis_port" --raw hlen manta:default:routes)" = 1 ] ||
  fail "the deleted route is still in the store"
stop_hard "$head2_pid"
start_node head3 --head --port "$port" --http-port 0 --num-cpus 1 --store "$store"
h3=$(serve_address head3)
until_status "http://$h3/counter/increment" 200 "the third head's counter"
until_status "http://$h3/echo?data=x" 404 "the third head's deleted echo"
echo "serve_store: ok"
