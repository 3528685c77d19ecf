#!/usr/bin/env bash
# pg_cluster.sh leaves nothing behind: after the command succeeds, fails,
# or the script gets SIGTERM or SIGINT, the server is gone (its
# postmaster's pid no longer runs) and so is the folder; a missing server
# user is refused with a clear error; and, run by root, it works for a
# normal user too (run as nobody).
#
#   test_pg_cluster.sh WORK_DIR
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$1
rm -rf "$work"
mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
started=()
cleanup_dirs=()
cleanup() {
  local p
  for p in "${started[@]}"; do
    kill -9 "$p" 2>/dev/null || true
  done
  rm -rf "${cleanup_dirs[@]}"
}
trap cleanup EXIT

# The command records the server's folder and postmaster pid, then does
# what it is told: exit with a status, or sleep to be signalled.
probe='echo "$MANTA_PG_DIR" >"$0/dir"; head -1 "$MANTA_PG_DIR/data/postmaster.pid" >"$0/pid"; case "$1" in sleep) touch "$0/ready"; exec sleep 120 ;; *) exit "$1" ;; esac'

gone() { # gone CASE: the server and the folder of the last run are gone
  local dir pid
  dir=$(cat "$work/dir" 2>/dev/null) || fail "$1: the command never ran"
  pid=$(cat "$work/pid")
  [ -n "$pid" ] || fail "$1: no postmaster pid recorded"
  # A zombie has stopped: only its parent (init here) has yet to reap it.
  case "$(ps -o stat= -p "$pid" 2>/dev/null)" in
  "" | Z*) ;;
  *) fail "$1: the server (pid $pid) still runs" ;;
  esac
  [ ! -e "$dir" ] || fail "$1: the folder $dir is still there"
  rm -f "$work/dir" "$work/pid" "$work/ready"
  echo "ok: $1: server stopped, folder deleted"
}

bash "$here/pg_cluster.sh" run -- bash -c "$probe" "$work" 0 2>/dev/null ||
  fail "success: the run failed"
gone success

bash "$here/pg_cluster.sh" run -- bash -c "$probe" "$work" 7 2>/dev/null
rc=$?
[ "$rc" -eq 7 ] || fail "failure: exit status $rc, not the command's 7"
gone "command failed (exit 7 passed on)"

for sig in TERM INT; do
  # A background job of a script starts with SIGINT ignored, which no trap
  # can undo: python3 restores the default before running the script.
  python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])' bash "$here/pg_cluster.sh" run -- \
    bash -c "$probe" "$work" sleep 2>/dev/null &
  p=$!
  started+=("$p")
  for _ in $(seq 600); do
    [ -e "$work/ready" ] && break
    kill -0 "$p" 2>/dev/null || fail "SIG$sig: the script ended early"
    sleep 0.05
  done
  [ -e "$work/ready" ] || fail "SIG$sig: the command did not start in 30 s"
  kill -"$sig" "$p"
  wait "$p"
  rc=$?
  want=$([ "$sig" = TERM ] && echo 143 || echo 130)
  [ "$rc" -eq "$want" ] || fail "SIG$sig: exit status $rc, not $want"
  gone "SIG$sig"
done

if [ "$(id -u)" -eq 0 ]; then
  out=$(MANTA_PG_USER=no-such-user-here bash "$here/pg_cluster.sh" run -- true 2>&1)
  [ $? -ne 0 ] || fail "a missing server user was accepted"
  grep -q "the unprivileged user 'no-such-user-here' to run it as does not exist" <<<"$out" ||
    fail "no clear error for a missing server user: $out"
  echo "ok: root with a missing server user: refused, saying why"
  # The normal-user path: the whole script run as nobody, from a folder
  # nobody can reach (the build tree's parents may be closed to it).
  home=$(mktemp -d /tmp/manta-pg-test.XXXXXX)
  cleanup_dirs+=("$home")
  cp "$here/pg_cluster.sh" "$home/pg_cluster.sh"
  chmod 755 "$home" "$home/pg_cluster.sh"
  out=$(cd "$home" && setpriv --reuid=nobody --regid=nogroup --clear-groups \
    env TMPDIR=/tmp bash "$home/pg_cluster.sh" run -- \
    bash -c 'psql -X -Atc "SELECT current_user" "$MANTA_PG_CONNINFO"' 2>&1) ||
    fail "as a normal user: $out"
  grep -qx manta <<<"$out" || fail "as a normal user: $out"
  echo "ok: as a normal user (nobody): the server ran and answered"
fi
echo "PASS: pg_cluster.sh"
