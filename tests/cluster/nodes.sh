# Nodes as processes, for the tests that start a cluster on loopback
# (source this file): start a foreground node (or any process that prints
# " ready at ADDR") and wait until it serves; stop one; kill every one
# started. The caller sets $manta (the manta CLI) and $work
# (a folder for the nodes' output).

node_pids=()

# fail_showing_errors MESSAGE: MESSAGE and the last lines of every
# non-empty $work/*.err on stderr, then exit 1 (the body of a test's
# `fail`).
fail_showing_errors() {
  local f
  echo "FAIL: $*" >&2
  for f in "$work"/*.err; do
    [ -s "$f" ] && { echo "--- $f" >&2; tail -20 "$f" >&2; }
  done
  exit 1
}

# fail MESSAGE: fail_showing_errors, and exit 1 (the caller's EXIT trap stops
# the nodes). A caller may define its own after sourcing this file.
fail() {
  fail_showing_errors "$@"
}

# start_process NAME COMMAND...: runs COMMAND in the background, its output
# in $work/NAME.out and $work/NAME.err, and waits until it prints " ready at
# ADDR" (at most $node_wait_s seconds, default 10); sets $address and $pid.
start_process() {
  local name=$1 steps=$((${node_wait_s:-10} * 20))
  shift
  # Created here, not by the background job's redirection, which may come
  # after the first grep below on a busy machine.
  : >"$work/$name.out"
  "$@" >"$work/$name.out" 2>"$work/$name.err" &
  pid=$!
  node_pids+=("$pid")
  for _ in $(seq "$steps"); do
    if grep -qs " ready at " "$work/$name.out"; then
      address=$(sed -n 's/.* ready at \([^ ]*\) .*/\1/p' "$work/$name.out")
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || fail "$name exited before it was ready"
    sleep 0.05
  done
  fail "$name not ready after ${node_wait_s:-10} s"
}

# start_node NAME ARGS...: `manta start --foreground ARGS` (start_process).
start_node() {
  local name=$1
  shift
  start_process "$name" "$manta" start --foreground "$@"
}

# stop_process NAME PID: SIGTERM, then at most $node_wait_s seconds to exit.
stop_process() {
  kill -TERM "$2"
  for _ in $(seq $((${node_wait_s:-10} * 20))); do
    kill -0 "$2" 2>/dev/null || { wait "$2" 2>/dev/null || true; return 0; }
    sleep 0.05
  done
  fail "$1 did not stop within ${node_wait_s:-10} s of SIGTERM"
}

# kill_nodes: kill -9 every node started (for a trap on EXIT: pass or fail,
# none outlives the test).
kill_nodes() {
  local p
  for p in "${node_pids[@]}"; do
    # Disowned first: the shell would otherwise report "Killed" on stderr
    # whenever it happens to reap the job, and an output check would fail.
    disown "$p" 2>/dev/null || true
    kill -9 "$p" 2>/dev/null || true
  done
  for p in "${node_pids[@]}"; do
    for _ in $(seq 100); do
      kill -0 "$p" 2>/dev/null || break
      sleep 0.05
    done
  done
}

# A driver run in the background by a test script ($driver_pid, its output
# in $work/driver.out), which it talks with through files in $work/sync.
# driver_reached NAME: the driver wrote $work/sync/NAME (at most 60 s).
driver_reached() {
  for _ in $(seq 1200); do
    [ -e "$work/sync/$1" ] && return 0
    kill -0 "$driver_pid" 2>/dev/null || break
    sleep 0.05
  done
  [ -e "$work/sync/$1" ] && return 0
  cat "$work/driver.out"
  fail "the driver did not reach '$1'"
}

# driver_finish PHASE: waits for the driver, shows its output; fails if it
# did.
driver_finish() {
  local status=0
  wait "$driver_pid" || status=$?
  cat "$work/driver.out"
  [ "$status" -eq 0 ] || fail "driver phase $1 (exit $status)"
}

# wait_offered HEAD NAME N: N live nodes offer NAME, a function or class, in
# `manta status` of HEAD (at most 20 s).
wait_offered() {
  local st
  for _ in $(seq 400); do
    st=$("$manta" status --address "$1" 2>/dev/null || true)
    [ "$(grep -o "\b$2\b" <<<"$st" | wc -l)" -ge "$3" ] && return 0
    sleep 0.05
  done
  "$manta" status --address "$1" || true
  fail "$3 nodes do not offer $2"
}

# start_metrics_node NAME ARGS...: start_node serving /metrics on a free
# port; its URL joins the array $urls (the caller's).
start_metrics_node() {
  local name=$1
  shift
  start_node "$name" --port 0 --metrics-port 0 --num-cpus 1 "$@"
  local url
  url=$(sed -n 's/.* metrics \(http:[^ ]*\).*/\1/p' "$work/$name.out")
  [ -n "$url" ] || fail "$name printed no metrics URL"
  urls+=("$url")
}

# peer_views UP DOWN URL...: every node's /metrics at URL lists UP nodes up
# and DOWN down (manta_peer_up: its view of the cluster), within a bounded
# wait; fails naming the node that does not.
peer_views() {
  local want_up=$1 want_down=$2 url up down
  shift 2
  for url in "$@"; do
    for _ in $(seq 400); do
      curl -sS --max-time 5 -o "$work/m.txt" "$url" || true
      up=$(grep -c '^manta_peer_up{.*} 1$' "$work/m.txt" || true)
      down=$(grep -c '^manta_peer_up{.*} 0$' "$work/m.txt" || true)
      [ "$up" = "$want_up" ] && [ "$down" = "$want_down" ] && break
      sleep 0.05
    done
    [ "$up" = "$want_up" ] && [ "$down" = "$want_down" ] ||
      fail "$url lists $up node(s) up and $down down, not $want_up and" \
        "$want_down"
  done
}

# wait_alive <head> <n> <m>: until the head lists n live nodes, m of them
# offering the module's functions (functions starting with `add`), 10 s
# at most.
wait_alive() {
  local st
  for _ in $(seq 200); do
    st=$("$manta" status --address "$1" 2>/dev/null || true)
    if grep -q ", $2 alive" <<<"$st" &&
      [ "$(grep -c "functions  add," <<<"$st")" -eq "$3" ]; then
      return 0
    fi
    sleep 0.05
  done
  "$manta" status --address "$1" || true
  fail "the head does not list $2 live nodes"
}
