# The servers of bench/serve as background processes (source this file
# after setting $out, a scratch folder): start one on port 0 and read the
# address it printed; stop it; the EXIT trap stops what is left and
# removes $out.
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$out"
}
trap cleanup EXIT

# start CMD...: runs a server, waits (bounded) for "serving URL", sets
# $url (http://HOST:PORT...) and $hostport.
start() {
  # Emptied here, not by the job's redirection, which may come after the
  # first read below.
  : >"$out/server.out"
  "$@" >"$out/server.out" 2>"$out/server.err" &
  pid=$!
  url=
  for _ in $(seq 100); do
    url=$(sed -n 's|^serving \(http://[^ ]*\)$|\1|p' "$out/server.out")
    if [ -n "$url" ]; then
      hostport=${url#http://}
      hostport=${hostport%%/*}
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "server did not start: $(cat "$out/server.err")" >&2
  exit 1
}
stop() {
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pid=
}
