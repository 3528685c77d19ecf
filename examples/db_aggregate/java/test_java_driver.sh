#!/usr/bin/env bash
# The Java driver (DbAggregate.java) on a throwaway PostgreSQL: the data
# loaded by the C driver, then the seed's aggregations from Java, through
# two C Aggregator actors and through two JdbcAggregator actors; row counts
# and the overlap in the server checked for both.
#
#   test_java_driver.sh DB_AGGREGATE MODULE JAVA CLASSPATH
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec bash "$here/../pg_cluster.sh" run -- bash -c '
set -uo pipefail
driver=$1 module=$2 java=$3 cp=$4
fail() { echo "FAIL: $*" >&2; exit 1; }
"$driver" --load-only || fail "loading the data failed"
for cls in Aggregator JdbcAggregator; do
  out=$(timeout 300 "$java" -Xcheck:jni -cp "$cp" examples.dbaggregate.DbAggregate \
    --module "$module" --class "$cls" --rendezvous 2>&1) || {
    echo "$out"
    fail "the Java driver with $cls failed"
  }
  echo "$out"
  grep -Eq "^sequential \(one JDBC connection, no actors\): movies 21349 rows, comments 23213 rows: 44562 rows in [0-9.]+ s$" <<<"$out" ||
    fail "$cls: sequential row counts"
  grep -Eq "^parallel \(2 $cls actors, a connection each, called from Java\): movies 21349 rows, comments 23213 rows: 44562 rows in [0-9.]+ s$" <<<"$out" ||
    fail "$cls: parallel row counts"
  grep -Eq "^overlap: both aggregations were running in the server at once \(dbagg_rendezvous saw 2 and 2 of 2\)$" <<<"$out" ||
    fail "$cls: no overlap proven"
  grep -Eq "WARNING in native method|FATAL ERROR in native method" <<<"$out" &&
    fail "$cls: JNI warnings"
done
echo "PASS: the Java driver, C and Java actors"
' test_java_driver "$@"
