#!/usr/bin/env bash
# The whole pipeline on a small generated set: name_match with manta and
# with --sequential must write exactly what nm_brute_force (every pair by
# plain dynamic programming) writes, under several option sets.
#
#   test_pipeline.sh BIN_DIR WORK_DIR
set -euo pipefail
bin=$1
work=$2
rm -rf "$work"
mkdir -p "$work"
cd "$work"

"$bin/gen_names" --seed 7 --refs 3000 --queries 120 ref.csv queries.csv

# check NAME [options]: brute force, manta and sequential agree.
check() {
  local name=$1
  shift
  "$bin/nm_brute_force" "$@" ref.csv queries.csv >"brute-$name.csv"
  # Small chunks and batches: many tasks, answers merged across chunks.
  "$bin/name_match" --quiet --chunk-size 700 --batch-size 16 "$@" \
    ref.csv queries.csv -o "manta-$name.csv"
  "$bin/name_match" --quiet --sequential --chunk-size 700 --batch-size 16 \
    "$@" ref.csv queries.csv -o "sequential-$name.csv"
  cmp "brute-$name.csv" "manta-$name.csv"
  cmp "brute-$name.csv" "sequential-$name.csv"
  echo "ok: $name ($(($(wc -l <"brute-$name.csv") - 1)) rows)"
}

check default
check k1 -k 1
check k7-exact -k 7 --normalize none
check case-scalar -k 4 --normalize case --kernel scalar
check generic -k 2 --kernel generic
# With a distance limit some queries have no match: they get an empty row.
check within2 -k 5 --max-distance 2
grep -q '^[0-9]*,[^,]*,,,,,$' brute-within2.csv

# The answer does not depend on how the work is cut.
"$bin/name_match" --quiet --chunk-size 3000 --batch-size 120 ref.csv \
  queries.csv -o whole.csv
cmp brute-default.csv whole.csv

# --compare checks both runs agree and reports figures as JSON.
"$bin/name_match" --compare --chunk-size 700 --json run.json ref.csv \
  queries.csv -o compare.csv 2>compare.log
cmp brute-default.csv compare.csv
grep -q 'both gave the same matches' compare.log
for key in records_per_second speedup same_matches peak_rss_bytes \
  chunk_bytes peak_rss_bytes_so_far loadavg_before; do
  grep -q "\"$key\"" run.json || {
    echo "run.json lacks $key"
    exit 1
  }
done
grep -q '"same_matches": true' run.json
echo "pipeline: all agree"
