#!/usr/bin/env bash
# The database actors' demo (docs/db_actors.md): a throwaway PostgreSQL
# server, the sample_mflix-like data, the seed's two aggregations run
# sequentially and in two actors, then the heavier pair. Configured by
# CMake into build/examples/db_aggregate_demo.
#
#   db_aggregate_demo [--scale F]
set -euo pipefail
exec bash '@PG_CLUSTER@' run -- bash -c '
set -e
echo "--- the seed'\''s aggregations: every movie and every comment"
"$0" "$@"
echo "--- heavier ones: comments per movie (GROUP BY), comments per year (a join)"
"$0" --no-load --workload heavy
' '@DB_AGGREGATE@' "$@"
