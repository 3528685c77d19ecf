#!/usr/bin/env bash
# The echo in Java served by a JVM node (ServeEcho.java), asked by curl.
#   run-serve-echo-java.sh JAVA CLASSPATH
set -euo pipefail
java=$1
cp=$2
dir=$(mktemp -d)
mkfifo "$dir/in"
source "$(dirname "$0")/../serving.sh"
pid=
exec 3<>"$dir/in" # holds the JVM's input open until the end
trap 'exec 3>&-; kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
serving_stdin=$dir/in
start_serving "$dir" "$java" -cp "$cp" examples.ServeEcho 0
got=$(curl -sS --max-time 10 "$url?data=Hello")
echo "$got"
[ "$got" = "Received data: Hello" ]
code=$(curl -sS --max-time 10 -o "$dir/body" -w '%{http_code}' "$url")
grep -q "give the text as" "$dir/body" ||
  { echo "no data gave $code: $(cat "$dir/body")" >&2; exit 1; }
exec 3>&- # input closed: the JVM shuts the runtime down and exits
for _ in $(seq 100); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
wait "$pid"
echo "ServeEcho: ok"
