#!/usr/bin/env bash
# The README's "From nothing to a two-node cluster", run as written: the
# commands between its walkthrough markers, in a shell with a fresh HOME and
# a fresh working folder. Two of them are not run again here, because the
# suite running this test has just done them on this machine: installing
# the Debian packages (scripts/install-deps.sh) and configuring and building
# `build` (this test is given that build tree, and `build` in the commands
# names it). The head's port 6390 is replaced by a free one, so that the
# test can run beside others. Then checks what the walk-through promises:
# two live nodes, the searches run on them, and matches equal to those of an
# embedded run. Every node started is stopped on exit, pass or fail.
#
#   run-readme-walkthrough.sh <build-dir> <source-dir>
set -euo pipefail

build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
tmp=$(mktemp -d)
export HOME=$tmp/home MANTA_STATE_DIR=$tmp/state
unset MANTA_ADDRESS MANTA_TOKEN MANTA_TOKEN_FILE LD_LIBRARY_PATH
mkdir -p "$HOME" "$tmp/work"

cleanup() {
  if [ -x "$HOME/manta/bin/manta" ]; then
    "$HOME/manta/bin/manta" stop >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "walkthrough: FAIL: $*" >&2
  [ -f "$tmp/out" ] && tail -30 "$tmp/out" >&2
  exit 1
}

# The commands: the sh block between the markers.
awk '/<!-- walkthrough: begin/ { on = 1; next }
     /<!-- walkthrough: end/ { on = 0 }
     on && /^```sh/ { code = 1; next }
     on && /^```/ { code = 0 }
     on && code' "$src/README.md" >"$tmp/block"
[ -s "$tmp/block" ] || fail "no walkthrough block in $src/README.md"
grep -q '^bash scripts/install-deps.sh' "$tmp/block" || fail "the block installs no packages"
grep -q '^cmake -S . -B build .*&& cmake --build build' "$tmp/block" ||
  fail "the block does not build"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
{
  echo 'set -euxo pipefail'
  grep -v -e '^bash scripts/install-deps.sh' -e '^cmake -S . -B build ' "$tmp/block" |
    sed -e "s#cmake --install build #cmake --install '$build' #" -e "s/6390/$port/g"
} >"$tmp/walkthrough.sh"
grep -q "cmake --install '$build'" "$tmp/walkthrough.sh" || fail "the block does not install build"

echo "walkthrough: running the README's commands (port $port)"
(cd "$tmp/work" && timeout 300 bash "$tmp/walkthrough.sh") >"$tmp/out" 2>&1 ||
  fail "the README's commands failed"

grep -q 'cluster: 2 node(s), 2 alive' "$tmp/out" || fail "manta status showed no two live nodes"
ran=$(sed -n 's/.* running, \([0-9]*\) finished;.*/\1/p' "$tmp/out" | awk '{ n += $1 } END { print n + 0 }')
[ "$ran" -gt 0 ] || fail "the nodes ran none of the searches"
grep -q '^manta: stopped head' "$tmp/out" || fail "manta stop did not stop the head"
matches=$tmp/work/matches.csv
[ "$(wc -l <"$matches")" -gt 1000 ] || fail "matches.csv has $(wc -l <"$matches") lines"
# The same search embedded, with the installed driver.
(cd "$tmp/work" && "$HOME/manta/lib/manta/name_match/name_match" --quiet ref.csv queries.csv \
  -o embedded.csv) || fail "the embedded run"
cmp -s "$matches" "$tmp/work/embedded.csv" || fail "the cluster's matches differ from an embedded run's"
echo "walkthrough: OK: two nodes ran $ran search task(s); $(wc -l <"$matches") lines as embedded"
