# Nodes as processes, for the tests that start a cluster on loopback
# (source this file): start a foreground node and wait until it serves;
# kill every node started. The caller sets $manta (the manta CLI) and $work
# (a folder for the nodes' output), and defines `fail MESSAGE`.

node_pids=()

# start_node NAME ARGS...: `manta start --foreground ARGS`, its output in
# $work/NAME.out and $work/NAME.err. Waits at most 10 s for it to serve and
# sets $address to where it does.
start_node() {
  local name=$1
  shift
  "$manta" start --foreground "$@" >"$work/$name.out" 2>"$work/$name.err" &
  local pid=$!
  node_pids+=("$pid")
  for _ in $(seq 200); do
    if grep -q " ready at " "$work/$name.out"; then
      address=$(sed -n 's/.* ready at \([^ ]*\) .*/\1/p' "$work/$name.out")
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || fail "$name exited before it was ready"
    sleep 0.05
  done
  fail "$name not ready after 10 s"
}

# kill_nodes: kill -9 every node started (for a trap on EXIT: pass or fail,
# none outlives the test).
kill_nodes() {
  local p
  for p in "${node_pids[@]}"; do
    kill -9 "$p" 2>/dev/null || true
  done
  wait 2>/dev/null || true
}
