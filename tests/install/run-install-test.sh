#!/usr/bin/env bash
# Installs the current build tree into a temporary prefix and builds and runs
# tests/install/consumer against it twice: through CMake (find_package(manta)
# and manta::manta) and through pkg-config with the plain C compiler. Then
# moves the prefix elsewhere and checks it still works there: every
# installed program and library has relative RUNPATHs and finds what it
# needs, the moved bin/manta runs a head, and both consumers build (with
# the README's commands) and run against the moved prefix.
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

# --- the prefix moved: nothing may point back to where it was installed ---
moved=$tmp/moved/elsewhere
mkdir -p "$(dirname "$moved")"
step "mv $prefix $moved"
mv "$prefix" "$moved"
so=${so/#$prefix/$moved}
libdir=${libdir/#$prefix/$moved}

# Every installed program and library: relative RUNPATHs only (a system
# folder, such as the JVM's, is allowed), and every library it needs found.
elves=()
while IFS= read -r f; do
  if [ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ]; then
    elves+=("$f")
  fi
done < <(find "$moved" -type f)
[ "${#elves[@]}" -ge 2 ] || fail "no installed programs or libraries found"
for f in "${elves[@]}"; do
  runpath=$(readelf -d "$f" | sed -n 's/.*R\(UN\)\{0,1\}PATH.*\[\(.*\)\]/\2/p')
  IFS=: read -r -a entries <<<"$runpath"
  for e in "${entries[@]}"; do
    case $e in
    '$ORIGIN' | '$ORIGIN/'*) ;;
    "$build"* | "$src"* | "$tmp"*) fail "$f: RUNPATH entry $e points into the build" ;;
    /usr/lib/jvm/*) ;; # libjvm for a C node hosting a JVM (libmanta_jni)
    *) fail "$f: RUNPATH entry $e is neither relative nor a system folder" ;;
    esac
  done
  if ldd "$f" | grep -q 'not found'; then
    fail "$f: $(ldd "$f" | grep 'not found')"
  fi
  if ldd "$f" | grep -q 'libmanta\.so\.0 '; then
    check_resolves "$f"
  fi
  step "moved: $(basename "$f") (RUNPATH ${runpath:-none}) resolves everything"
done

step "moved: bin/manta runs a head (and the examples' module, when installed)"
"$moved/bin/manta" --version | grep -qx "manta $hdr_version" ||
  fail "moved bin/manta --version: $("$moved/bin/manta" --version 2>&1)"
export MANTA_STATE_DIR=$tmp/state
unset MANTA_ADDRESS MANTA_TOKEN MANTA_TOKEN_FILE
stop_nodes() {
  "$moved/bin/manta" stop >/dev/null 2>&1 || true
  cleanup
}
trap stop_nodes EXIT
module_args=()
examples=$(find "$moved" -name 'libmanta_examples.so' | head -n 1)
if [ -n "$examples" ]; then
  module_args=(--module "$examples")
fi
quiet "$moved/bin/manta" start --head --port 0 --num-cpus 1 "${module_args[@]}"
"$moved/bin/manta" status >"$tmp/status.out" 2>&1 ||
  fail "moved bin/manta status: $(cat "$tmp/status.out")"
grep -q '^cluster: 1 node(s), 1 alive' "$tmp/status.out" ||
  fail "moved bin/manta status: $(cat "$tmp/status.out")"
if [ -n "$examples" ]; then
  grep -q 'functions .*square' "$tmp/status.out" ||
    fail "the examples' module is not offered: $(cat "$tmp/status.out")"
fi
quiet "$moved/bin/manta" stop

# The README's commands, as written, against the moved prefix.
step "moved: CMake consumer (cmake -DCMAKE_PREFIX_PATH=<moved prefix>)"
quiet cmake -S "$consumer" -B "$tmp/cmake-moved" \
  -DCMAKE_PREFIX_PATH="$moved" -DCMAKE_C_COMPILER="$cc" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS="-Wall -Wextra -Werror"
quiet cmake --build "$tmp/cmake-moved"
check_resolves "$tmp/cmake-moved/manta_consumer"
"$tmp/cmake-moved/manta_consumer" || fail "CMake consumer (moved) failed"

step "moved: pkg-config consumer, the README's line"
export PKG_CONFIG_PATH=$libdir/pkgconfig
quiet bash -c "cd '$tmp' && $cc '$consumer/main.c' \$(pkg-config --cflags --libs manta) -Wl,-rpath,\$(pkg-config --variable=libdir manta) -o pc-moved"
check_resolves "$tmp/pc-moved"
"$tmp/pc-moved" || fail "pkg-config consumer (moved) failed"

step "OK: installed package works through CMake and pkg-config, moved too"
