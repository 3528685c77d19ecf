#!/usr/bin/env bash
# The multi-process cluster test: a head and two nodes (separate processes
# started with `manta start`), a driver joining them, on loopback with
# random free ports; more nodes join for later phases. Every process
# started here is killed on exit, pass or fail. The head makes the cluster
# token in the state folder; the nodes, drivers and `manta status` find it
# there, as a user's would. Run as root, a phase checks that another local
# user (nobody) is refused.
#
#   run-cluster-test.sh <manta> <cluster_driver> <cluster_module.so> \
#                       [<libmanta_examples.so>]
# (without the examples module, built only with the examples, the phase
# that calls them is skipped)
set -euo pipefail

manta=$1
driver=$2
module=$3
examples=${4:-}
work=$(mktemp -d)
export MANTA_STATE_DIR=$work/state
unset MANTA_ADDRESS MANTA_TOKEN
source "$(dirname "$0")/nodes.sh"

nobody_dir=
cleanup() {
  kill_nodes
  [[ -n $nobody_dir ]] && rm -rf "$nobody_dir"
  # Daemons started with `manta start` (no --foreground) live in a state
  # directory.
  MANTA_STATE_DIR=$work/daemon-state "$manta" stop >/dev/null 2>&1 || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# wait_status <head> <pattern>: until `manta status` shows a line matching
# pattern (at most 10 s; the driver phase that follows says what is missing).
wait_status() {
  for _ in $(seq 200); do
    "$manta" status --address "$1" 2>/dev/null | grep -q "$2" && return 0
    sleep 0.05
  done
}

echo "== a head and two nodes"
start_node head --head --port 0 --num-cpus 1
head=$address
# node_a alone has the resource side_a, node_b alone the class OnlyB
# (MANTA_TEST_CLASSES, cluster_module.c); MANTA_TEST_PIN gives each its own
# on_<pin>.* functions.
MANTA_TEST_PIN=a start_node node_a --address "$head" --num-cpus 2 \
  --resources side_a=1 --module "$module"
MANTA_TEST_PIN=b MANTA_TEST_CLASSES=OnlyB start_node node_b --address "$head" \
  --num-cpus 2 --module "$module"
wait_alive "$head" 3 2

echo "== driver: remote tasks"
MANTA_ADDRESS=$head "$driver" basic || fail "driver phase basic"
MANTA_ADDRESS=$head "$driver" burst || fail "driver phase burst"
MANTA_ADDRESS=$head "$driver" at_once || fail "driver phase at_once"

if [[ -n $examples ]]; then
  echo "== driver: the examples' functions, offered by a node's module"
  # A node of its own (the examples' Counter class would clash with the test
  # module's), stopped with SIGTERM after: it leaves the cluster at once.
  start_node node_ex --address "$head" --num-cpus 2 --module "$examples"
  ex_pid=$pid
  wait_status "$head" "functions  aggregate, .*square"
  MANTA_ADDRESS=$head "$driver" examples || fail "driver phase examples"
  stop_process node_ex "$ex_pid"
else
  echo "== (examples not built: their phase is skipped)"
fi

echo "== driver: objects across nodes"
MANTA_ADDRESS=$head "$driver" objects || fail "driver phase objects"

echo "== manta status"
status=$("$manta" status --address "$head")
echo "$status"
grep -q "^cluster: 3 node(s), 3 alive" <<<"$status" || fail "status counts"
[ "$(grep -Ec "functions  add, call_actor, fail, late, make_bytes, meet, nested, on_[ab]\.get_nested, .*sleep_then, step_bytes, sum_bytes, where" \
  <<<"$status")" -eq 2 ] || fail "status: the nodes' functions"
grep -q "classes    Counter, OnlyB" <<<"$status" || fail "status: classes"
grep -Eq "CPU [0-9.]+/2 free" <<<"$status" || fail "status: resources"
"$manta" status --address "$head" --json | grep -q '"nodes": \[' ||
  fail "status --json"
# --watch: snapshots one after another off a terminal, --count of them, or
# until SIGINT; bad values explained.
"$manta" status --address "$head" --watch 0.2 --count 3 >"$work/watch.out" ||
  fail "status --watch --count"
[ "$(grep -c "^== .*, every 0.2 s$" "$work/watch.out")" -eq 3 ] &&
  [ "$(grep -c "^cluster: 3 node(s), 3 alive" "$work/watch.out")" -eq 3 ] ||
  fail "status --watch 0.2 --count 3: $(head -5 "$work/watch.out")"
"$manta" status --address "$head" --watch 0.2 >"$work/watch2.out" &
watcher=$!
node_pids+=("$watcher")
for _ in $(seq 200); do
  [ "$(grep -c "^cluster: " "$work/watch2.out")" -ge 2 ] && break
  sleep 0.05
done
kill -INT "$watcher"
wait "$watcher" || fail "status --watch did not end cleanly on SIGINT"
[ "$(grep -c "^cluster: " "$work/watch2.out")" -ge 2 ] ||
  fail "status --watch: fewer than 2 snapshots before SIGINT"
for bad in "--watch 0" "--watch 0.2 --count 0" "--count 2"; do
  # shellcheck disable=SC2086 # the options are split on purpose
  if "$manta" status --address "$head" $bad >/dev/null 2>"$work/bad.err"; then
    fail "status $bad was accepted"
  fi
  grep -q -- "--" "$work/bad.err" || fail "status $bad: $(cat "$work/bad.err")"
done
if "$manta" status --address 127.0.0.1:1 2>"$work/nohead.err"; then
  fail "status against no head succeeded"
fi
grep -q "no head answers at 127.0.0.1:1" "$work/nohead.err" ||
  fail "status without a head: $(cat "$work/nohead.err")"

echo "== a foreign gRPC client (Python)"
if /usr/bin/python3 -c "import grpc, google.protobuf" 2>/dev/null &&
  command -v protoc >/dev/null; then
  mkdir -p "$work/py"
  # A foreign client has no state folder: it is given the token.
  MANTA_TOKEN=$(cat "$MANTA_STATE_DIR/token") \
    /usr/bin/python3 "$(dirname "$0")/interop.py" "$head" "$work/py" \
    "$(dirname "$0")/../../proto" || fail "python interop"
  # The foreign client with the token can do what it should; without it,
  # nothing (the run as another user follows).
  MANTA_TOKEN=$(cat "$MANTA_STATE_DIR/token") /usr/bin/python3 \
    "$(dirname "$0")/foreign_auth.py" "$head" "$work/py" \
    "$(dirname "$0")/../../proto" allowed || fail "foreign client with token"
  /usr/bin/python3 "$(dirname "$0")/foreign_auth.py" "$head" "$work/py" \
    "$(dirname "$0")/../../proto" refused || fail "foreign client, no token"
  # The node kept serving after the bad requests.
  MANTA_ADDRESS=$head "$driver" basic >/dev/null || fail "serving after interop"
else
  fail "python3-grpcio, python3-protobuf or protoc missing (scripts/install-deps.sh)"
fi

echo "== another local user (nobody) against this user's cluster"
if [[ $(id -u) -eq 0 ]] && command -v setpriv >/dev/null; then
  # nobody's own folder (mktemp: under /tmp, which nobody can reach; $work
  # is private to root).
  nobody_dir=$(mktemp -d)
  chown 65534:65534 "$nobody_dir"
  as_nobody() {
    setpriv --reuid=65534 --regid=65534 --clear-groups \
      env -u MANTA_TOKEN -u MANTA_TOKEN_FILE HOME="$nobody_dir" \
      MANTA_STATE_DIR="$nobody_dir/state" "$@"
  }
  if as_nobody "$manta" status --address "$head" >"$work/nobody.out" \
    2>"$work/nobody.err"; then
    fail "nobody listed the cluster: $(cat "$work/nobody.out")"
  fi
  grep -q "refused the token" "$work/nobody.err" ||
    fail "nobody's status: $(cat "$work/nobody.err")"
  # root's state folder is no help to nobody: refused, not used.
  if as_nobody env MANTA_STATE_DIR="$MANTA_STATE_DIR" "$manta" status \
    --address "$head" 2>"$work/nobody2.err"; then
    fail "nobody listed the cluster with root's state folder"
  fi
  grep -q "state folder" "$work/nobody2.err" ||
    fail "nobody with root's folder: $(cat "$work/nobody2.err")"
  head_id=$("$manta" status --address "$head" | sed -n 's/^node \([0-9a-f]*\) .* head .*/\1/p')
  as_nobody /usr/bin/python3 "$(dirname "$0")/foreign_auth.py" "$head" \
    "$nobody_dir" "$(cd "$(dirname "$0")/../../proto" && pwd)" refused \
    "$head_id" || fail "foreign client as nobody"
  "$manta" status --address "$head" | grep -q "^cluster: 3 node(s), 3 alive" ||
    fail "the cluster changed after nobody's calls"
else
  echo "(not root, or no setpriv: the phase as another user is skipped)"
fi

echo "== tokens (a daemon head, stopped with manta stop)"
# Its own state directory: manta stop stops every node listed there.
export MANTA_STATE_DIR=$work/daemon-state
mkdir -m 700 "$work/secrets"
printf 'a-long-enough-s3cret\n' >"$work/secrets/token"
chmod 644 "$work/secrets/token"
if "$manta" start --head --port 0 --token-file "$work/secrets/token" \
  2>"$work/tf.err"; then
  fail "a token file others can read was accepted"
fi
grep -q "mode 0644: other users may read" "$work/tf.err" ||
  fail "token file check: $(cat "$work/tf.err")"
chmod 600 "$work/secrets/token"
"$manta" start --head --port 0 --num-cpus 1 \
  --token-file "$work/secrets/token" >"$work/th.out" ||
  fail "daemon head did not start"
theaded=$(sed -n 's/^manta: head started at \([^ ]*\) .*/\1/p' "$work/th.out")
[ -n "$theaded" ] || fail "no address in: $(cat "$work/th.out")"
[ ! -e "$MANTA_STATE_DIR/token" ] || fail "a token was made beside one given"
if MANTA_TOKEN=wrong-but-long-enough "$manta" status --address "$theaded" \
  2>"$work/tok.err"; then
  fail "status with a wrong token succeeded"
fi
grep -q "refused the token" "$work/tok.err" || fail "token: $(cat "$work/tok.err")"
if MANTA_TOKEN=short "$manta" status --address "$theaded" 2>"$work/tok.err"; then
  fail "status with a short token succeeded"
fi
grep -q "at least 16 bytes" "$work/tok.err" || fail "short: $(cat "$work/tok.err")"
if MANTA_TOKEN="                    " "$manta" status --address "$theaded" \
  2>"$work/tok.err"; then
  fail "status with a token of spaces succeeded"
fi
grep -q "only spaces" "$work/tok.err" || fail "spaces: $(cat "$work/tok.err")"
MANTA_TOKEN=a-long-enough-s3cret "$manta" status --address "$theaded" |
  grep -q "1 alive" || fail "status with the right token"
"$manta" status --address "$theaded" --token-file "$work/secrets/token" |
  grep -q "1 alive" || fail "status --token-file"
"$manta" status --address "$theaded" --token a-long-enough-s3cret \
  2>"$work/tok.err" | grep -q "1 alive" || fail "status --token"
grep -q "warning: --token is visible to other users" "$work/tok.err" ||
  fail "no warning for --token: $(cat "$work/tok.err")"
MANTA_TOKEN=wrong-but-long-enough MANTA_ADDRESS=$theaded "$driver" token ||
  fail "driver phase token"
grep -q "stopped head" <<<"$("$manta" stop)" || fail "manta stop"
if MANTA_TOKEN=a-long-enough-s3cret "$manta" status --address "$theaded" \
  2>/dev/null; then
  fail "the head still answers after manta stop"
fi
export MANTA_STATE_DIR=$work/state

echo "== driver: actors across nodes"
MANTA_ADDRESS=$head "$driver" actors || fail "driver phase actors"
status=$("$manta" status --address "$head")
grep -Eq "^  shared +Counter +on node [0-9a-f]{16}" <<<"$status" ||
  fail "status does not list the named actor: $status"
MANTA_ADDRESS=$head "$driver" actors_lookup || fail "driver phase actors_lookup"
"$manta" status --address "$head" | grep -q "^named actors: none" ||
  fail "status still lists a named actor"

echo "== driver: scheduling strategies (node s is killed on the way)"
MANTA_TEST_PIN=s start_node node_s --address "$head" --num-cpus 2 \
  --module "$module"
wait_alive "$head" 4 3
MANTA_ADDRESS=$head "$driver" strategies || fail "driver phase strategies"

echo "== placement groups (a cluster of their own: head, nodes p and q)"
# Slow heartbeats keep the head's view of free resources stale for long, so
# that the nodes' refusal to prepare what is not free there is exercised.
export MANTA_HEARTBEAT_MS=2000 MANTA_DEAD_AFTER_MS=20000
start_node pg_head --head --port 0 --num-cpus 1
pg_head=$address
for n in p q; do
  start_node "pg_$n" --address "$pg_head" --num-cpus 2 --resources pg=2 \
    --module "$module"
done
wait_alive "$pg_head" 3 2
MANTA_TEST_CLI=$manta MANTA_ADDRESS=$pg_head "$driver" pg ||
  fail "driver phase pg"
status=$("$manta" status --address "$pg_head")
grep -q "^placement groups: none" <<<"$status" ||
  fail "status still lists a placement group: $status"
unset MANTA_HEARTBEAT_MS MANTA_DEAD_AFTER_MS

echo "== a placement group's bundle lost with its node (head, nodes l1-l3)"
start_node lost_head --head --port 0 --num-cpus 1
lost_head=$address
for n in 1 2 3; do
  start_node "pg_l$n" --address "$lost_head" --num-cpus 2 --resources pg=2 \
    --module "$module"
done
wait_alive "$lost_head" 4 3
MANTA_ADDRESS=$lost_head "$driver" pg_lost || fail "driver phase pg_lost"

echo "== kill -9 of a node mid-job"
MANTA_ADDRESS=$head "$driver" failover || fail "driver phase failover"

echo "== kill -9 of the node hosting an actor mid-calls"
MANTA_TEST_CLASSES=Fragile start_node node_c --address "$head" --num-cpus 1 \
  --module "$module"
wait_status "$head" "classes    Counter, Fragile"
MANTA_ADDRESS=$head "$driver" actor_death || fail "driver phase actor_death"

echo "== an object lost with its node"
MANTA_TEST_PIN=c start_node node_lost --address "$head" --num-cpus 1 --module "$module"
wait_status "$head" "on_c.pid"
MANTA_ADDRESS=$head "$driver" lost || fail "driver phase lost"
echo "PASS"
