#!/usr/bin/env bash
# What libmanta.so exports must be exactly the API of manta.h.
#
#   check-exports.sh <libmanta.so> <manta.h> <abi-major>
#
# Fails when
#  1. the soname is not libmanta.so.<abi-major>, or manta.h's
#     MANTA_VERSION_MAJOR is not <abi-major>;
#  2. a defined dynamic symbol is not manta_* (a leak past -fvisibility=hidden
#     and the version script: an internal helper, a static library linked in
#     without hiding, a C++ runtime symbol...);
#  3. an exported manta_* symbol is not under the version node
#     MANTA_<abi-major>, or is not declared MANTA_API in manta.h (every export
#     is public API; internals must not be reachable by dlsym either);
#  4. a function declared MANTA_API in manta.h is not exported (a forgotten
#     or misspelled implementation, or one compiled without MANTA_API).
#
# The only defined dynamic symbol that is allowed without the manta_ prefix is
# the version node itself: for every version node of the version script, ld
# emits an absolute symbol (nm type "A", value 0) named after the node, here
# MANTA_<abi-major>. It carries no code or data. Nothing else is ignored:
# _init/_fini/_edata/_end/__bss_start, which older linkers exported from
# every shared object, are made local by the version script's "local: *",
# so seeing one of them means the script was not applied.
# Undefined symbols (what libmanta imports from libc) are not listed by
# --defined-only and are none of this check's business.
set -euo pipefail

if [ $# -ne 3 ]; then
  echo "usage: $0 <libmanta.so> <manta.h> <abi-major>" >&2
  exit 2
fi
lib=$1
header=$2
major=$3
node="MANTA_${major}"
NM=${NM:-nm}
READELF=${READELF:-readelf}

for tool in "$NM" "$READELF" perl; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "check-exports: '$tool' not found (binutils/perl)" >&2
    exit 1
  fi
done
[ -f "$lib" ] || {
  echo "check-exports: no library at $lib" >&2
  exit 1
}
[ -f "$header" ] || {
  echo "check-exports: no header at $header" >&2
  exit 1
}

fail=0
problem() {
  echo "check-exports: FAIL: $*" >&2
  fail=1
}

# 1. soname and major ---------------------------------------------------------
# The CMake project's major (the soname) and the header's must be the same.
hdr_major=$(sed -n 's/^#define MANTA_VERSION_MAJOR \([0-9][0-9]*\).*/\1/p' "$header")
if [ "$hdr_major" != "$major" ]; then
  problem "MANTA_VERSION_MAJOR in manta.h is '${hdr_major:-?}'," \
    "the project's major (soname) is $major"
fi
soname=$("$READELF" -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
if [ "$soname" != "libmanta.so.${major}" ]; then
  problem "soname is '${soname:-<none>}', expected libmanta.so.${major}"
fi

# 2./3. what the library defines ---------------------------------------------
# nm -D --defined-only prints "<value> <type> <name>[@@<version>]". Older nm
# prints no version; then versions are read from readelf below.
nm_out=$("$NM" -D --defined-only "$lib")
exported=() # manta_* names
while read -r _value type sym; do
  [ -n "${sym:-}" ] || continue
  name=${sym%%@*}
  if [ "$type" = A ] && [ "$name" = "$node" ]; then
    continue # the version node's own marker symbol, see above
  fi
  case "$name" in
  manta_*) exported+=("$name") ;;
  *) problem "exports '$sym' (type $type): not manta_*" ;;
  esac
done <<<"$nm_out"

# Version of each manta_* symbol, from the dynamic symbol table.
# readelf --dyn-syms -W: "Num: Value Size Type Bind Vis Ndx Name@@VER".
unversioned=$("$READELF" --dyn-syms -W "$lib" |
  awk '$7 != "UND" && $8 ~ /^manta_/ { print $8 }' |
  grep -v "@@${node}\$" || true)
if [ -n "$unversioned" ]; then
  problem "not under version node $node:" "${unversioned//$'\n'/ }"
fi

# 4. what the header declares -------------------------------------------------
# Strip comments, splice continued lines, drop preprocessor lines (the
# definitions of MANTA_API itself), then take the declarator name before the
# first '(' following each MANTA_API. A MANTA_API that cannot be read this
# way is reported, so the parser cannot silently miss a declaration.
declared_raw=$(perl -0777 -ne '
  s{/\*.*?\*/}{ }gs; s{//[^\n]*}{}g; s{\\\n}{ }g; s{^[ \t]*#[^\n]*}{}mg;
  my @parts = split /\bMANTA_API\b/; shift @parts;
  for (@parts) {
    my ($decl) = /^([^;]*)/;
    if ($decl =~ /^([^(]*?)\b([A-Za-z_]\w*)\s*\(/) { print "$2\n" }
    else { $decl =~ s/\s+/ /g; print "?$decl\n" }
  }' "$header")
declared=()
while read -r name; do
  [ -n "$name" ] || continue
  case "$name" in
  manta_*) declared+=("$name") ;;
  *) problem "cannot read a MANTA_API declaration of manta.h: '$name'" ;;
  esac
done <<<"$declared_raw"
if [ "${#declared[@]}" -eq 0 ]; then
  problem "found no MANTA_API declaration in $header"
fi

sorted() { printf '%s\n' "$@" | sort -u; }
missing=$(comm -23 <(sorted "${declared[@]}") <(sorted "${exported[@]}"))
extra=$(comm -13 <(sorted "${declared[@]}") <(sorted "${exported[@]}"))
if [ -n "$missing" ]; then
  problem "declared MANTA_API in manta.h but not exported by $lib" \
    "(not implemented?):" "${missing//$'\n'/ }"
fi
if [ -n "$extra" ]; then
  problem "exported but not declared MANTA_API in manta.h:" "${extra//$'\n'/ }"
fi

if [ "$fail" -ne 0 ]; then
  exit 1
fi
echo "check-exports: OK: $soname exports exactly the ${#declared[@]}" \
  "functions of manta.h, all under $node."
