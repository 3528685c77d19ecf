#!/usr/bin/env bash
# Regenerates the ABI baseline abi/manta.abi from a built libmanta.so, on
# purpose: after adding functions (or, with a new major, after a deliberate
# break). Review the printed abidiff report and the diff of abi/manta.abi,
# and put the report into the commit message. See docs/abi.md.
#
#   scripts/abi-update.sh [<build-dir>]    (default: build/)
#
# Builds the target `manta` in <build-dir> first (configuring it as
# RelWithDebInfo if it is not configured yet): abidw needs debug info.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build=${1:-build}
baseline=abi/manta.abi
headers=abi/include

for tool in abidw abidiff cmake; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "abi-update: $tool not found (bash scripts/install-deps.sh)" >&2
    exit 1
  fi
done

if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
cmake --build "$build" --target manta -j "${MANTA_JOBS:-2}"
lib=$build/runtime/libmanta.so

if grep -qE '^MANTA_SANITIZE:STRING=.+' "$build/CMakeCache.txt"; then
  echo "abi-update: $build is a sanitizer build; use a plain one" >&2
  exit 1
fi
if ! readelf -S -W "$lib" | grep -q '\.debug_info'; then
  echo "abi-update: $lib has no debug info; configure $build with" \
    "-DCMAKE_BUILD_TYPE=RelWithDebInfo" >&2
  exit 1
fi

tmp=$(mktemp "${TMPDIR:-/tmp}/manta-abi.XXXXXX")
trap 'rm -f "$tmp"' EXIT

# Only the exported functions and the types they reach
# (--exported-interfaces-only), only types of the public headers
# (--headers-dir + --drop-private-types), no source locations, paths or
# DT_NEEDED entries, type ids derived from the types (hash) rather than
# numbered: the baseline changes only when the ABI does, and its diff shows
# what changed. abidw still groups declarations by the .c file that defines
# them ("abi-instr path"); those paths are made relative to the repository
# so the baseline does not depend on where the checkout lives.
abidw --headers-dir "$headers" --drop-private-types --exported-interfaces-only \
  --no-show-locs --no-corpus-path --no-comp-dir-path --no-elf-needed \
  --type-id-style hash --out-file "$tmp" "$lib"
build_abs=$(cd "$build" && pwd)
sed -i -e "s|path='$build_abs/|path='<build>/|" -e "s|path='$root/|path='|" "$tmp"

# The new baseline must compare equal to the library it was made from.
# (Compared like scripts/abi-check.sh does; see there why without headers.)
if ! abidiff --no-show-locs --exported-interfaces-only "$tmp" "$lib" \
  >/dev/null; then
  echo "abi-update: the generated baseline does not match $lib" >&2
  exit 1
fi

if [ -f "$baseline" ]; then
  echo "abi-update: changes from the old baseline to $lib:"
  set +e
  abidiff --no-show-locs --exported-interfaces-only "$baseline" "$lib" |
    sed 's/^/  | /'
  rc=${PIPESTATUS[0]}
  set -e
  case $rc in
  0) echo "abi-update: none; the baseline is unchanged in substance." ;;
  4) echo "abi-update: ABI changed (exit 4): review the report above." ;;
  *)
    echo "abi-update: WARNING: abidiff exit $rc: this is an INCOMPATIBLE" \
      "change. It needs a new major version and soname (docs/abi.md)." >&2
    ;;
  esac
fi

install -m 644 "$tmp" "$baseline"
echo "abi-update: wrote $baseline from $lib."
echo "abi-update: review 'git diff $baseline' and quote the report above in" \
  "the commit message."
