#!/usr/bin/env bash
# Installs the current build tree into a temporary prefix and builds and runs
# tests/install/consumer against it twice: through CMake (find_package(manta)
# and manta::manta) and through pkg-config with the plain C compiler.
#
#   run-install-test.sh <build-dir> <source-dir> <c-compiler>
#
# The temporary directory lives in <build-dir> and is removed at the end
# (set MANTA_KEEP_INSTALL_TEST=1 to keep it for a post-mortem).
set -euo pipefail

if [ $# -ne 3 ]; then
  echo "usage: $0 <build-dir> <source-dir> <c-compiler>" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
cc=$3
consumer=$src/tests/install/consumer

tmp=$(mktemp -d "$build/install-test.XXXXXX")
cleanup() {
  if [ "${MANTA_KEEP_INSTALL_TEST:-0}" = 1 ]; then
    echo "install-test: kept $tmp"
  else
    rm -rf "$tmp"
  fi
}
trap cleanup EXIT
prefix=$tmp/prefix

step() { echo "install-test: $*"; }
fail() {
  echo "install-test: FAIL: $*" >&2
  exit 1
}
# Runs a command quietly; shows its output only when it fails.
quiet() {
  local log=$tmp/last.log
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    fail "$*"
  fi
}

step "cmake --install $build --prefix $prefix"
quiet cmake --install "$build" --prefix "$prefix"

# The layout a user relies on.
[ -f "$prefix/include/manta.h" ] || fail "include/manta.h not installed"
so=$(find "$prefix" -name 'libmanta.so.*.*' -type f | head -n 1)
[ -n "$so" ] || fail "libmanta.so.<version> not installed"
libdir=$(dirname "$so")
[ -L "$libdir/libmanta.so.0" ] || fail "soname link libmanta.so.0 missing"
[ -L "$libdir/libmanta.so" ] || fail "development link libmanta.so missing"
[ -f "$libdir/cmake/manta/mantaConfig.cmake" ] ||
  fail "lib/cmake/manta/mantaConfig.cmake missing"
[ -f "$libdir/pkgconfig/manta.pc" ] || fail "pkgconfig/manta.pc missing"
if [ -n "$(find "$prefix" -name 'libmanta*.a')" ]; then
  fail "the static library (internals) must not be installed"
fi
# An installed package must not point back into the build or source tree.
if grep -rlF -e "$build" -e "$src/" "$libdir/cmake" "$libdir/pkgconfig"; then
  fail "installed package files above refer to $build or $src"
fi

# Checks that a program resolves libmanta.so.0 to the installed copy.
check_resolves() {
  local exe=$1 resolved
  resolved=$(ldd "$exe" | awk '$1 == "libmanta.so.0" { print $3 }')
  [ -n "$resolved" ] || fail "$exe: libmanta.so.0 not found at run time"
  [ "$(readlink -f "$resolved")" = "$(readlink -f "$so")" ] ||
    fail "$exe loads $resolved, not the installed $so"
}

step "CMake consumer: find_package(manta 0) + manta::manta"
quiet cmake -S "$consumer" -B "$tmp/cmake-build" \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS="-Wall -Wextra -Werror"
quiet cmake --build "$tmp/cmake-build"
check_resolves "$tmp/cmake-build/manta_consumer"
"$tmp/cmake-build/manta_consumer" || fail "CMake consumer failed"

step "pkg-config consumer: $cc \$(pkg-config --cflags --libs manta)"
export PKG_CONFIG_PATH=$libdir/pkgconfig
pkg-config --exists --print-errors manta || fail "pkg-config cannot find manta"
pc_libdir=$(pkg-config --variable=libdir manta)
[ "$(readlink -f "$pc_libdir")" = "$(readlink -f "$libdir")" ] ||
  fail "manta.pc says libdir=$pc_libdir, installed in $libdir"
hdr_version=$(sed -n 's/^#define MANTA_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\).*/\2/p' \
  "$prefix/include/manta.h" | paste -sd.)
[ "$(pkg-config --modversion manta)" = "$hdr_version" ] ||
  fail "manta.pc has version $(pkg-config --modversion manta), manta.h $hdr_version"
read -r -a cflags <<<"$(pkg-config --cflags manta)"
read -r -a libs <<<"$(pkg-config --libs manta)"
quiet "$cc" -std=c99 -Wall -Wextra -Werror "${cflags[@]}" \
  "$consumer/main.c" -o "$tmp/pc-consumer" "${libs[@]}" \
  -Wl,-rpath,"$pc_libdir"
check_resolves "$tmp/pc-consumer"
"$tmp/pc-consumer" || fail "pkg-config consumer failed"

step "OK: installed package works through CMake and pkg-config"
