#!/usr/bin/env bash
# Chooses the node's HTTP library by measurement (docs/observability.md):
# builds one throwaway server per candidate, loads each with wrk on
# loopback, and prints one JSON line per candidate.
#   bash bench/http/run.sh [seconds]
# Needs libmicrohttpd-dev, libevent-dev and wrk (Debian packages).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
secs=${1:-5}
out=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$out"' EXIT
gcc -O2 -o "$out/mhd" "$here/mhd_server.c" -lmicrohttpd
gcc -O2 -o "$out/evhttp" "$here/evhttp_server.c" -levent
port=18180
for name in mhd evhttp; do
  port=$((port + 1))
  "$out/$name" "$port" &
  pids+=($!)
  sleep 0.3
  wrk -t1 -c16 -d"${secs}s" --latency "http://127.0.0.1:$port/metrics" \
    >"$out/$name.txt"
  rps=$(awk '/^Requests\/sec/ { print $2 }' "$out/$name.txt")
  p50=$(awk '$1 == "50%" { print $2 }' "$out/$name.txt")
  p99=$(awk '$1 == "99%" { print $2 }' "$out/$name.txt")
  printf '{"server":"%s","seconds":%s,"connections":16,"requests_per_s":%s,"p50":"%s","p99":"%s"}\n' \
    "$name" "$secs" "$rps" "$p50" "$p99"
done
