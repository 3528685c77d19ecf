#!/usr/bin/env bash
# Compares a built libmanta.so with the committed ABI baseline abi/manta.abi
# and fails on any change that is not a pure addition. See docs/abi.md.
#
#   scripts/abi-check.sh [<libmanta.so> | <build-dir>]   (default: build/)
#
# abidiff's exit status is a bit field (man abidiff, "RETURN VALUES"):
#   1 ABIDIFF_ERROR, 2 ABIDIFF_USAGE_ERROR  -> the check itself broke: fail
#   8 ABIDIFF_ABI_INCOMPATIBLE_CHANGE       -> a function/variable removed: fail
#   4 ABIDIFF_ABI_CHANGE alone              -> "might or might not be
#     compatible": additions, but also changed types of existing functions
#     (a struct that grew, an enumerator whose value moved). It passes only
#     when the report lists no removed and no changed function or variable
#     (additions only); harmless changes, such as enumerators appended to an
#     enum, are filtered out by abidiff and pass. The report is printed.
# Anything else that passes abidiff but is still a break must be caught by
# review when the baseline is updated (scripts/abi-update.sh).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
baseline=$root/abi/manta.abi

target=${1:-$root/build}
if [ -d "$target" ]; then
  lib=$target/runtime/libmanta.so
else
  lib=$target
fi

if ! command -v abidiff >/dev/null 2>&1; then
  echo "abi-check: abidiff not found: install abigail-tools" \
    "(bash scripts/install-deps.sh)" >&2
  exit 1
fi
if [ ! -f "$lib" ]; then
  echo "abi-check: no library at $lib (build first)" >&2
  exit 1
fi
if [ ! -f "$baseline" ]; then
  echo "abi-check: no baseline at $baseline;" \
    "create it with scripts/abi-update.sh" >&2
  exit 1
fi
# The baseline describes a plain build; sanitizers change the library.
if nm -D --undefined-only "$lib" | grep -qE ' (__asan|__tsan|__ubsan)_'; then
  echo "abi-check: $lib is built with sanitizers; check a plain build" >&2
  exit 1
fi
# Without debug info abidiff could only compare symbol names: a failure
# here, a skip (status $MANTA_ABI_CHECK_SKIP_STATUS) where the caller asked
# for one (CTest's abi_baseline in a Release build).
if ! readelf -S -W "$lib" | grep -q '\.debug_info'; then
  echo "abi-check: $lib has no debug info: abidiff could only compare" \
    "symbol names. Build with -g (CMAKE_BUILD_TYPE=RelWithDebInfo)." >&2
  if [ -n "${MANTA_ABI_CHECK_SKIP_STATUS:-}" ]; then
    echo "abi-check: skipped: no debug info in this build type" >&2
    exit "$MANTA_ABI_CHECK_SKIP_STATUS"
  fi
  exit 1
fi

echo "abi-check: $(basename "$baseline") vs $lib"
set +e
# No --headers-dir2 here, on purpose: abidiff decides what is public by the
# source location of a type, and the baseline has none (--no-show-locs), so
# header filtering would hide every change (tried: a grown public struct
# passed). The baseline itself holds only public types; the opaque structs
# are declaration-only there, so their private layout is never compared.
report=$(abidiff --fail-no-debug-info --no-show-locs --exported-interfaces-only \
  "$baseline" "$lib" 2>&1)
rc=$?
set -e

show_report() {
  if [ -n "$report" ]; then
    printf '%s\n' "$report" | sed 's/^/  | /'
  fi
}

if [ "$rc" -eq 0 ]; then
  echo "abi-check: OK: the ABI is identical to the baseline."
  exit 0
fi
if [ $((rc & 3)) -ne 0 ]; then
  show_report
  echo "abi-check: FAIL: abidiff could not compare (exit $rc)." >&2
  exit 1
fi
if [ $((rc & 8)) -ne 0 ]; then
  show_report
  echo "abi-check: FAIL: INCOMPATIBLE ABI change (abidiff exit $rc):" \
    "a function or variable of the baseline is gone. Within a major" \
    "version only additions are allowed; see docs/abi.md." >&2
  exit 1
fi

# rc == 4: find out whether it is only additions. The summary lines read
#   Functions changes summary: 0 Removed, 1 Changed (2 filtered out), 3 Added functions
#   Variables changes summary: 0 Removed, 0 Changed, 0 Added variable
#   Function symbols changes summary: 0 Removed, 1 Added function symbol ...
bad=$(printf '%s\n' "$report" | awk '
  /changes summary:/ {
    for (i = 1; i < NF; i++) {
      if ($(i + 1) ~ /^Removed/ && $i + 0 > 0) print
      if ($(i + 1) ~ /^Changed/ && $i + 0 > 0) print
    }
  }
  /SONAME changed|architecture changed/ { print }' | sort -u)
show_report
if [ -n "$bad" ]; then
  echo "abi-check: FAIL: the ABI changed beyond additions:" >&2
  printf '%s\n' "$bad" | sed 's/^/    /' >&2
  echo "abi-check: a changed function or type may break every program" \
    "built against the baseline. If review proves it compatible, record" \
    "it on purpose with scripts/abi-update.sh (docs/abi.md)." >&2
  exit 1
fi
echo "abi-check: OK: compatible additions only (listed above). Record them" \
  "in the baseline with scripts/abi-update.sh when the API is final."
