#!/usr/bin/env bash
# Autoscaling across a cluster (docs/serve.md, "Autoscaling"): a head
# serving routes and two nodes offering the test module's Counter; a route
# with min 1, max 4 replicas and a target of 1 request in flight per
# replica grows under 8 slow requests at once, its replicas spread over
# both nodes, every request answers 200, and it shrinks back to 1 after.
#
#   run-serve-autoscale-test.sh <manta> <cluster_module.so>
set -euo pipefail
manta=$1
module=$2
work=$(mktemp -d)
export MANTA_STATE_DIR=$work/state
unset MANTA_ADDRESS MANTA_TOKEN MANTA_TOKEN_FILE MANTA_SERVE_ADDRESS
source "$(dirname "$0")/../cluster/nodes.sh"
load_pids=()
cleanup() {
  local p
  for p in "${load_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  kill_nodes
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

start_node head --head --port 0 --http-port 0 --num-cpus 1
head=$address
http=$(sed -n 's|.* serve http://\([^ ]*\).*|\1|p' "$work/head.out")
start_node n1 --address "$head" --module "$module" --num-cpus 4
start_node n2 --address "$head" --module "$module" --num-cpus 4
for _ in $(seq 200); do
  [ "$("$manta" status --address "$head" 2>/dev/null | grep -c "Counter")" -ge 2 ] && break
  sleep 0.05
done
printf 'route: /slow\nclass: Counter\nmethod: serve_slow\nmin_replicas: 1\nmax_replicas: 4\ntarget_ongoing_requests: 1\n' \
  >"$work/slow.yaml"
"$manta" serve deploy "$work/slow.yaml" --http "$http" >/dev/null || fail "deploy"
# The head's view lists both nodes' classes by the time one answers.
for _ in $(seq 200); do
  [ "$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' "http://$http/slow?ms=1")" = 200 ] && break
  sleep 0.05
done

replicas() { # the active replicas' nodes, one per line
  "$manta" serve status --json --http "$http" | python3 -c '
import json, sys
for r in json.load(sys.stdin):
    if r["route"] == "/slow":
        for rep in r["replicas"]:
            print(rep.get("node", "?"))'
}
[ "$(replicas | wc -l)" = 1 ] || fail "the route does not start at min_replicas"
for i in $(seq 8); do
  curl -s --max-time 60 -o /dev/null -w '%{http_code}\n' \
    "http://$http/slow?ms=4000" >"$work/load$i" &
  load_pids+=($!)
done
grown=0
nodes=0
for _ in $(seq 200); do # bounded: 10 s
  replicas >"$work/reps"
  n=$(wc -l <"$work/reps")
  [ "$n" -gt "$grown" ] && grown=$n
  nodes=$(sort -u "$work/reps" | wc -l)
  [ "$grown" -ge 3 ] && [ "$nodes" -ge 2 ] && break
  sleep 0.05
done
[ "$grown" -ge 3 ] || fail "the route grew to $grown replicas only"
[ "$nodes" -ge 2 ] || fail "the replicas did not spread over the nodes: $(cat "$work/reps")"
echo "serve autoscale: grew to $grown replicas on $nodes nodes"
wait "${load_pids[@]}"
load_pids=()
[ "$(cat "$work"/load* | grep -cx 200)" = 8 ] ||
  fail "requests lost while scaling: $(cat "$work"/load* | tr '\n' ' ')"
shrunk=0
for _ in $(seq 300); do # bounded: 15 s
  shrunk=$(replicas | wc -l)
  [ "$shrunk" = 1 ] && break
  sleep 0.05
done
[ "$shrunk" = 1 ] || fail "the route did not shrink back to 1: $shrunk"
echo "serve autoscale: every request answered; back to 1 replica"
echo "serve_autoscale: ok"
