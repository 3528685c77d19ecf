#!/usr/bin/env bash
# The head's state on a store (docs/head-store.md), with a real
# redis-server started here on a random loopback port:
#
# 1. restart: a head on the store, two nodes (pg=1 each) and a driver
#    holding a named actor "keeper" and a placement group. The nodes are
#    stopped (SIGSTOP: they can announce nothing), the head is killed with
#    SIGKILL and a new one started on the same port and store: at once,
#    `manta status` lists the nodes as alive, keeper and the group, and a
#    new driver finds keeper; the nodes go on (SIGCONT) and that driver
#    reads keeper's count (5, the same instance); the holder's group still
#    places a task and keeper counts on (6). A named actor "doomed",
#    killed while no head ran (the drop of its name lost), is listed by
#    the new head until the nodes registered again and announced theirs,
#    then goes.
# 2. Redis killed while the cluster runs: a job across the nodes and a new
#    named actor work; the head logs the failure with the URL and cause and
#    `manta status` shows it; Redis started again (empty: no persistence)
#    gets the head's whole state written again.
# 3. A bad URL, a password in the URL, an unreachable store, --store on a
#    node: clear errors from `manta start`.
# 4. A Redis with a password: refused without it, with a password file
#    others may read, with a wrong one; served with the right one (read
#    from a 0600 file), which neither status nor the log shows.
#
# Skipped (77) when redis-server is not installed. Every process started
# here is killed on exit, pass or fail.
#
#   run-head-store-test.sh <manta> <store_driver> <cluster_module.so>
set -euo pipefail

manta=$1
driver=$2
module=$3
work=$(mktemp -d)
export MANTA_STATE_DIR=$work/state
unset MANTA_ADDRESS MANTA_TOKEN MANTA_TOKEN_FILE
# The nodes are stopped for a while below: long enough that the new head
# must not declare them dead meanwhile (sanitizer builds start slowly).
export MANTA_DEAD_AFTER_MS=30000
source "$(dirname "$0")/nodes.sh"
source "$(dirname "$0")/redis.sh"

stopped=()
before_cleanup() { # stopped nodes go on, to be stopped
  local p
  for p in "${stopped[@]}"; do kill -CONT "$p" 2>/dev/null || true; done
}
store_test_start

fail() {
  local f
  for f in "$work"/*.out; do
    [ -s "$f" ] && { echo "--- $f" >&2; tail -15 "$f" >&2; }
  done
  fail_showing_errors "$@"
}

status() { "$manta" status --address "$head" 2>&1; }

# wait_status PATTERN WHAT: `manta status` matches PATTERN within 60 s
# (bounded by time: one status takes long in a sanitizer build).
wait_status() {
  local until=$((SECONDS + 60))
  while [ "$SECONDS" -lt "$until" ]; do
    status | grep -q -- "$1" && return 0
    sleep 0.05
  done
  status >&2 || true
  fail "$2"
}

redis_start
url=redis://127.0.0.1:$redis_port
echo "== redis at $url"

start_node head --head --port 0 --num-cpus 1 --http-port off --store "$url" \
  --cluster-name t1
head=$address
head_pid=$pid
port=${head##*:}
start_node node_a --address "$head" --num-cpus 2 --resources pg=1 \
  --module "$module"
node_a=$pid
start_node node_b --address "$head" --num-cpus 2 --resources pg=1 \
  --module "$module"
node_b=$pid
wait_status ", 3 alive" "the head does not list its two nodes"
status | grep -q "store: $url/0 (cluster t1): ok" ||
  fail "status does not show the store: $(status | tail -3)"

echo "== 1. a head killed and started again on the store"
MANTA_TEST_STOP_FILE=$work/stop MANTA_TEST_KILL_FILE=$work/kill \
  MANTA_ADDRESS=$head "$driver" hold \
  >"$work/hold.out" 2>&1 &
hold=$!
node_pids+=("$hold")
for _ in $(seq 600); do
  grep -q "^held" "$work/hold.out" && break
  kill -0 "$hold" 2>/dev/null || fail "the holder ended early"
  sleep 0.05
done
grep -q "^held" "$work/hold.out" || fail "the holder never held its actor and group"
redis-cli -p "$redis_port" hexists manta:t1:actors keeper | grep -q 1 ||
  fail "keeper is not in Redis"

kill -9 "$head_pid"
wait "$head_pid" 2>/dev/null || true
# doomed dies while no head runs: its host's message dropping the name is
# lost, so the store still has it.
touch "$work/kill"
for _ in $(seq 400); do
  grep -q "^doomed killed" "$work/hold.out" && break
  sleep 0.05
done
grep -q "^doomed killed" "$work/hold.out" || fail "the holder did not kill doomed"
sleep 1 # the kill reaches its host, whose drop finds no head
# The nodes can announce nothing while the head restarts.
kill -STOP "$node_a" "$node_b"
stopped=("$node_a" "$node_b")
start_node head2 --head --port "$port" --num-cpus 1 --http-port off \
  --store "$url" --cluster-name t1
head_pid=$pid
[ "$address" = "$head" ] || fail "the head came back at $address"
# The dead head's lease names this address, where nothing listens: taken
# at once, without waiting for it to expire.
grep -q "nothing listens any more: its head died; taking it over" \
  "$work/head2.err" || fail "the new head did not take the dead head's lease over"
after=$(status)
grep -q ", 4 alive" <<<"$after" ||
  fail "the new head does not list the stored nodes as alive: $after"
grep -q "keeper" <<<"$after" || fail "the new head does not list keeper: $after"
grep -q "doomed" <<<"$after" ||
  fail "the new head does not list doomed (the store's stale name): $after"
grep -q "STRICT_PACK *CREATED" <<<"$after" ||
  fail "the new head does not list the placement group: $after"
MANTA_ADDRESS=$head "$driver" lookup >"$work/lookup.out" 2>&1 &
lookup=$!
node_pids+=("$lookup")
for _ in $(seq 400); do
  grep -q "lookup: found" "$work/lookup.out" && break
  kill -0 "$lookup" 2>/dev/null || break
  sleep 0.05
done
grep -q "lookup: found" "$work/lookup.out" ||
  fail "a new driver did not find keeper while the nodes were stopped"
kill -CONT "$node_a" "$node_b"
stopped=()
wait "$lookup" || fail "the lookup driver failed"
grep -q "keeper=5" "$work/lookup.out" || fail "keeper is not the same instance"
# The nodes registered again and announced their named actors: doomed,
# which no node announced, goes; keeper stays.
until=$((SECONDS + 60))
while status | grep -q "doomed" && [ "$SECONDS" -lt "$until" ]; do
  sleep 0.1
done
status | grep -q "doomed" && fail "doomed, dead while no head ran, is still listed"
grep -q "keeper" <<<"$(status)" || fail "keeper is gone after its node registered again"
touch "$work/stop"
wait "$hold" || fail "the holder failed after the restart"
grep -q "hold: ok" "$work/hold.out"
echo "restart: nodes, keeper and the group came back from the store"

echo "== 2. Redis killed while the cluster runs"
redis_stop
MANTA_ADDRESS=$head "$driver" work >"$work/work.out" 2>&1 ||
  fail "work failed while the store was away"
wait_status "store: $url/0 (cluster t1): FAILING" \
  "status does not show the store failing"
status | grep "store:"
grep -q "the store $url/0 failed: " "$work/head2.err" ||
  fail "the head did not log the store's failure with its URL"
grep "the store $url/0 failed" "$work/head2.err" | head -1
redis_start "$redis_port"
wait_status "store: $url/0 (cluster t1): ok" "the store never came back"
for _ in $(seq 200); do
  [ "$(redis-cli -p "$redis_port" hlen manta:t1:nodes)" -ge 2 ] && break
  sleep 0.05
done
[ "$(redis-cli -p "$redis_port" hlen manta:t1:nodes)" -ge 2 ] ||
  fail "the head's nodes were not written again"
grep -q "answers again" "$work/head2.err" ||
  fail "the head did not log that the store answers again"
echo "outage: work went on, reported, state written again"

echo "== 3. bad stores are refused clearly"
expect_refusal() {
  local want=$1
  shift
  if "$manta" start --foreground --head --port 0 --http-port off "$@" \
    >"$work/bad.out" 2>"$work/bad.txt"; then
    fail "manta start $* succeeded"
  fi
  grep -q -- "$want" "$work/bad.txt" ||
    fail "manta start $*: no '$want' in: $(cat "$work/bad.txt")"
  echo "refused: $* -> $(grep -m1 -- "$want" "$work/bad.txt")"
}
expect_refusal "takes redis://host:port" --store "http://127.0.0.1:1"
expect_refusal "expected redis://host:port" --store "redis://127.0.0.1:notaport"
expect_refusal "password in the URL" --store "redis://:secret@127.0.0.1:$redis_port"
expect_refusal "cannot be used: cannot connect to 127.0.0.1:1" \
  --store "redis://127.0.0.1:1"
expect_refusal "not usable as a key prefix" --store "$url" --cluster-name "a:b"
if "$manta" start --foreground --address "$head" --store "$url" \
  >/dev/null 2>"$work/bad.txt"; then
  fail "a node took --store"
fi
grep -q "are for the head" "$work/bad.txt" || fail "--store on a node: $(cat "$work/bad.txt")"

echo "== 4. a store with a password"
redis-cli -p "$redis_port" config set requirepass s3cret-pw >/dev/null
expect_refusal "NOAUTH" --store "$url"
printf 's3cret-pw\n' >"$work/pw"
chmod 644 "$work/pw"
expect_refusal "may be read by others" --store "$url" \
  --store-password-file "$work/pw"
chmod 600 "$work/pw"
printf 'wrong\n' >"$work/pw-wrong"
chmod 600 "$work/pw-wrong"
expect_refusal "AUTH: " --store "$url" --store-password-file "$work/pw-wrong"
start_node head_pw --head --port 0 --num-cpus 1 --http-port off \
  --store "$url" --cluster-name t2 --store-password-file "$work/pw"
pw_head=$address
"$manta" status --address "$pw_head" | grep -q "store: $url/0 (cluster t2): ok" ||
  fail "the head on a store with a password: $("$manta" status --address "$pw_head" | tail -2)"
"$manta" status --address "$pw_head" | grep -q "s3cret" &&
  fail "manta status shows the store's password"
grep -q "s3cret" "$work"/head_pw.* && fail "the head's output shows the password"
echo "password: read from a file only its owner may read, never shown"
# A head that stops on purpose closes its store (its last writes, the
# writer thread): it exits cleanly, leak-checked under ASan.
kill -TERM "$pid"
code=0
for _ in $(seq 400); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.05
done
wait "$pid" || code=$?
[ "$code" -eq 0 ] || fail "the head on the store exited with $code after SIGTERM"
echo "PASS"
