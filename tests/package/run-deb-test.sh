#!/usr/bin/env bash
# The Debian packages (docs/deploy.md, "Debian packages"): built by CPack
# from this build tree (libmanta0, libmanta-dev, manta, manta-examples and,
# with Java, libmanta-java), each one's control fields and contents checked,
# lintian's tags limited to those explained (lintian-explained.txt), then
# all installed with dpkg into a throwaway root (dpkg --root, unpacked: its
# files and dpkg's record of them, nothing on this machine touched) and run
# from there: the demo (a head and a node started by the root's manta, each
# loading the root's name-matching module, and the root's name_match driver
# joining them, which must write what it writes embedded), the examples'
# module, examples/square.c built with the README's pkg-config line, and a
# Java program with the installed jar alone. Every process started is
# stopped on exit, pass or fail.
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
version=$(sed -n 's/^#define MANTA_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\).*/\2/p' \
  "$src/abi/include/manta.h" | paste -sd.)
major=${version%%.*}
packages=("libmanta$major" libmanta-dev manta manta-examples)
[ -n "$java" ] && packages+=(libmanta-java)
declare -A deb=()
for p in "${packages[@]}"; do
  deb[$p]=$tmp/out/${p}_${version}_$(dpkg --print-architecture).deb
  [ -f "${deb[$p]}" ] || fail "no ${p}_${version}_*.deb in $tmp/out: $(ls "$tmp/out")"
done
extra=$(find "$tmp/out" -maxdepth 1 -name '*.deb' | wc -l)
[ "$extra" -eq "${#packages[@]}" ] ||
  fail "$extra packages, not ${#packages[@]}: $(ls "$tmp/out"/*.deb)"
step "${packages[*]} $version"

field() { dpkg-deb -f "${deb[$1]}" "$2"; }
lib=libmanta$major
for p in "${packages[@]}"; do
  [ "$(field "$p" Package)" = "$p" ] || fail "$p: Package: $(field "$p" Package)"
  [ "$(field "$p" Version)" = "$version" ] ||
    fail "$p: Version $(field "$p" Version), not $version"
  [ "$(field "$p" Architecture)" = "$(dpkg --print-architecture)" ] ||
    fail "$p: Architecture: $(field "$p" Architecture)"
  if [ "$p" != "$lib" ]; then
    field "$p" Depends | grep -q "$lib (= $version)" ||
      fail "$p does not depend on $lib (= $version): $(field "$p" Depends)"
  fi
done
# The library's own dependencies come from dpkg-shlibdeps.
for dep in libgrpc libprotobuf-c1 libmicrohttpd libc6; do
  field "$lib" Depends | grep -q "$dep" ||
    fail "$lib: Depends lacks $dep: $(field "$lib" Depends)"
done
field manta-examples Depends | grep -q "manta (= $version)" ||
  fail "manta-examples does not depend on manta: $(field manta-examples Depends)"
dpkg-deb --ctrl-tarfile "${deb[$lib]}" | tar -t >"$tmp/control.list"
grep -qx './shlibs' "$tmp/control.list" || fail "$lib has no shlibs"
grep -qx './triggers' "$tmp/control.list" || fail "$lib has no ldconfig trigger"
dpkg-deb --info "${deb[$lib]}" shlibs | grep -qx "libmanta $major $lib (>= $version)" ||
  fail "$lib's shlibs: $(dpkg-deb --info "${deb[$lib]}" shlibs)"

# contains PACKAGE FILE...: each FILE is in PACKAGE (and so in no other:
# dpkg refuses two packages holding one file when they are unpacked below).
contains() {
  local p=$1 f
  shift
  dpkg-deb -c "${deb[$p]}" | awk '{ print $6 }' >"$tmp/contents"
  for f in "$@"; do
    grep -qx -- "$f" "$tmp/contents" || fail "$p lacks $f"
  done
  if grep -Eq '\.a$|/build/|install-test' "$tmp/contents"; then
    fail "$p holds what it should not: $(grep -E '\.a$|/build/' "$tmp/contents")"
  fi
  grep -qx -- "./usr/share/doc/$p/changelog.gz" "$tmp/contents" ||
    fail "$p has no changelog"
}
contains "$lib" ./usr/lib/libmanta.so.0 "./usr/lib/libmanta.so.$version"
contains libmanta-dev ./usr/include/manta.h ./usr/lib/libmanta.so \
  ./usr/lib/pkgconfig/manta.pc ./usr/lib/cmake/manta/mantaConfig.cmake
contains manta ./usr/bin/manta
contains manta-examples ./usr/lib/manta/libmanta_examples.so \
  ./usr/lib/manta/name_match/name_match ./usr/lib/manta/name_match/gen_names \
  ./usr/lib/manta/name_match/name_match_module.so
if [ -n "$java" ]; then
  contains libmanta-java ./usr/share/java/manta.jar ./usr/lib/libmanta_jni.so
  grep -q '^./usr/share/maven-repo/.*/manta-.*\.pom$' "$tmp/contents" ||
    fail "libmanta-java lacks the pom"
fi

step "lintian: only the tags explained in docs/deploy.md"
command -v lintian >/dev/null || fail "lintian not found: run scripts/install-deps.sh"
grep -v '^#' "$src/tests/package/lintian-explained.txt" | sort -u >"$tmp/explained"
: >"$tmp/lintian.out"
for p in "${packages[@]}"; do
  lintian --allow-root "${deb[$p]}" >>"$tmp/lintian.out" 2>&1 || true
done
sed -n 's/^[EWI]: [a-z0-9.+-]*: \([a-z0-9-]*\).*/\1/p' "$tmp/lintian.out" | sort -u >"$tmp/tags"
unexplained=$(comm -23 "$tmp/tags" "$tmp/explained")
[ -z "$unexplained" ] ||
  fail "lintian tags not explained: $unexplained ($(cat "$tmp/lintian.out"))"
step "lintian (explained): $(grep -c '^[EW]: ' "$tmp/lintian.out") tag(s)"

step "dpkg --root $root --unpack (a throwaway root)"
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
touch "$root/var/lib/dpkg/status" "$root/var/lib/dpkg/available"
# --force-depends: the throwaway root records no libc6 or libgrpc; the
# libraries come from this machine. Unpacked, not configured: configuring
# would run the ldconfig trigger chrooted into a root with no ldconfig.
all_debs=()
for p in "${packages[@]}"; do all_debs+=("${deb[$p]}"); done
quiet dpkg --root="$root" --force-depends --force-not-root --unpack "${all_debs[@]}"
for p in "${packages[@]}"; do
  dpkg --root="$root" -s "$p" | grep -qx 'Status: install ok unpacked' ||
    fail "dpkg does not record $p in $root: $(dpkg --root="$root" -s "$p" 2>&1)"
done
dpkg --root="$root" -L manta | grep -qx /usr/bin/manta ||
  fail "dpkg -L manta lacks /usr/bin/manta"
dpkg --root="$root" -L "$lib" | grep -qx "/usr/lib/libmanta.so.$version" ||
  fail "dpkg -L $lib lacks the library"
# The same files as dpkg-deb -x of every package gives.
for p in "${packages[@]}"; do dpkg-deb -x "${deb[$p]}" "$tmp/x"; done
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

step "run from the root: the demo on a head and a node"
nm=$root/usr/lib/manta/name_match
quiet "$manta" start --head --port 0 --num-cpus 1 --module "$nm/name_match_module.so"
head=$(sed -n 's/^manta: head started at \([^ ]*\) .*/\1/p' "$tmp/last.log")
[ -n "$head" ] || fail "no address in: $(cat "$tmp/last.log")"
quiet "$manta" start --address "$head" --num-cpus 1 --module "$nm/name_match_module.so"
for _ in $(seq 200); do
  "$manta" status >"$tmp/status.out" 2>&1 || true
  grep -q ", 2 alive" "$tmp/status.out" && break
  sleep 0.05
done
grep -q ", 2 alive" "$tmp/status.out" || fail "not 2 live nodes: $(cat "$tmp/status.out")"
quiet "$nm/gen_names" --seed 7 --refs 3000 --queries 100 "$tmp/ref.csv" "$tmp/queries.csv"
opts=(--quiet --chunk-size 600 --batch-size 10 -k 3)
quiet timeout 120 "$nm/name_match" "${opts[@]}" "$tmp/ref.csv" "$tmp/queries.csv" \
  -o "$tmp/embedded.csv"
quiet timeout 120 "$nm/name_match" "${opts[@]}" --cpus 1 --address "$head" \
  "$tmp/ref.csv" "$tmp/queries.csv" -o "$tmp/cluster.csv"
cmp -s "$tmp/embedded.csv" "$tmp/cluster.csv" ||
  fail "the demo on the cluster wrote other matches than embedded"
[ "$(wc -l <"$tmp/cluster.csv")" -gt 100 ] || fail "the demo wrote $(wc -l <"$tmp/cluster.csv") lines"
# The nodes' heartbeats bring their task counts to the head: the searches
# must have run on the nodes, not only in the driver.
ran=0
for _ in $(seq 100); do
  ran=$("$manta" status | sed -n 's/.* running, \([0-9]*\) finished;.*/\1/p' |
    awk '{ n += $1 } END { print n + 0 }')
  [ "$ran" -gt 0 ] && break
  sleep 0.05
done
[ "$ran" -gt 0 ] || fail "the head and the node ran none of the searches"
step "the demo: $(wc -l <"$tmp/cluster.csv") lines as embedded; the nodes ran $ran task(s)"
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
