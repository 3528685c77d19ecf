#!/usr/bin/env bash
# The name-matching demo, the workload manta began from: match each of a
# few thousand counterparty names against 500,000 reference names by edit
# distance. Generates the data (gen_names, from a seed), then runs
# name_match with manta and sequentially, checks both agree, and prints
# both timings, the speedup and the first matches; then, where the build
# has the Java driver, the same search from Java, checked the same.
#
#   name_match_demo [--refs N] [--queries N] [--seed N] [--data-dir DIR]
#
# Defaults: 500000 reference names, 10000 queries, seed 2024; the files go
# to name_match_data/ next to this script.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=$here/name_match
refs=500000
queries=10000
seed=2024
data=$here/name_match_data
while [ $# -gt 0 ]; do
  case $1 in
  --refs | --queries | --seed | --data-dir)
    [ $# -ge 2 ] || {
      echo "name_match_demo: $1 needs a value" >&2
      exit 2
    }
    case $1 in
    --refs) refs=$2 ;;
    --queries) queries=$2 ;;
    --seed) seed=$2 ;;
    --data-dir) data=$2 ;;
    esac
    shift 2
    ;;
  -h | --help)
    sed -n '2,13s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
    exit 0
    ;;
  *)
    echo "name_match_demo: unknown argument '$1' (try --help)" >&2
    exit 2
    ;;
  esac
done
mkdir -p "$data"

echo "Generating $refs reference names and $queries queries (seed $seed)..."
"$bin/gen_names" --seed "$seed" --refs "$refs" --queries "$queries" \
  "$data/reference.csv" "$data/queries.csv"
echo "Matching every query against every reference name: the 3 nearest by"
echo "edit distance (a plain Python loop took about 5 minutes per query here)."
"$bin/name_match" --compare -k 3 "$data/reference.csv" "$data/queries.csv" \
  -o "$data/matches.csv" 2>&1
echo
echo "First matches (all in $data/matches.csv):"
head -n 13 "$data/matches.csv"
# The Java driver, where the build has one: the same C functions called by
# name through the Java binding, the same matches.
if [ -x "$bin/name_match_java" ]; then
  echo
  echo "The same search from Java (name_match_java, through manta's Java binding):"
  "$bin/name_match_java" -k 3 "$data/reference.csv" \
    "$data/queries.csv" -o "$data/matches-java.csv" 2>&1
  if cmp -s "$data/matches.csv" "$data/matches-java.csv"; then
    echo "Java and C drivers wrote the same matches, byte for byte."
  else
    echo "name_match_demo: the Java driver's matches differ from the C driver's" >&2
    exit 1
  fi
fi
