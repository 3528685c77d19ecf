#!/usr/bin/env bash
# Serve's echo at fixed request rates (open loop: serve_rate_gen sends on
# schedule whatever the answers do, and counts latency from the scheduled
# time) beside the floor, a plain libmicrohttpd server answering the same
# bytes, in the same run (docs/benchmarks.md, "Serve at a fixed rate").
# One JSON line per case and rate: floor, function route, actor route with
# 2 replicas.
#   bash bench/serve/rate.sh BUILD_DIR [seconds] [rate...]
set -euo pipefail
build=$1
secs=${2:-5}
shift $(($# < 2 ? $# : 2))
rates=("$@")
[ ${#rates[@]} -gt 0 ] || rates=(500 1000 2000 4000)
bin=$build/bench/serve
out=$(mktemp -d)
source "$(dirname "$0")/servers.sh"

# measure CASE PATH: one line per rate. A run that had errors still
# prints its line (the errors are in it).
measure() {
  local rate line
  for rate in "${rates[@]}"; do
    line=$("$bin/serve_rate_gen" "$hostport" "$2" "$rate" "$secs" || true)
    echo "{\"case\":\"$1\",${line#\{}"
  done
}

start "$bin/serve_floor_server" 0
measure floor "/echo?data=Hello"
stop
start "$bin/serve_bench_server" 0 2
measure function_route "/echo?data=Hello"
measure actor_route_2_replicas "/actor?data=Hello"
stop
