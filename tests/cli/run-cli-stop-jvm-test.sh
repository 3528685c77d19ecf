#!/usr/bin/env bash
# `manta stop` stops every node started on this machine, JVM nodes
# (java ... manta.Node) included: a JVM node writes the same state file as
# `manta start` (docs/java.md, "A JVM node"), and `manta stop` checks that
# the process is that JVM before it signals it. Every process started here
# is stopped on exit, pass or fail.
#
#   run-cli-stop-jvm-test.sh <manta> <java> <manta.jar>
set -euo pipefail

manta=$1
java=$2
jar=$3
work=$(mktemp -d)
unset MANTA_ADDRESS MANTA_TOKEN MANTA_TOKEN_FILE
export MANTA_STATE_DIR=$work/state
jvm=

cleanup() {
  if [ -n "$jvm" ]; then
    kill -9 "$jvm" 2>/dev/null || true
  fi
  "$manta" stop >/dev/null 2>&1 || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  for f in "$work"/*.out "$work"/*.err; do
    [ -f "$f" ] && sed "s|^|$(basename "$f"): |" "$f" >&2
  done
  exit 1
}

"$manta" start --head --port 0 --num-cpus 1 >"$work/head.out"
addr=$(sed -n 's/^manta: head started at \([^ ]*\) .*/\1/p' "$work/head.out")
[ -n "$addr" ] || fail "no head address"
"$manta" start --address "$addr" --num-cpus 1 >"$work/node.out"

"$java" -Xmx128m -cp "$jar" manta.Node --address "$addr" --num-cpus 1 \
  >"$work/jvm.out" 2>"$work/jvm.err" &
jvm=$!
for _ in $(seq 1 300); do
  grep -q "node ready at" "$work/jvm.out" && break
  kill -0 "$jvm" 2>/dev/null || fail "the JVM node exited"
  sleep 0.1
done
grep -q "node ready at" "$work/jvm.out" || fail "the JVM node is not ready in 30 s"
[ -f "$MANTA_STATE_DIR/node-$jvm" ] || fail "the JVM node wrote no state file"
[ "$(stat -c %a "$MANTA_STATE_DIR/node-$jvm")" = 600 ] ||
  fail "state file mode $(stat -c %a "$MANTA_STATE_DIR/node-$jvm")"
"$manta" status >"$work/status.out" || fail "manta status"
grep -q "^cluster: 3 node(s), 3 alive" "$work/status.out" ||
  fail "the cluster is not head, node and JVM node"

"$manta" stop >"$work/stop.out" || fail "manta stop"
grep -q "stopped node $jvm " "$work/stop.out" || fail "manta stop left the JVM node"
grep -c "^manta: stopped " "$work/stop.out" | grep -qx 3 ||
  fail "manta stop did not stop all three"
for _ in $(seq 1 100); do
  kill -0 "$jvm" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$jvm" 2>/dev/null; then
  fail "the JVM node still runs after manta stop"
fi
wait "$jvm" || true
jvm_pid=$jvm
jvm=
[ ! -e "$MANTA_STATE_DIR/node-$jvm_pid" ] || fail "the JVM's state file is left"
if ls "$MANTA_STATE_DIR" | grep -Eq '^(node|head)-[0-9]+$'; then
  fail "state files left: $(ls "$MANTA_STATE_DIR")"
fi
echo PASS
