#!/usr/bin/env bash
# Serve's echo under wrk beside the floor: a plain libmicrohttpd server
# answering the same bytes (floor_server.c), measured in the same run
# (docs/benchmarks.md, "Serve"). One JSON line per case:
#   floor, function route, actor route with 1 and 2 replicas, each at full
#   load (wrk -t1 -c16) and paced to at most half the floor's peak rate.
#   bash bench/serve/run.sh BUILD_DIR [seconds] [connections] [OTHER_BUILD]
# OTHER_BUILD: another build's serve_bench_server (an older commit's, say)
# measured in the same run too, its cases named "other_...".
# Needs wrk (Debian). Prints JSON lines on stdout.
set -euo pipefail
build=$1
secs=${2:-5}
conns=${3:-16}
other=${4:-}
here=$(cd "$(dirname "$0")" && pwd)
bin=$build/bench/serve
out=$(mktemp -d)
source "$here/servers.sh"

# to_ms VALUE: wrk's "512.00us" / "1.20ms" / "2.00s" in milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n *= 1000
    printf "%.3f", n }'
}

# measure NAME PATH DELAY_MS: one wrk run, one JSON line; sets $rps.
measure() {
  SERVE_BENCH_DELAY_MS=$3 wrk -t1 -c"$conns" -d"${secs}s" --latency \
    -s "$here/pace.lua" "$url$2" >"$out/wrk.txt"
  if ! grep -q "Received data\|Requests/sec" "$out/wrk.txt"; then
    cat "$out/wrk.txt" >&2
  fi
  rps=$(awk '/^Requests\/sec/ { print $2 }' "$out/wrk.txt")
  local p50 p99 errs
  p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out/wrk.txt")")
  p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out/wrk.txt")")
  errs=$(awk '/Non-2xx/ { print $NF }' "$out/wrk.txt")
  printf '{"case":"%s","seconds":%s,"connections":%s,"delay_ms":%s,"requests_per_s":%s,"p50_ms":%s,"p99_ms":%s,"non_2xx":%s}\n' \
    "$1" "$secs" "$conns" "$3" "$rps" "$p50" "$p99" "${errs:-0}"
}

# Every server binds port 0 and prints the port it got: a port picked
# before the bind could be taken by another process in between.
start "$bin/serve_floor_server" 0
measure floor /echo?data=Hello 0
floor_rps=$rps
# Paced near half the floor's peak: each connection waits conns / (rate /
# 2) seconds between requests, rounded up to whole milliseconds (wrk's
# timers), so the paced rate is at most half the peak; every case gets the
# same pacing and reports the rate it reached.
half_delay=$(awk -v c="$conns" -v r="$floor_rps" 'BEGIN { d = c * 2000 / r; printf "%d", d == int(d) ? d : int(d) + 1 }')
measure floor_paced /echo?data=Hello "$half_delay"
stop
# routes SERVER PREFIX: the function route and the actor route with 1 and
# 2 replicas, at full load and paced.
routes() {
  for replicas in 1 2; do
    start "$1" 0 "$replicas"
    if [ "$replicas" = 1 ]; then
      measure "${2}function_route" /echo?data=Hello 0
      measure "${2}function_route_paced" /echo?data=Hello "$half_delay"
    fi
    measure "${2}actor_route_${replicas}_replicas" /actor?data=Hello 0
    measure "${2}actor_route_${replicas}_replicas_paced" /actor?data=Hello \
      "$half_delay"
    stop
  done
}
routes "$bin/serve_bench_server" ""
if [ -n "$other" ]; then
  routes "$other/bench/serve/serve_bench_server" other_
fi
