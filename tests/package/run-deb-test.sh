#!/usr/bin/env bash
# The Debian package (docs/deploy.md, "Debian package"): built by CPack from
# this build tree, its control fields and contents checked, lintian's tags
# limited to those explained (lintian-explained.txt), then installed with
# dpkg into a throwaway root (dpkg --root, unpacked: its files and dpkg's
# record of them, nothing on this machine touched) and run from there: the
# manta command with the examples' module, examples/square.c built with the
# README's pkg-config line, and a Java program with the installed jar alone.
# Every process started is stopped on exit, pass or fail.
#
#   run-deb-test.sh <build-dir> <source-dir> <c-compiler> [<java> <javac>]
set -euo pipefail

build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
cc=$3
java=${4:-}
javac=${5:-}
tmp=$(mktemp -d)
root=$tmp/root
manta=$root/usr/bin/manta
unset MANTA_ADDRESS MANTA_TOKEN MANTA_TOKEN_FILE XDG_CACHE_HOME LD_LIBRARY_PATH
export MANTA_STATE_DIR=$tmp/state

cleanup() {
  if [ -x "$manta" ]; then
    "$manta" stop >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

step() { echo "deb-test: $*"; }
fail() {
  echo "deb-test: FAIL: $*" >&2
  exit 1
}
quiet() {
  if ! "$@" >"$tmp/last.log" 2>&1; then
    cat "$tmp/last.log" >&2
    fail "$*"
  fi
}

step "cpack -G DEB"
quiet cpack --config "$build/CPackConfig.cmake" -G DEB -B "$tmp/out"
deb=$(find "$tmp/out" -maxdepth 1 -name 'manta_*.deb')
[ -n "$deb" ] || fail "no manta_*.deb in $tmp/out"
version=$(sed -n 's/^#define MANTA_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\).*/\2/p' \
  "$src/abi/include/manta.h" | paste -sd.)
step "$(basename "$deb")"

field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = manta ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$version" ] || fail "Version $(field Version), not $version"
[ "$(field Architecture)" = "$(dpkg --print-architecture)" ] ||
  fail "Architecture: $(field Architecture)"
for dep in libgrpc libprotobuf-c1 libmicrohttpd libc6; do
  field Depends | grep -q "$dep" || fail "Depends lacks $dep: $(field Depends)"
done
dpkg-deb --ctrl-tarfile "$deb" | tar -t >"$tmp/control.list"
grep -qx './shlibs' "$tmp/control.list" || fail "no shlibs"
grep -qx './triggers' "$tmp/control.list" || fail "no ldconfig trigger"

dpkg-deb -c "$deb" | awk '{ print $6 }' >"$tmp/contents"
for f in ./usr/bin/manta ./usr/include/manta.h ./usr/lib/libmanta.so.0 \
  ./usr/lib/libmanta.so ./usr/lib/pkgconfig/manta.pc \
  ./usr/lib/cmake/manta/mantaConfig.cmake ./usr/share/java/manta.jar \
  ./usr/lib/libmanta_jni.so; do
  grep -qx -- "$f" "$tmp/contents" || fail "the package lacks $f"
done
grep -q '^./usr/share/maven-repo/.*/manta-.*\.pom$' "$tmp/contents" ||
  fail "the package lacks the pom"
if grep -Eq '\.a$|/build/|install-test' "$tmp/contents"; then
  fail "the package holds what it should not: $(grep -E '\.a$|/build/' "$tmp/contents")"
fi

step "lintian: only the tags explained in docs/deploy.md"
command -v lintian >/dev/null || fail "lintian not found: run scripts/install-deps.sh"
lintian --allow-root "$deb" >"$tmp/lintian.out" 2>&1 || true
grep -v '^#' "$src/tests/package/lintian-explained.txt" | sort -u >"$tmp/explained"
sed -n 's/^[EWI]: manta[^:]*: \([a-z0-9-]*\).*/\1/p' "$tmp/lintian.out" | sort -u >"$tmp/tags"
unexplained=$(comm -23 "$tmp/tags" "$tmp/explained")
[ -z "$unexplained" ] ||
  fail "lintian tags not explained: $unexplained ($(cat "$tmp/lintian.out"))"
if grep -q '^E: manta' "$tmp/lintian.out"; then
  step "lintian (explained): $(grep -c '^[EW]: ' "$tmp/lintian.out") tag(s)"
fi

step "dpkg --root $root --unpack (a throwaway root)"
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
touch "$root/var/lib/dpkg/status" "$root/var/lib/dpkg/available"
# --force-depends: the throwaway root records no libc6 or libgrpc; the
# libraries come from this machine. Unpacked, not configured: configuring
# would run the ldconfig trigger chrooted into a root with no ldconfig.
quiet dpkg --root="$root" --force-depends --force-not-root --unpack "$deb"
dpkg --root="$root" -s manta | grep -qx 'Status: install ok unpacked' ||
  fail "dpkg does not record manta in $root: $(dpkg --root="$root" -s manta 2>&1)"
dpkg --root="$root" -L manta | grep -qx /usr/bin/manta ||
  fail "dpkg -L manta lacks /usr/bin/manta"
# The same files as dpkg-deb -x gives.
dpkg-deb -x "$deb" "$tmp/x"
(cd "$tmp/x" && find . -type f | sort) >"$tmp/x.list"
(cd "$root" && find ./usr -type f | sort) >"$tmp/root.list"
cmp -s "$tmp/x.list" "$tmp/root.list" || fail "dpkg --root and dpkg-deb -x differ"

step "run from the root: manta"
"$manta" --version | grep -qx "manta $version" || fail "$manta --version"
loaded=$(ldd "$manta" | awk '$1 == "libmanta.so.0" { print $3 }')
[ "$(readlink -f "$loaded")" = "$(readlink -f "$root/usr/lib/libmanta.so.0")" ] ||
  fail "$manta does not load the root's libmanta: $(ldd "$manta" | grep manta)"
quiet "$manta" start --head --port 0 --num-cpus 1 \
  --module "$root/usr/lib/manta/libmanta_examples.so"
"$manta" status >"$tmp/status.out" || fail "manta status: $(cat "$tmp/status.out")"
grep -q 'functions .*square' "$tmp/status.out" ||
  fail "the examples' module is not offered: $(cat "$tmp/status.out")"

step "run from the root: examples/square.c built with the README's line"
export PKG_CONFIG_PATH=$root/usr/lib/pkgconfig
quiet bash -c "cd '$tmp' && $cc '$src/examples/square.c' \$(pkg-config --cflags --libs manta) -Wl,-rpath,\$(pkg-config --variable=libdir manta) -o square"
[ "$("$tmp/square")" = 49 ] || fail "square printed $("$tmp/square" 2>&1)"
quiet "$manta" stop

if [ -n "$java" ] && [ -n "$javac" ]; then
  step "run from the root: java -cp <root>/usr/share/java/manta.jar:app"
  mkdir "$tmp/app" "$tmp/home"
  quiet "$javac" -d "$tmp/app" -cp "$root/usr/share/java/manta.jar" \
    "$src/tests/install/jar/SelfLoadApp.java"
  (cd "$tmp" && HOME=$tmp/home "$java" -Xmx128m \
    -cp "$root/usr/share/java/manta.jar:$tmp/app" SelfLoadApp >"$tmp/java.out" 2>&1) ||
    fail "java: $(cat "$tmp/java.out")"
  grep -qx 'twice(21) = 42; put/get: from a bare jar' "$tmp/java.out" ||
    fail "java: $(cat "$tmp/java.out")"
  grep -q "^loaded $root/usr/lib/libmanta_jni.so" "$tmp/java.out" ||
    fail "the jar did not load the root's libmanta_jni: $(cat "$tmp/java.out")"
fi
step "OK"
