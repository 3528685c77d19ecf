#!/usr/bin/env bash
# The counter behind HTTP, 2 replicas, asked by curl: 20 POSTs to
# /counter/increment; every answer names its replica (body and the
# X-Manta-Replica header agree), both replicas answer, each counts its own
# requests 1, 2, 3, ... and the counts add up to 20. An unknown method is
# a 404 and a GET of the route alone names what to call.
#   run-serve-counter-test.sh SERVE_COUNTER_BINARY
set -euo pipefail
bin=$1
dir=$(mktemp -d)
source "$(dirname "$0")/../serving.sh"
pid=
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
start_serving "$dir" "$bin" 0
for i in $(seq 20); do
  curl -sS --max-time 10 -D "$dir/h$i" -X POST "$url/increment" >"$dir/b$i"
  echo >>"$dir/b$i"
done
python3 - "$dir" <<'PY'
import json, re, sys
d = sys.argv[1]
last = {}
for i in range(1, 21):
    body = json.loads(open("%s/b%d" % (d, i)).read())
    head = open("%s/h%d" % (d, i)).read()
    m = re.search(r"X-Manta-Replica: (\d+)", head)
    assert m and int(m.group(1)) == body["replica"], (head, body)
    r = body["replica"]
    assert body["count"] == last.get(r, 0) + 1, (i, body, last)
    last[r] = body["count"]
print("answers by replica:", dict(sorted(last.items())))
assert sorted(last) == [0, 1], last
assert sum(last.values()) == 20, last
PY
code=$(curl -sS --max-time 10 -o "$dir/e" -w '%{http_code}' -X POST "$url/decrement")
[ "$code" = 404 ] || { echo "unknown method gave $code" >&2; exit 1; }
code=$(curl -sS --max-time 10 -o "$dir/e" -w '%{http_code}' "$url")
[ "$code" = 404 ] && grep -q "METHOD" "$dir/e" || { echo "bare route gave $code" >&2; exit 1; }
kill -INT "$pid"
wait "$pid"
echo "serve_counter: ok"
