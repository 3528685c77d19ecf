#!/usr/bin/env bash
# The database actors across a cluster: a head node (`manta start`)
# offering the Aggregator class from db_aggregate_module.so and db_conn=2;
# the driver joins with MANTA_ADDRESS and --remote (it offers the class
# itself no more), so every actor lives on the head. The row counts, the
# overlap in the server, the typed row and the error cases, as embedded.
#
#   test_db_aggregate_cluster.sh WORK_DIR DRIVER MODULE MANTA
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$1
shift
rm -rf "$work"
mkdir -p "$work"
exec bash "$here/pg_cluster.sh" run -- bash -c '
set -uo pipefail
here=$1 work=$2 driver=$3 module=$4 manta=$5
cd "$work"
export MANTA_STATE_DIR=$work/state
unset MANTA_ADDRESS MANTA_TOKEN
source "$here/../../tests/cluster/nodes.sh"
trap kill_nodes EXIT
start_node head --head --port 0 --num-cpus 2 --resources db_conn=2 \
  --module "$module"
export MANTA_ADDRESS=$address
timeout 300 "$driver" --remote --rendezvous >compare.out 2>compare.err ||
  fail "the comparison across the cluster failed: $(cat compare.err)"
cat compare.out
grep -Eq "^parallel \(2 Aggregator actors, a connection each\): movies 21349 rows, comments 23213 rows: 44562 rows in " compare.out ||
  fail "row counts"
grep -Eq "^overlap: both aggregations were running in the server at once \(dbagg_rendezvous saw 2 and 2 of 2\)$" compare.out ||
  fail "no overlap proven"
timeout 300 "$driver" --remote --errors >errors.out 2>errors.err ||
  fail "an error case answered wrongly across the cluster: $(cat errors.out)"
cat errors.out
grep -q "^types: \[{\"i2\": 7, " errors.out || fail "no typed row"
grep -q "^wrong password: MANTA_ERR_ACTOR_DEAD: .*password authentication failed" errors.out ||
  fail "wrong password"
grep -q "^next call: 21349 movies, reconnects 2$" errors.out || fail "reconnects"
stop_process head "$pid"
echo "PASS: db_aggregate across a cluster"
' test_db_aggregate_cluster "$here" "$work" "$@"
