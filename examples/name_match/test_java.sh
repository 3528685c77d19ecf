#!/usr/bin/env bash
# The Java driver (java/NameMatch.java) against the C driver: on generated
# data and on a file of awkward CSV it must write byte for byte what
# name_match writes (and, on the generated data, what nm_brute_force
# writes); bad input and failures give the C driver's messages and exit
# statuses.
#
#   test_java.sh BIN_DIR WORK_DIR BAD_MODULE JAVA_COMMAND...
#
# JAVA_COMMAND runs examples.namematch.NameMatch: `java -cp ... CLASS`, or
# in AddressSanitizer builds the instrumented jvm_launcher.
set -euo pipefail
bin=$1
work=$2
bad_module=$3
shift 3
java=("$@")
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work"
mkdir -p "$work"
cd "$work"
source "$here/test_expect.sh"

"$bin/gen_names" --seed 11 --refs 2500 --queries 100 ref.csv queries.csv

# same NAME [options] FILES: the C and Java drivers write the same bytes.
same() {
  local name=$1
  shift
  "$bin/name_match" --quiet "$@" -o "c-$name.csv"
  "${java[@]}" --quiet "$@" -o "java-$name.csv"
  if cmp "c-$name.csv" "java-$name.csv"; then
    echo "ok: $name ($(($(wc -l <"c-$name.csv") - 1)) rows)"
  else
    echo "FAIL: $name: the Java driver's output differs"
    failures=$((failures + 1))
  fi
}

# Small chunks and batches: many tasks, chains across chunks.
same default --chunk-size 600 --batch-size 16 ref.csv queries.csv
same k1 -k 1 --chunk-size 600 --batch-size 7 ref.csv queries.csv
same k6-none -k 6 --normalize none --chunk-size 1000 ref.csv queries.csv
same within2 -k 5 --max-distance 2 --chunk-size 600 ref.csv queries.csv
same case-scalar -k 4 --normalize case --kernel scalar --chunk-size 2500 \
  --batch-size 100 ref.csv queries.csv
same cpus1 --cpus 1 --column name --chunk-size 300 ref.csv queries.csv
"$bin/nm_brute_force" ref.csv queries.csv >brute-default.csv
"$bin/nm_brute_force" -k 5 --max-distance 2 ref.csv queries.csv \
  >brute-within2.csv
for name in default within2; do
  cmp "brute-$name.csv" "java-$name.csv" || {
    echo "FAIL: $name: the Java driver differs from the brute force"
    failures=$((failures + 1))
  }
done
grep -q '^[0-9]*,[^,]*,,,,,$' java-within2.csv || {
  echo "FAIL: within2 has no query without a match"
  failures=$((failures + 1))
}

# Awkward CSV: a byte order mark, CRLF, blank lines, quoted fields with the
# separator, quotes and line breaks, bytes that are not UTF-8, a NUL inside
# a name (the chunk goes as a list then), empty names.
printf '\xef\xbb\xbfid;Name;note\r\n' >awkward-ref.csv
printf '1;"Smith; Jones ""&"" Co";x\r\n' >>awkward-ref.csv
printf '\r\n2;M\xfcller \xc3\x28GmbH;y\r\n' >>awkward-ref.csv
printf '3;"two\nlines, Ltd";z\n\n' >>awkward-ref.csv
printf '4;N\0ll Corp;w\n5;;empty\n6;O'"'"'Brien Co.;v\n' >>awkward-ref.csv
printf '7;"Acme, Inc.";u\n8;Acme Inc;t\n9;\xce\x91\xce\xb8\xce\xae\xce\xbd\xce\xb1 AE;s' \
  >>awkward-ref.csv
printf 'Name;x\r\n"smith, jones & co";1\nM\xfcller GmbH;2\n;3\n' >awkward-q.csv
printf '"N\0ll";4\nobrien\r\n"acme ""inc""";6\n\xce\xb1\xce\xb8\xce\xb7\xce\xbd\xce\xb1;7\n' \
  >>awkward-q.csv
same awkward -k 3 --separator ';' awkward-ref.csv awkward-q.csv
same awkward-chunks -k 9 --separator ';' --chunk-size 2 --batch-size 3 \
  --normalize none awkward-ref.csv awkward-q.csv
same awkward-numbered -k 2 --separator ';' --ref-column 2 --query-column 1 \
  --no-header awkward-ref.csv awkward-q.csv

# Bad input and failures: as the C driver (test_cli.sh) says them.
expect_java() {
  local want=$1 regex=$2
  shift 2
  expect "$want" "$regex" "${java[@]}" "$@"
}
expect_java 0 "usage: name_match_java" --help
expect_java 2 "usage: name_match_java" ref.csv
expect_java 2 "cannot open 'nope.csv'" nope.csv queries.csv
expect_java 2 "no column 'nosuch' in the header \\(it has: id,name,country\\)" \
  --column nosuch ref.csv queries.csv
expect_java 2 "-k takes a whole number from 1 to 1000, got '0'" -k 0 ref.csv queries.csv
expect_java 2 "unknown option '--compare'" --compare ref.csv queries.csv
expect_java 2 "--quiet takes no value" --quiet=yes ref.csv queries.csv
expect_java 2 "cannot read the module '/nonexistent/m.so'" \
  --module /nonexistent/m.so ref.csv queries.csv
printf 'name\n"open\n' >open.csv
expect_java 2 "open.csv line 2: a quoted field is never closed" ref.csv open.csv
expect_java 2 "awkward-q.csv line 6: 1 field, but the names are in column 2 \\(x\\)" \
  --separator ";" --ref-column Name --query-column x awkward-ref.csv awkward-q.csv
expect_java 2 "cannot write '/nonexistent/out.csv'" -o /nonexistent/out.csv \
  ref.csv queries.csv
expect_java 1 "cannot join the manta cluster at 127.0.0.1:9" \
  --address 127.0.0.1:9 ref.csv queries.csv
# A module that lies or fails: the driver says so and stops with status 1.
expect_java 1 "top_k gave a bad answer: match 0 of query 0, \\[1000000000, 0, 1" \
  --module "$bad_module" -k 1 ref.csv queries.csv
expect_java 1 "a search failed: .*deliberate failure" \
  --module "$bad_module" -k 2 ref.csv queries.csv

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "java driver: all agree"
