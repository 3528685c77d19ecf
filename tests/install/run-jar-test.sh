#!/usr/bin/env bash
# manta.jar on its own (docs/java.md, "manta.jar on its own"): installed,
# then copied alone into an empty folder, it runs a Java program with a bare
# `java -cp manta.jar:app.jar` (no -Djava.library.path, no LD_LIBRARY_PATH,
# no install prefix left), loading the libmanta and libmanta_jni it carries
# from a private cache folder. Also: inside its install prefix the jar uses
# the prefix's libraries; a cached library that was changed is written
# afresh; a cache folder others could use is refused with the reason.
#
#   run-jar-test.sh <build-dir> <java> <javac> <source-dir>
set -euo pipefail

build=$(cd "$1" && pwd)
java=$2
javac=$3
src=$(cd "$4" && pwd)
tmp=$(mktemp -d) # in /tmp: the cache checks need folders no one else may write
trap 'rm -rf "$tmp"' EXIT
unset XDG_CACHE_HOME LD_LIBRARY_PATH MANTA_ADDRESS JAVA_TOOL_OPTIONS

step() { echo "jar-test: $*"; }
fail() {
  echo "jar-test: FAIL: $*" >&2
  exit 1
}

step "cmake --install $build --prefix $tmp/prefix"
cmake --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log" 2>&1 ||
  fail "install: $(cat "$tmp/install.log")"
jar=$tmp/prefix/share/java/manta.jar
pom=$(find "$tmp/prefix/share/maven-repo" -name 'manta-*.pom')
[ -n "$pom" ] || fail "no pom installed"
version=$(sed -n 's/^#define MANTA_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\).*/\2/p' \
  "$tmp/prefix/include/manta.h" | paste -sd.)
grep -q "<version>$version</version>" "$pom" || fail "the pom does not say version $version"
grep -q "<artifactId>manta</artifactId>" "$pom" || fail "the pom names no artifact manta"
[ "$(readlink -f "$(dirname "$pom")/manta-$version.jar")" = "$(readlink -f "$jar")" ] ||
  fail "the Maven layout's jar link does not lead to share/java/manta.jar"
unzip -Z1 "$jar" >"$tmp/jar.list"
grep -qx 'manta/native/linux-x86_64/libmanta_jni.so' "$tmp/jar.list" ||
  fail "manta.jar carries no libmanta_jni.so"
grep -qx 'manta/native/linux-x86_64/libmanta.so.0' "$tmp/jar.list" ||
  fail "manta.jar carries no libmanta.so.0"

mkdir "$tmp/app"
"$javac" -d "$tmp/app" -cp "$jar" "$src/tests/install/jar/SelfLoadApp.java"

# run NAME: the program with a bare class path, HOME=$tmp/home.
run() {
  local name=$1 cp=$2
  shift 2
  (cd "$tmp" && env HOME="$tmp/home" "$@" "$java" -Xmx128m -cp "$cp" SelfLoadApp \
    >"$tmp/$name.out" 2>"$tmp/$name.err")
}
expect_ran() {
  grep -qx "twice(21) = 42; put/get: from a bare jar" "$tmp/$1.out" ||
    fail "$1: $(cat "$tmp/$1.out" "$tmp/$1.err")"
}
loaded_from() { # the folders libmanta(_jni) were loaded from, one per line
  sed -n 's/^loaded \(.*\)\/[^/]*$/\1/p' "$tmp/$1.out" | sort -u
}
mkdir -m 700 "$tmp/home"

step "inside its prefix: the prefix's libraries"
run prefix "$jar:$tmp/app" || fail "in the prefix: $(cat "$tmp/prefix.err")"
expect_ran prefix
[ "$(loaded_from prefix)" = "$tmp/prefix/lib" ] ||
  fail "in the prefix, loaded from $(loaded_from prefix)"

step "alone: java -cp manta.jar:app.jar, nothing else on the machine"
mkdir "$tmp/bare"
cp "$jar" "$tmp/bare/manta.jar"
rm -rf "$tmp/prefix"
run bare "$tmp/bare/manta.jar:$tmp/app" || fail "bare jar: $(cat "$tmp/bare.err")"
expect_ran bare
cache=$(loaded_from bare)
case $cache in
"$tmp/home/.cache/manta/native-"*) ;;
*) fail "the bare jar loaded its libraries from '$cache'" ;;
esac
[ "$(stat -c %a "$tmp/home/.cache/manta")" = 700 ] || fail "cache folder mode"
[ "$(stat -c %a "$cache")" = 700 ] || fail "cache subfolder mode"
[ -f "$cache/libmanta.so.0" ] && [ -f "$cache/libmanta_jni.so" ] ||
  fail "not both libraries in $cache: $(ls "$cache")"

step "again: the cached files are used as they are"
before=$(stat -c '%i %Y' "$cache/libmanta_jni.so")
run again "$tmp/bare/manta.jar:$tmp/app" || fail "again: $(cat "$tmp/again.err")"
expect_ran again
[ "$(stat -c '%i %Y' "$cache/libmanta_jni.so")" = "$before" ] ||
  fail "an intact cached library was written again"

step "a cached library that changed is written afresh"
sum=$(sha256sum <"$cache/libmanta_jni.so")
printf 'x' >>"$cache/libmanta_jni.so"
run changed "$tmp/bare/manta.jar:$tmp/app" || fail "changed: $(cat "$tmp/changed.err")"
expect_ran changed
[ "$(sha256sum <"$cache/libmanta_jni.so")" = "$sum" ] ||
  fail "the changed library was loaded as it was"

step "a cache folder others may use is refused, with the reason"
# refused NAME XDG_CACHE_HOME WHY: the program fails, saying WHY.
refused() {
  if run "$1" "$tmp/bare/manta.jar:$tmp/app" XDG_CACHE_HOME="$2"; then
    fail "$1: the cache folder in $2 was used"
  fi
  grep -qF "$3" "$tmp/$1.err" || fail "$1: $(cat "$tmp/$1.err")"
}
mkdir -m 700 "$tmp/xdg"
mkdir -m 755 "$tmp/xdg/manta"
chmod 755 "$tmp/xdg/manta"
refused open "$tmp/xdg" \
  "the cache folder $tmp/xdg/manta cannot be trusted: its mode 0755 lets other users in"
mkdir -m 777 "$tmp/shared"
chmod 777 "$tmp/shared"
refused shared "$tmp/shared" \
  "the folder above it, $tmp/shared, has mode 0777: others may replace it"
step "OK"
