# A throwaway Redis for the head's store tests and benchmark (source this
# file): redis-server on a random loopback port, no persistence, in a
# folder of its own. The caller sets $work and kills it with redis_stop
# (from its EXIT trap too).

redis_pid=
redis_port=

# redis_start [PORT]: starts redis-server (on PORT, else a random free
# one) and waits until it answers PING (at most 10 s); sets $redis_port and
# $redis_pid.
redis_start() {
  local want=${1:-} tries
  mkdir -p "$work/redis"
  for tries in $(seq 20); do
    redis_port=${want:-$((20000 + RANDOM % 30000))}
    redis-server --port "$redis_port" --bind 127.0.0.1 --save "" \
      --appendonly no --dir "$work/redis" --protected-mode yes \
      >"$work/redis/redis-$redis_port.log" 2>&1 &
    redis_pid=$!
    for _ in $(seq 200); do
      if redis-cli -p "$redis_port" ping 2>/dev/null | grep -q PONG; then
        return 0
      fi
      kill -0 "$redis_pid" 2>/dev/null || break
      sleep 0.05
    done
    kill -9 "$redis_pid" 2>/dev/null || true
    wait "$redis_pid" 2>/dev/null || true
    redis_pid=
    [ -z "$want" ] || break # that port it must be
  done
  echo "FAIL: redis-server did not start (see $work/redis/)" >&2
  return 1
}

# redis_stop: kill -9 of the server started (if any), waited for.
redis_stop() {
  if [ -n "$redis_pid" ]; then
    kill -9 "$redis_pid" 2>/dev/null || true
    wait "$redis_pid" 2>/dev/null || true
    redis_pid=
  fi
}

# redis_missing: true (with the reason on stdout) when no redis-server.
redis_missing() {
  if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
    echo "SKIP: redis-server/redis-cli not installed (Debian: redis-server;" \
      "scripts/install-deps.sh)"
    return 0
  fi
  return 1
}

# store_test_start: what a test of a head on a store does first, after
# sourcing nodes.sh and this file with $work set: the store's variables
# unset, skipped (exit 77) without redis-server, and an EXIT trap that runs
# the caller's before_cleanup (if it defines one), stops the nodes and
# Redis, and removes $work.
store_test_start() {
  unset MANTA_HEAD_STORE MANTA_CLUSTER_NAME MANTA_STORE_PASSWORD \
    MANTA_STORE_PASSWORD_FILE
  if redis_missing; then
    rm -rf "$work"
    exit 77
  fi
  trap store_test_cleanup EXIT
}

store_test_cleanup() {
  if declare -F before_cleanup >/dev/null; then
    before_cleanup
  fi
  kill_nodes
  redis_stop
  wait 2>/dev/null || true
  rm -rf "$work"
}
