#!/usr/bin/env bash
# The name-matching benchmark (issue 5): 1,000 queries against 500,000
# reference names, searched with manta and sequentially in the same run.
# Writes the figures as JSON: queries ("records") per second both ways, the
# speedup, records per second per core, peak RSS, the object store at its
# fullest, and the machine with its load average before and after.
#
#   bash bench/name_match_bench.sh [--json FILE] [--runs N] [--refs N]
#        [--queries N] [--seed N] [-k N] [--kernel NAME] [--bin DIR]
#
# Builds name_match in build/ (configured as scripts/test.sh does;
# MANTA_BUILD_ROOT and MANTA_JOBS as there), unless --bin names a folder
# holding name_match, its module and gen_names already. The data comes from
# gen_names (seed 5 unless told) in a temporary folder. JSON goes to FILE
# (default: build/name_match-bench.json); with --runs N > 1, run i goes to
# FILE with "-run<i>" before ".json". --kernel is name_match's (default
# auto: the best this CPU runs).
set -euo pipefail

self=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
refs=500000
queries=1000
seed=5
k=3
kernel=auto
runs=1
json=
bin=
while [ $# -gt 0 ]; do
  case $1 in
  --json | --runs | --refs | --queries | --seed | -k | --kernel | --bin)
    if [ $# -lt 2 ]; then
      echo "name_match_bench.sh: $1 needs a value" >&2
      exit 2
    fi
    case $1 in
    --json) json=$2 ;;
    --runs) runs=$2 ;;
    --refs) refs=$2 ;;
    --queries) queries=$2 ;;
    --seed) seed=$2 ;;
    -k) k=$2 ;;
    --kernel) kernel=$2 ;;
    --bin) bin=$2 ;;
    esac
    shift 2
    ;;
  -h | --help)
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$self"
    exit 0
    ;;
  *)
    echo "name_match_bench.sh: unknown option '$1' (try --help)" >&2
    exit 2
    ;;
  esac
done
case $runs in
'' | *[!0-9]* | 0)
  echo "name_match_bench.sh: --runs takes a whole number from 1, got '$runs'" >&2
  exit 2
  ;;
esac

if [ -z "$bin" ]; then
  build_root=${MANTA_BUILD_ROOT:-$root}
  mkdir -p "$build_root"
  build=$(cd "$build_root" && pwd)/build
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DMANTA_WERROR=ON -DMANTA_BUILD_TESTS=ON -DMANTA_BUILD_EXAMPLES=ON \
    -DMANTA_SANITIZE= -DMANTA_BUILD_BENCH=ON >/dev/null
  cmake --build "$build" --parallel "${MANTA_JOBS:-2}" --target name_match \
    gen_names name_match_module >/dev/null
  bin=$build/examples/name_match
  json=${json:-$build/name_match-bench.json}
fi
json=${json:-name_match-bench.json}

data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
"$bin/gen_names" --seed "$seed" --refs "$refs" --queries "$queries" \
  "$data/reference.csv" "$data/queries.csv"

for run in $(seq 1 "$runs"); do
  out=$json
  if [ "$runs" -gt 1 ]; then
    out=${json%.json}-run$run.json
  fi
  echo "name_match_bench: run $run of $runs, $queries queries x $refs names," \
    "load average $(cut -d' ' -f1-3 /proc/loadavg)"
  "$bin/name_match" --compare --no-progress -k "$k" --kernel "$kernel" \
    --json "$out" \
    "$data/reference.csv" "$data/queries.csv" -o "$data/matches.csv"
  echo "name_match_bench: figures in $out"
done
