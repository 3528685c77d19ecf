#!/bin/bash
# A driver puts 1 GiB of objects while its address space is limited to
# 512 MiB (prlimit --as). With a 64 MiB object store it spills and finishes,
# every object read back intact; without a store limit the same run must
# fail (it cannot map what it puts), which shows the limit is what saves it.
#
# usage: run-spill-memlimit.sh DRIVER
set -u
driver=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/manta-spill-memlimit.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
as=$((512 << 20))

if ! prlimit --as=$as true 2>/dev/null; then
  echo "SKIP: prlimit --as is not available here"
  exit 0
fi

echo "== 64 MiB store under a 512 MiB address-space limit"
MANTA_OBJECT_STORE_MEMORY=64MiB MANTA_SPILL_DIR=$tmp \
  prlimit --as=$as "$driver" 1024 4
rc=$?
if [ $rc -ne 0 ]; then
  echo "FAIL: the bounded run exited $rc"
  exit 1
fi
left=$(find "$tmp" -mindepth 1 | wc -l)
if [ "$left" -ne 0 ]; then
  echo "FAIL: $left spill files or folders left after shutdown"
  find "$tmp"
  exit 1
fi

echo "== no store limit, same address-space limit: must fail"
MANTA_OBJECT_STORE_MEMORY=0 MANTA_SPILL_DIR=$tmp \
  prlimit --as=$as "$driver" 1024 4 2>&1 | tail -2
rc=${PIPESTATUS[0]}
if [ $rc -eq 0 ]; then
  echo "FAIL: the unbounded run fit in $as bytes; the test proves nothing"
  exit 1
fi
echo "ok: bounded run finished, unbounded run failed ($rc)"
