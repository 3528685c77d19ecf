#!/usr/bin/env bash
# `manta stop` of a head and four nodes (docs/cli: "manta stop"): every node
# is signalled at once and the head last; one line per node on stdout; on a
# terminal (a real pseudo-terminal made by script(1)) a progress bar on
# stderr, redrawn in place, with the count, rate and time left; without a
# terminal no bar at all. Every process started here is killed on exit,
# pass or fail.
#
#   run-cli-stop-test.sh <manta>
set -euo pipefail

manta=$1
work=$(mktemp -d)
unset MANTA_ADDRESS MANTA_TOKEN MANTA_TOKEN_FILE MANTA_PROGRESS
export MANTA_STATE_DIR=$work/state
source "$(dirname "$0")/../util/running.sh"

cleanup() {
  "$manta" stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
command -v script >/dev/null || fail "script(1) is missing (package bsdutils)"

# cluster: a head and four nodes, started by `manta start`; sets $pids.
cluster() {
  "$manta" start --head --port 0 --num-cpus 1 >"$work/head.out" 2>&1 ||
    fail "the head did not start: $(cat "$work/head.out")"
  local head
  head=$(sed -n 's/^manta: head started at \([^ ]*\) .*/\1/p' "$work/head.out")
  for i in 1 2 3 4; do
    "$manta" start --address "$head" --num-cpus 1 >"$work/node$i.out" 2>&1 ||
      fail "node $i did not start: $(cat "$work/node$i.out")"
  done
  pids=$(sed -n 's/.*(pid \([0-9]*\),.*/\1/p' "$work"/head.out "$work"/node*.out)
  [ "$(wc -w <<<"$pids")" -eq 5 ] || fail "five pids expected: $pids"
}

# stopped OUT: five stop lines, the head's last, and every process gone.
stopped() {
  [ "$(grep -c '^manta: stopped node ' "$1")" -eq 4 ] || fail "four nodes not stopped: $(cat "$1")"
  [ "$(grep -c '^manta: stopped head ' "$1")" -eq 1 ] || fail "the head not stopped: $(cat "$1")"
  grep '^manta: stopped' "$1" | tail -1 | grep -q '^manta: stopped head ' ||
    fail "the head was not stopped last: $(cat "$1")"
  for p in $pids; do
    ! running "$p" || fail "pid $p still runs after manta stop"
  done
}

# 0. SIGTERM delivered to one of the runtime's threads, not the main one
# (tgkill; the kernel may pick any thread for a process's signal): the
# node stops within 10 s (it waited in pause() forever before).
"$manta" start --foreground --head --port 0 --num-cpus 1 --http-port off \
  >"$work/fg.out" 2>&1 &
fg=$!
for _ in $(seq 400); do
  grep -q " ready at " "$work/fg.out" && break
  sleep 0.05
done
python3 - "$fg" <<'PY' || fail "tgkill of a thread of the node failed"
import ctypes, os, sys
pid = int(sys.argv[1])
tid = max(int(t) for t in os.listdir(f"/proc/{pid}/task") if int(t) != pid)
sys.exit(ctypes.CDLL(None).tgkill(pid, tid, 15) != 0)  # glibc 2.30+
PY
for _ in $(seq 200); do
  running "$fg" || break
  sleep 0.05
done
if running "$fg"; then
  kill -9 "$fg"
  fail "a node given SIGTERM on another thread than its main one did not stop"
fi
wait "$fg" || fail "the node signalled on another thread exited with $?"
echo "ok: SIGTERM on any thread stops a node"

# 1. No terminal: plain lines, no bar.
cluster
"$manta" stop >"$work/plain.out" 2>"$work/plain.err" </dev/null
stopped "$work/plain.out"
[ ! -s "$work/plain.err" ] || fail "stderr without a terminal: $(cat "$work/plain.err")"
grep -q $'\r' "$work/plain.out" && fail "a carriage return without a terminal"
echo "ok: without a terminal, one line per node and no bar"

# 2. A terminal: script(1) runs manta stop on a pseudo-terminal and records
# what it wrote there (stdout and stderr both).
cluster
script -qec "'$manta' stop" "$work/tty.out" >/dev/null </dev/null ||
  fail "manta stop on a terminal failed: $(cat "$work/tty.out")"
# screen FILE: what a terminal shows of each line (the text after its last
# carriage return, erases dropped); bars FILE: every state the bar was drawn in.
screen() { sed -e 's/\x1b\[K//g' -e 's/\r$//' -e 's/.*\r//' "$1"; }
bars() { sed 's/\x1b\[K//g' "$1" | tr '\r' '\n' | grep '^manta: stopping \[' || true; }
screen "$work/tty.out" >"$work/tty.lines"
stopped "$work/tty.lines"
bars "$work/tty.out" >"$work/tty.bars"
[ "$(wc -l <"$work/tty.bars")" -ge 5 ] || fail "the bar was not redrawn in place: $(cat -A "$work/tty.out")"
grep -q '^manta: stopping \[\.\{24\}\] 0/5 ' "$work/tty.bars" || fail "no bar at 0/5: $(cat "$work/tty.bars")"
tail -1 "$work/tty.bars" | grep -q '^manta: stopping \[#\{24\}\] 5/5  [0-9.]*/s  done in [0-9.]* s$' ||
  fail "the bar did not end at 5/5 with its rate and time: $(cat "$work/tty.bars")"
# The count only grows.
sed 's/.*\] \([0-9]\)\/5 .*/\1/' "$work/tty.bars" | sort -c -n ||
  fail "the bar's count went down: $(cat "$work/tty.bars")"
echo "ok: on a terminal, a bar redrawn in place ending at 5/5"

# 3. MANTA_PROGRESS=0 turns the bar off on a terminal.
cluster
MANTA_PROGRESS=0 script -qec "'$manta' stop" "$work/off.out" >/dev/null </dev/null ||
  fail "MANTA_PROGRESS=0 manta stop failed"
grep -q 'manta: stopping \[' "$work/off.out" && fail "a bar with MANTA_PROGRESS=0"
screen "$work/off.out" >"$work/off.lines"
stopped "$work/off.lines"
echo "ok: MANTA_PROGRESS=0 draws no bar"
