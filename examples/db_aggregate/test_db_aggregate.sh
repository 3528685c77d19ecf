#!/usr/bin/env bash
# The database actors' example against a real, throwaway PostgreSQL
# (pg_cluster.sh): the seed's two aggregations sequentially and in two
# actors, with the row counts checked and the overlap proven by the server
# (both queries seen running at once); the same with one actor must fail
# that proof; then a row of every column type and the error cases
# (db_aggregate --errors) and the db_conn limits (--pool).
#
#   test_db_aggregate.sh WORK_DIR DRIVER [DRIVER ARGS...]
#
# DRIVER ARGS choose the class (--class JdbcAggregator --java LIB for the
# Java one). The server is stopped on every exit (pg_cluster.sh's trap).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$1
shift
mkdir -p "$work"
export TMPDIR=${TMPDIR:-/tmp}

# Everything below runs inside pg_cluster.sh run, which stops the server
# whatever happens.
exec bash "$here/pg_cluster.sh" run -- bash -c '
set -uo pipefail
work=$1
shift
fail() { echo "FAIL: $*" >&2; exit 1; }
run() { # run NAME ARGS...: the driver, output in $work/NAME.out
  local name=$1
  shift
  timeout 300 "$@" >"$work/$name.out" 2>"$work/$name.err"
  local rc=$?
  cat "$work/$name.out"
  [ -s "$work/$name.err" ] && sed "s/^/  stderr: /" "$work/$name.err"
  return $rc
}
expect() { # expect NAME REGEX: a line of $work/NAME.out matches
  grep -Eq -- "$2" "$work/$1.out" || fail "$1: no line matches: $2"
}

run compare "$@" --rendezvous || fail "the comparison failed"
expect compare "^db_aggregate: loaded 21349 movies and 23213 comments \(seed 1, scale 1\)"
expect compare "^sequential \(one connection, no actors\): movies 21349 rows, comments 23213 rows: 44562 rows in [0-9.]+ s$"
expect compare "^parallel \(2 [A-Za-z]+ actors, a connection each\): movies 21349 rows, comments 23213 rows: 44562 rows in [0-9.]+ s"
expect compare "^overlap: both aggregations were running in the server at once \(dbagg_rendezvous saw 2 and 2 of 2\)$"
expect compare "^faster: (parallel|sequential), by [0-9.]+x$"

# The proof can fail: both calls on one actor run one after the other, and
# the first waits in vain for the second.
if run one_actor "$@" --no-load --rendezvous --one-actor; then
  fail "with one actor the rendezvous should have failed"
fi
grep -Eq "rendezvous db[0-9.]+: 1 of 2 queries running" "$work/one_actor.err" ||
  fail "one_actor: not failed by the rendezvous"

run errors "$@" --errors || fail "an error case answered wrongly"
# Every column type, typed the same by the C and the Java class.
grep -Fxq -- '"'"'types: [{"i2": 7, "i4": 70000, "i8": 8000000000, "f4": 1.5, "f8": 2.25, "num": 3.125, "t": "text", "b": b"\x00\xff\x10", "yes": true, "no": false, "nothing": null, "ts": "2020-01-02 03:04:05+00", "doc": {"a": [1, 2.5, "s", null, true], "b": {"c": {}}}, "list": [3, "x"]}]'"'"' "$work/errors.out" ||
  fail "errors: the typed row is not as expected"
expect errors "^bad SQL: MANTA_ERR_INVALID: SQLSTATE 42601: syntax error at or near \"SELEC\""
expect errors "^unknown table: MANTA_ERR_INVALID: SQLSTATE 42P01: relation \"no_such_table\" does not exist"
expect errors "^bad argument: MANTA_ERR_TYPE: "
expect errors "^still serving: 21349 movies, reconnects 0$"
expect errors "^wrong password: MANTA_ERR_ACTOR_DEAD: .*password authentication failed for user \"app\""
expect errors "^bad connection string: MANTA_ERR_ACTOR_DEAD: .*bad connection string: missing \"=\" after \"this\""
expect errors "^server stopped: MANTA_ERR_TASK_FAILED: database unreachable"
expect errors "^server started again: 21349 movies, reconnects 1$"
expect errors "^server ended the query: MANTA_ERR_TASK_FAILED: connection lost during the query"
expect errors "^next call: 21349 movies, reconnects 2$"
expect errors "^errors: every case answered as expected$"

run pool "$@" --pool || fail "the db_conn checks failed"
expect pool "^pool: one actor, max_concurrency 2, 2 connections: two queries ran in the server at once$"
expect pool "^pool: db_conn 0 of 2 free$"
expect pool "^pool: a second actor asking for 1 db_conn waits \(2 aggregator connections open\)$"
expect pool "^pool: once the first actor was killed it connected$"
expect pool "^pool: an actor asking for 3 db_conn: MANTA_ERR_ACTOR_DEAD: .*more resources than this node has"
echo "PASS: db_aggregate $*"
' test_db_aggregate "$work" "$@"
