#!/usr/bin/env bash
# A forbidden include fails the build: compiles two small core files with
# exactly the include folders the build gives the core layer (manta_core).
# probe_core_allowed.c (it includes rt.h) must compile; probe_core_forbidden.c
# (it also includes cluster.h) must fail, because cluster.h is not found.
#
#   run-include-probe.sh <compiler> <probe dir> <include dir>...
set -euo pipefail

cc=$1
dir=$2
shift 2
flags=(-std=c11 -D_GNU_SOURCE -fsyntax-only)
for inc in "$@"; do
  flags+=("-I$inc")
done

out=$(mktemp)
trap 'rm -f "$out"' EXIT

if ! "$cc" "${flags[@]}" "$dir/probe_core_allowed.c" >"$out" 2>&1; then
  cat "$out"
  echo "include-probe: FAIL: probe_core_allowed.c does not compile with the" \
    "core layer's include folders; the probe itself is broken"
  exit 1
fi
if "$cc" "${flags[@]}" "$dir/probe_core_forbidden.c" >"$out" 2>&1; then
  echo "include-probe: FAIL: a core file including cluster.h compiles: the" \
    "core layer sees the cluster's folder (include folders: $*)"
  exit 1
fi
if ! grep -q '"\?cluster\.h"\?: No such file' "$out"; then
  cat "$out"
  echo "include-probe: FAIL: probe_core_forbidden.c failed for another reason"
  exit 1
fi
echo "include-probe: OK: the core layer cannot include cluster.h:"
grep -m1 'cluster\.h.*No such file' "$out"
