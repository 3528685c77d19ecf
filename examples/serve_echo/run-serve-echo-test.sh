#!/usr/bin/env bash
# The echo example served on a free port and asked by curl (a real HTTP
# client): GET /echo?data=Hello answers "Received data: Hello".
#   run-serve-echo-test.sh SERVE_ECHO_BINARY
set -euo pipefail
bin=$1
out=$(mktemp)
"$bin" 0 >"$out" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -f "$out"' EXIT
url=
for _ in $(seq 100); do
  url=$(sed -n 's|^serving \(http://[^ ]*\)$|\1|p' "$out")
  [ -n "$url" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "serve_echo did not start:" >&2
  cat "$out" >&2
  exit 1
fi
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
trap 'rm -f "$out"' EXIT
echo "serve_echo: ok"
