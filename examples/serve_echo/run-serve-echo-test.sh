#!/usr/bin/env bash
# The echo example served on a free port and asked by curl (a real HTTP
# client): GET /echo?data=Hello answers "Received data: Hello".
#   run-serve-echo-test.sh SERVE_ECHO_BINARY
set -euo pipefail
bin=$1
dir=$(mktemp -d)
source "$(dirname "$0")/../serving.sh"
pid=
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
start_serving "$dir" "$bin" 0
got=$(curl -sS --max-time 10 "$url?data=Hello")
echo "$got"
[ "$got" = "Received data: Hello" ]
# Without data: the function's INVALID error is a 400 naming what to give.
code=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "$url")
[ "$code" = 400 ] || { echo "no data gave $code, expected 400" >&2; exit 1; }
# A path no route covers.
code=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "${url%/echo}/nope")
[ "$code" = 404 ] || { echo "/nope gave $code, expected 404" >&2; exit 1; }
kill -INT "$pid"
wait "$pid"
echo "serve_echo: ok"
