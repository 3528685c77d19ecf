#!/usr/bin/env bash
# The manta command's errors name their cause (README, "A cluster"): each
# case runs the command as a user would and checks its exit status and the
# words of its message. A daemon that fails to start has its cause in its
# log; the command must bring it to the terminal.
# Every process started here is stopped on exit, pass or fail.
#
#   run-cli-errors-test.sh <manta>
set -euo pipefail

manta=$1
work=$(mktemp -d)
unset MANTA_ADDRESS MANTA_TOKEN MANTA_TOKEN_FILE MANTA_TLS_CERT MANTA_TLS_KEY \
  MANTA_TLS_CA MANTA_INSECURE
export MANTA_STATE_DIR=$work/state

cleanup() {
  "$manta" stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# expect STATUS TEXT... -- CMD...: CMD exits with STATUS and its stderr
# holds every TEXT (fixed strings).
expect() {
  local status=$1 got texts=()
  shift
  while [ "$1" != "--" ]; do
    texts+=("$1")
    shift
  done
  shift
  set +e
  timeout 60 "$@" >"$work/out" 2>"$work/err"
  got=$?
  set -e
  [ "$got" = "$status" ] ||
    fail "$* exited with $got, not $status: $(cat "$work/err" "$work/out")"
  local t
  for t in "${texts[@]}"; do
    grep -qF -- "$t" "$work/err" ||
      fail "$*: the message does not say '$t': $(cat "$work/err")"
  done
  echo "ok: $* -> $got: $(head -c 300 "$work/err" | head -n 1)"
}

echo "== an unreachable head: the address and the refusal"
expect 1 "the node did not start" "127.0.0.1:1" "Connection refused" \
  "log: $MANTA_STATE_DIR/node-" -- "$manta" start --address 127.0.0.1:1
expect 1 "127.0.0.1:1" "Connection refused" -- \
  "$manta" start --foreground --address 127.0.0.1:1

echo "== a missing module: the file and the loader's reason"
expect 1 "the head did not start" "module /nonexistent.so: cannot load" \
  "cannot open shared object file: No such file or directory" -- \
  "$manta" start --head --port 0 --module /nonexistent.so

echo "== a bind beyond loopback without a token: the rule and how to give one"
expect 1 "binding 0.0.0.0:0 (not loopback) needs a cluster token given on purpose" \
  "--token-file, MANTA_TOKEN_FILE or MANTA_TOKEN" "TLS" -- \
  "$manta" start --head --port 0 --bind 0.0.0.0

echo "== ports out of range: refused before anything starts"
logs_before=$(find "$MANTA_STATE_DIR" -name '*.log' | wc -l)
expect 2 "--address 127.0.0.1:99999: the port must be a number from 1 to 65535" \
  -- "$manta" start --address 127.0.0.1:99999
expect 2 "--address 127.0.0.1:0: the port must be" -- \
  "$manta" start --address 127.0.0.1:0
expect 2 "--address takes HOST:PORT, not '127.0.0.1'" -- \
  "$manta" start --address 127.0.0.1
expect 2 "--port takes a port number, not '99999'" -- \
  "$manta" start --head --port 99999
expect 2 "127.0.0.1:99999: the port must be a number from 1 to 65535" -- \
  "$manta" status --address 127.0.0.1:99999
expect 2 "localhost:-5: the port must be" -- \
  env MANTA_ADDRESS=localhost:-5 "$manta" status
[ "$(find "$MANTA_STATE_DIR" -name '*.log' | wc -l)" = "$logs_before" ] ||
  fail "a refused port still started a daemon (a log file appeared)"

echo "== manta status --token-file / --token"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/token"
chmod 600 "$work/token"
"$manta" start --head --port 0 --token-file "$work/token" >"$work/head.out"
addr=$(sed -n 's/^manta: head started at \([^ ]*\) .*/\1/p' "$work/head.out")
[ -n "$addr" ] || fail "no head address in: $(cat "$work/head.out")"
# The head was given its token, not the state folder's (the failed heads
# above made one there), so a bare status is refused, saying why.
expect 1 "the head at $addr refused the token" -- "$manta" status
expect 0 -- "$manta" status --token-file "$work/token"
grep -q "^cluster: 1 node(s), 1 alive" "$work/out" ||
  fail "status --token-file: $(cat "$work/out")"
expect 0 "--token is visible to other users" -- \
  "$manta" status --token "$(cat "$work/token")"
grep -q "^cluster: 1 node(s), 1 alive" "$work/out" ||
  fail "status --token: $(cat "$work/out")"
expect 1 "refused the token" -- \
  "$manta" status --token 0123456789abcdef0123456789abcdef
cp "$work/token" "$work/open-token"
chmod 644 "$work/open-token"
expect 2 "the token file $work/open-token has mode 0644" "chmod 600" -- \
  "$manta" status --token-file "$work/open-token"
expect 2 "cannot open the token file $work/missing" -- \
  "$manta" status --token-file "$work/missing"

echo "== a second head on a taken port: the one running is named"
port=${addr##*:}
head_pid=$(sed -n 's/.*(pid \([0-9]*\),.*/\1/p' "$work/head.out")
expect 1 "cannot listen on 127.0.0.1:$port" \
  "a head started on this machine already runs at $addr (pid $head_pid)" \
  "manta stop" -- \
  "$manta" start --head --port "$port" --token-file "$work/token"
expect 0 -- "$manta" status --token-file "$work/token"
grep -q "^cluster: 1 node(s), 1 alive" "$work/out" ||
  fail "the first head suffered from the second: $(cat "$work/out")"

"$manta" stop >"$work/stop.out"
grep -q "stopped head $head_pid" "$work/stop.out" ||
  fail "manta stop: $(cat "$work/stop.out")"
echo "PASS"
