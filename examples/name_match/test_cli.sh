#!/usr/bin/env bash
# name_match and gen_names on bad arguments and bad input: a clear message
# naming what is wrong, and exit status 2 (1 for a failure while running).
#
#   test_cli.sh BIN_DIR WORK_DIR BAD_MODULE
set -euo pipefail
bin=$1
work=$2
bad_module=$3
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work"
mkdir -p "$work"
cd "$work"
source "$here/test_expect.sh"

printf 'id,name\n1,Acme Ltd\n2,Globex Inc\n' >ref.csv
printf 'name\nAcme Limited\n' >q.csv
printf 'id,name\n' >empty.csv
printf 'a,b,c\n1,2,3\n4,5\n' >short.csv
printf 'name\n"Acme\n' >open.csv

nm=$bin/name_match
expect 2 'usage: name_match' "$nm"
expect 2 "cannot open 'nope.csv'" "$nm" nope.csv q.csv
expect 2 "no column 'nosuch' in the header \\(it has: id,name\\)" \
  "$nm" --column nosuch ref.csv q.csv
expect 2 "no column 'x' in the header" "$nm" --query-column x ref.csv q.csv
expect 2 "no column 5" "$nm" --ref-column 5 ref.csv q.csv
expect 2 "-k takes a whole number from 1 to 1000, got '0'" \
  "$nm" -k 0 ref.csv q.csv
expect 2 "-k takes a whole number from 1 to 1000, got 'abc'" \
  "$nm" -k abc ref.csv q.csv
expect 2 "-k takes a whole number from 1 to 1000, got '1001'" \
  "$nm" --k=1001 ref.csv q.csv
expect 2 "-k needs a value" "$nm" ref.csv q.csv -k
expect 2 "--max-distance takes a whole number" \
  "$nm" --max-distance -1 ref.csv q.csv
expect 2 "--chunk-size takes a whole number from 1" \
  "$nm" --chunk-size 0 ref.csv q.csv
expect 2 "unknown option '--frobnicate'" "$nm" --frobnicate ref.csv q.csv
expect 2 "--normalize takes names, case or none, got 'upper'" \
  "$nm" --normalize upper ref.csv q.csv
expect 2 "--kernel takes auto, scalar, generic, avx2 or avx512" \
  "$nm" --kernel sse9 ref.csv q.csv
expect 2 "--separator takes one character" "$nm" --separator ';;' ref.csv q.csv
expect 2 "--sequential and --compare exclude each other" \
  "$nm" --sequential --compare ref.csv q.csv
expect 2 "--quiet takes no value" "$nm" --quiet=yes ref.csv q.csv
expect 2 "one reference file and one query file" "$nm" ref.csv q.csv q.csv
expect 2 "cannot read the module '/nonexistent/m.so'" \
  "$nm" --module /nonexistent/m.so ref.csv q.csv
expect 2 "is a name, but the file has no header" \
  "$nm" --no-header --column name ref.csv q.csv
expect 2 "empty.csv has no reference names" "$nm" empty.csv q.csv
expect 2 "short.csv line 3: 2 fields, but the names are in column 3 \\(c\\)" \
  "$nm" --ref-column c short.csv q.csv
expect 2 "open.csv line 2: a quoted field is never closed" \
  "$nm" ref.csv open.csv
expect 2 "--address takes HOST:PORT" "$nm" --address nowhere ref.csv q.csv
expect 2 "--address makes no sense" \
  "$nm" --sequential --address 127.0.0.1:9 ref.csv q.csv
# Cluster mode: the runtime's error, printed, and a failure (not faked).
expect 1 "cannot join the manta cluster at 127.0.0.1:9" \
  "$nm" --address 127.0.0.1:9 ref.csv q.csv
expect 1 "cannot join the manta cluster at 127.0.0.1:9" \
  env MANTA_ADDRESS=127.0.0.1:9 "$nm" ref.csv q.csv
# A module that lies or fails: the driver says so and stops with status 1.
expect 1 "top_k gave a bad answer: match 0 of query 0, \\[1000000000, 0, 1" \
  "$nm" --module "$bad_module" -k 1 ref.csv q.csv
expect 1 "a search failed: .*deliberate failure" \
  "$nm" --module "$bad_module" -k 2 ref.csv q.csv
expect 2 "cannot write '/nonexistent/out.csv'" \
  "$nm" --sequential -o /nonexistent/out.csv ref.csv q.csv
expect 2 "cannot write '/nonexistent/run.json'" \
  "$nm" --json /nonexistent/run.json ref.csv q.csv

# Good input of every shape gives the same matches: plain lists, other
# separators, a byte order mark, CRLF, quoted fields with commas, quotes
# and a line break.
expect 0 '^1,Acme Limited,1,1,Acme Ltd,4,' "$nm" --quiet ref.csv q.csv
printf 'Acme Ltd\nGlobex Inc\n' >plain.txt
printf 'Acme Limited\n' >plain-q.txt
expect 0 '^1,Acme Limited,1,1,Acme Ltd,4,0.6667$' \
  "$nm" --quiet --no-header plain.txt plain-q.txt
printf 'id;name\n1;Acme Ltd\n2;Globex Inc\n' >semi.csv
expect 0 '^1,Acme Limited,1,1,Acme Ltd,4,' \
  "$nm" --quiet --separator ';' semi.csv q.csv
printf 'name\tid\nAcme Ltd\t1\n' >tab.tsv
expect 0 '^1,Acme Limited,1,1,Acme Ltd,4,' \
  "$nm" --quiet --separator tab --ref-column 1 tab.tsv q.csv
printf '\xEF\xBB\xBFid,name\r\n1,"Globex, ""The"" Inc"\r\n2,"Acme\r\nLtd"\r\n' \
  >quoted.csv
printf 'name\nglobex the inc\n' >quoted-q.csv
expect 0 '^1,globex the inc,1,1,"Globex, ""The"" Inc",0,1.0000$' \
  "$nm" --quiet -k 1 quoted.csv quoted-q.csv
expect 0 '^1,globex the inc,2,2,"Acme' "$nm" --quiet -k 2 quoted.csv \
  quoted-q.csv
expect 0 'usage: name_match' "$nm" --help
for opt in -k --max-distance --normalize --column --ref-column \
  --query-column --no-header --separator --output --json --progress \
  --no-progress --quiet --sequential --compare --cpus --address --module \
  --chunk-size --batch-size --kernel --help; do
  grep -qe "$opt" out.txt || {
    echo "FAIL: --help does not list $opt"
    failures=$((failures + 1))
  }
done

gn=$bin/gen_names
expect 2 'usage: gen_names' "$gn"
expect 2 "--refs takes a whole number from 0 to 100000000, got 'many'" \
  "$gn" --refs many a.csv b.csv
expect 2 "unknown option '--fast'" "$gn" --fast a.csv b.csv
expect 2 "cannot write '/nonexistent/a.csv'" "$gn" /nonexistent/a.csv b.csv
expect 2 "--refs 0 needs --unrelated 100" "$gn" --refs 0 a.csv b.csv
expect 0 'usage: gen_names' "$gn" --help

if [ "$failures" -ne 0 ]; then
  echo "$failures case(s) failed"
  exit 1
fi
echo "all cases passed"
