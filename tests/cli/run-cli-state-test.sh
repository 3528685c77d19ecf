#!/usr/bin/env bash
# The manta command's local state (docs/security.md, "Other local users"):
# a state folder another user could write in is refused, with a message
# naming it and why; a new one is made 0700; `manta stop` signals only the
# nodes that wrote their pid files, and removes stale files, saying so.
# Every process started here is killed on exit, pass or fail.
#
#   run-cli-state-test.sh <manta>
set -euo pipefail

manta=$1
work=$(mktemp -d)
unset MANTA_ADDRESS MANTA_TOKEN MANTA_TOKEN_FILE
export MANTA_STATE_DIR=$work/state
source "$(dirname "$0")/../util/running.sh"
pids=()

cleanup() {
  local p
  for p in "${pids[@]}"; do
    disown "$p" 2>/dev/null || true # no "Killed" line from the shell
    kill -9 "$p" 2>/dev/null || true
  done
  "$manta" stop >/dev/null 2>&1 || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# start_time PID: field 22 of /proc/PID/stat (the fields after the name).
start_time() {
  sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f20
}

# refused DIR WHY: every command refuses the state folder DIR, naming it
# and WHY.
refused() {
  local cmd
  for cmd in "stop" "status" "start --head --port 0"; do
    # shellcheck disable=SC2086
    if MANTA_STATE_DIR=$1 "$manta" $cmd >"$work/out" 2>"$work/err"; then
      fail "manta $cmd used the state folder $1: $(cat "$work/out")"
    fi
    grep -q "the state folder $1 cannot be trusted: .*$2" "$work/err" ||
      fail "manta $cmd with $1: $(cat "$work/err")"
  done
}

echo "== a new state folder is private"
"$manta" stop >"$work/out"
[ "$(stat -c %a "$MANTA_STATE_DIR")" = 700 ] ||
  fail "state folder mode $(stat -c %a "$MANTA_STATE_DIR")"

echo "== folders others can write in, or not ours, are refused"
mkdir -m 777 "$work/open"
chmod 777 "$work/open" # past the umask
refused "$work/open" "its mode 0777 lets others write in it"
mkdir -m 730 "$work/group"
chmod 730 "$work/group"
refused "$work/group" "its mode 0730 lets others write in it"
ln -s "$MANTA_STATE_DIR" "$work/link"
refused "$work/link" "it is a symbolic link"
if [[ $(id -u) -eq 0 ]]; then
  mkdir -m 700 "$work/theirs"
  chown 65534:65534 "$work/theirs"
  refused "$work/theirs" "it is owned by uid 65534, not by this user (uid 0)"
else
  echo "(not root: the folder of another user is not tried)"
fi

echo "== manta stop signals only the nodes it started"
# A process that is not a node, under a planted pid file with its true
# start time (only the program tells it apart), and under one with another
# start time (a reused pid).
sleep 600 &
victim=$!
pids+=("$victim")
echo "$victim 127.0.0.1:1 $(start_time "$victim")" >"$MANTA_STATE_DIR/head-$victim"
echo "$victim 127.0.0.1:1 1" >"$MANTA_STATE_DIR/node-$victim"
# A file of a node that is gone, and one of an older manta (no start time).
sh -c 'exit 0' &
gone=$!
wait "$gone"
echo "$gone 127.0.0.1:2 12345" >"$MANTA_STATE_DIR/node-$gone"
echo "$victim 127.0.0.1:3" >"$MANTA_STATE_DIR/node-old"
# A real node, which stop must stop.
"$manta" start --head --port 0 --num-cpus 1 >"$work/start.out" ||
  fail "the head did not start"
head_pid=$(sed -n 's/.*(pid \([0-9]*\),.*/\1/p' "$work/start.out")
[ -n "$head_pid" ] || fail "no pid in: $(cat "$work/start.out")"
pids+=("$head_pid")
grep -q "1 alive" <<<"$("$manta" status)" || fail "status of the real head"
"$manta" stop >"$work/stop.out" || fail "manta stop failed"
cat "$work/stop.out"
kill -0 "$victim" 2>/dev/null || fail "manta stop killed an unrelated process"
grep -q "stopped head $head_pid" "$work/stop.out" || fail "the head not stopped"
for why in "head-$victim: process $victim runs .*sleep.*, not a manta node" \
  "node-$victim: process $victim is not the node that wrote the file" \
  "node-$gone: process $gone is gone" \
  "node-old: it is not a pid file of this version of manta"; do
  grep -q "removed the stale state file $MANTA_STATE_DIR/$why" \
    "$work/stop.out" || fail "no line: removed ... $why"
done
left=$(cd "$MANTA_STATE_DIR" && ls | grep -v '\.log$' | grep -v '^token$' || true)
[ -z "$left" ] || fail "files left in the state folder: $left"
if running "$head_pid"; then
  fail "the head still runs"
fi
grep -q "no running node" <<<"$("$manta" stop)" || fail "a second stop found nodes"

echo "== --object-store-memory takes sizes, and says what it wants"
if "$manta" start --head --object-store-memory 2XB >"$work/size.out" 2>&1; then
  fail "a bad size was taken"
fi
grep -q "takes a size like 2GiB, 512MB or 0 (no limit), not '2XB'" \
  "$work/size.out" || fail "no message naming the bad size"
MANTA_LOG=info timeout 2 "$manta" start --head --port 0 --foreground \
  --object-store-memory 1536MiB --spill-dir "$work/spill" \
  >"$work/store.out" 2>&1 || true
grep -q "object store: 1.5 GiB in memory, then spilled to disk" \
  "$work/store.out" || fail "the store limit was not used"
echo "PASS"
