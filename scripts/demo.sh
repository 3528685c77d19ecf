#!/usr/bin/env bash
# Builds and runs the demo: every example named in examples/demo-list.txt
# (one CMake target per line, optionally followed by its arguments; blank
# lines and #-comments are ignored), each under a header, with its exit
# status and wall time.
#
#   bash scripts/demo.sh
#
# Builds only the listed targets (and the library) in build/, configured as
# scripts/test.sh does. Fails if a listed example does not exist, fails to
# build, fails, or runs longer than MANTA_DEMO_TIMEOUT seconds (default 300).
# MANTA_JOBS and MANTA_BUILD_ROOT as for scripts/test.sh.
set -euo pipefail

self=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
case "${1:-}" in
"") ;;
-h | --help)
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$self"
  exit 0
  ;;
*)
  echo "demo.sh: unknown option '$1' (try --help)" >&2
  exit 2
  ;;
esac

jobs=${MANTA_JOBS:-2}
timeout_s=${MANTA_DEMO_TIMEOUT:-300}
build_root=${MANTA_BUILD_ROOT:-$root}
mkdir -p "$build_root"
build=$(cd "$build_root" && pwd)/build
list=$root/examples/demo-list.txt

bash "$root/scripts/install-deps.sh"

# Each line: a target name, then any arguments to run it with.
names=()
declare -A run_args=()
while IFS= read -r line || [ -n "$line" ]; do
  line=${line%%#*}
  read -r -a words <<<"$line"
  [ "${#words[@]}" -gt 0 ] || continue
  names+=("${words[0]}")
  run_args[${words[0]}]="${words[*]:1}"
done <"$list"
if [ "${#names[@]}" -eq 0 ]; then
  echo "demo.sh: $list names no example" >&2
  exit 1
fi

# The same configuration as scripts/test.sh, so the two share build/.
echo "demo.sh: configuring $build"
if ! cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMANTA_WERROR=ON -DMANTA_BUILD_TESTS=ON -DMANTA_BUILD_EXAMPLES=ON \
  -DMANTA_SANITIZE= -DMANTA_BUILD_BENCH=ON >/dev/null; then
  echo "demo.sh: configuring $build failed (see above)" >&2
  exit 1
fi

# Which of the listed names are targets of this build?
targets=$(cmake --build "$build" --target help)
present=()
missing=()
for name in "${names[@]}"; do
  if grep -qE "^(\.\.\. )?${name}(:| |\$)" <<<"$targets"; then
    present+=("$name")
  else
    missing+=("$name")
    echo "demo.sh: MISSING: '$name' is listed in examples/demo-list.txt but" \
      "is not a target (examples/CMakeLists.txt)" >&2
  fi
done

failed=("${missing[@]}")
results=()
if [ "${#present[@]}" -gt 0 ]; then
  echo "demo.sh: building ${present[*]}"
  if ! cmake --build "$build" --parallel "$jobs" --target "${present[@]}"; then
    echo "demo.sh: building the examples failed" >&2
    exit 1
  fi
fi

for name in "${present[@]}"; do
  exe=$build/examples/$name
  printf '\n=== example: %s ===\n' "$name"
  if [ ! -x "$exe" ]; then
    echo "demo.sh: MISSING: $exe was not built" >&2
    failed+=("$name")
    results+=("$(printf '%-20s missing' "$name")")
    continue
  fi
  start=${EPOCHREALTIME/./}
  set +e
  read -r -a extra <<<"${run_args[$name]:-}"
  timeout "$timeout_s" "$exe" "${extra[@]}"
  rc=$?
  set -e
  us=$((${EPOCHREALTIME/./} - start))
  took=$(printf '%d.%03d s' $((us / 1000000)) $((us % 1000000 / 1000)))
  if [ "$rc" -eq 0 ]; then
    status=ok
  elif [ "$rc" -eq 124 ]; then
    status="TIMEOUT after ${timeout_s}s"
    failed+=("$name")
  else
    status="FAILED (exit $rc)"
    failed+=("$name")
  fi
  printf -- '--- %s: %s, wall time %s\n' "$name" "$status" "$took"
  results+=("$(printf '%-20s %-22s %s' "$name" "$status" "$took")")
done

printf '\n=== demo summary ===\n'
for r in "${results[@]}"; do
  printf '  %s\n' "$r"
done
for name in "${missing[@]}"; do
  printf '  %-20s missing (no such target)\n' "$name"
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "demo.sh: FAILED: ${failed[*]}"
  exit 1
fi
echo "demo.sh: all ${#present[@]} examples ran."
