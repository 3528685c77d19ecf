#!/usr/bin/env bash
# Where parallel database actors start to win (docs/db_actors.md): for each
# size of the sample_mflix-like data set, the two aggregations of a workload
# run on one connection without manta and in two Aggregator actors at once
# (examples/db_aggregate/db_aggregate, medians of --repeat rounds after a
# warm-up), against a throwaway PostgreSQL. Writes JSON.
#
#   db_actors_sweep.sh --bin DB_AGGREGATE [--sizes 0.25,1,4,16]
#       [--workloads quick,heavy] [--repeat 3] [--json FILE]
#       [-- DRIVER ARGS (e.g. --class JdbcAggregator --java LIB)]
#
# quick is the seed's pair (every movie, every comment: the server does
# little, rows are moved and converted); heavy is comments per movie
# (GROUP BY over the comments) and comments per year (a join). A size is
# the scale of the data: 1 is 44,562 rows.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=
sizes=0.25,1,4,16
workloads=quick,heavy
repeat=3
json=
while [ $# -gt 0 ]; do
  case "$1" in
  --bin) bin=$2; shift 2 ;;
  --sizes) sizes=$2; shift 2 ;;
  --workloads) workloads=$2; shift 2 ;;
  --repeat) repeat=$2; shift 2 ;;
  --json) json=$2; shift 2 ;;
  --) shift; break ;;
  -h | --help)
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
    exit 0 ;;
  *) echo "db_actors_sweep: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
done
[ -x "$bin" ] || { echo "db_actors_sweep: --bin must name the db_aggregate program" >&2; exit 2; }
export SWEEP_BIN=$bin SWEEP_SIZES=$sizes SWEEP_WORKLOADS=$workloads \
  SWEEP_REPEAT=$repeat SWEEP_JSON=$json
exec bash "$here/../../examples/db_aggregate/pg_cluster.sh" run -- bash -c '
set -euo pipefail
rows_json=""
IFS=, read -r -a sizes <<<"$SWEEP_SIZES"
IFS=, read -r -a workloads <<<"$SWEEP_WORKLOADS"
for size in "${sizes[@]}"; do
  "$SWEEP_BIN" --load-only --scale "$size" "$@" >&2
  for w in "${workloads[@]}"; do
    out=$("$SWEEP_BIN" --no-load --workload "$w" --repeat "$SWEEP_REPEAT" "$@")
    echo "--- size $size, $w" >&2
    echo "$out" >&2
    seq=$(sed -n "s/^sequential .* rows in \([0-9.]*\) s$/\1/p" <<<"$out")
    par=$(sed -n "s/^parallel .* rows in \([0-9.]*\) s (\([0-9.]*\) s of it.*/\1 \2/p" <<<"$out")
    rows=$(sed -n "s/^sequential .*: \([0-9]*\) rows in .*/\1/p" <<<"$out")
    read -r par_s setup_s <<<"$par"
    [ -n "$seq" ] && [ -n "$par_s" ] || { echo "db_actors_sweep: cannot read the driver output" >&2; exit 1; }
    rows_json+="${rows_json:+,}
    {\"scale\": $size, \"workload\": \"$w\", \"rows_returned\": $rows, \"sequential_s\": $seq, \"parallel_s\": $par_s, \"actor_setup_s\": $setup_s, \"speedup\": $(awk -v s="$seq" -v p="$par_s" "BEGIN { printf \"%.3f\", s / p }")}"
  done
done
doc="{
  \"benchmark\": \"db_actors_sweep\",
  \"date\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\",
  \"machine\": {\"cpus\": $(nproc), \"load_average_1m\": $(cut -d" " -f1 /proc/loadavg), \"postgresql\": \"$(psql --version | awk "{print \$3}")\"},
  \"repeat\": $SWEEP_REPEAT,
  \"results\": [$rows_json
  ]
}"
if [ -n "$SWEEP_JSON" ]; then
  echo "$doc" >"$SWEEP_JSON"
fi
echo "$doc"
' db_actors_sweep "$@"
