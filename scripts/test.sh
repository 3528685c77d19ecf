#!/usr/bin/env bash
# Builds manta and passes every test: the one command CI and the README use.
#
#   bash scripts/test.sh [--quick] [--tsan | --no-tsan] [--fail-fast]
#
# Stages, in order:
#   deps   scripts/install-deps.sh (apt only when something is missing)
#   format scripts/format-check.sh: every C and Java file as .clang-format says
#   build  build/       RelWithDebInfo, -DMANTA_WERROR=ON
#   test   build/       ctest: every test
#   asan-build, asan-test   build-asan/  -DMANTA_SANITIZE=address,undefined,
#                           ctest -LE nosan
#   tsan-build, tsan-test   build-tsan/  -DMANTA_SANITIZE=thread,
#                           ctest -L concurrency -LE nosan
#   abi    scripts/abi-check.sh on build/ (baseline abi/manta.abi)
#
#   --quick      skip the sanitizer builds (asan and tsan)
#   --tsan       run the tsan stage even with --quick
#   --no-tsan    skip the tsan stage
#   --fail-fast  stop at the first failed stage (default: run all, report)
#
# Environment: MANTA_JOBS (default 2) parallel jobs for build and ctest;
# MANTA_BUILD_ROOT (default: the repository) where build*/ are created;
# ASAN_OPTIONS, UBSAN_OPTIONS, TSAN_OPTIONS override the defaults below.
# Exits non-zero if any stage failed; the summary at the end says which.
set -euo pipefail

self=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

quick=0
tsan=default
fail_fast=0
for arg in "$@"; do
  case $arg in
  --quick) quick=1 ;;
  --tsan) tsan=on ;;
  --no-tsan) tsan=off ;;
  --fail-fast) fail_fast=1 ;;
  -h | --help)
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$self"
    exit 0
    ;;
  *)
    echo "test.sh: unknown option '$arg' (try --help)" >&2
    exit 2
    ;;
  esac
done
if [ "$tsan" = default ]; then
  if [ "$quick" -eq 1 ]; then tsan=off; else tsan=on; fi
fi

jobs=${MANTA_JOBS:-2}
build_root=${MANTA_BUILD_ROOT:-$root}
mkdir -p "$build_root"
build_root=$(cd "$build_root" && pwd)

# Sanitizers: report every error with a stack, stop at the first one, find
# leaks at exit. Callers may override each variable as a whole.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-print_suppressions=0}
# TSan suppressions cover only gRPC and abseil, which Debian does not build
# with TSan (tests/tsan.supp says why).
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$root/tests/tsan.supp}

# Every option that matters is given, so a cache left by a hand-made
# configure (or by scripts/demo.sh) cannot change what is tested.
common=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DMANTA_WERROR=ON
  -DMANTA_BUILD_TESTS=ON -DMANTA_BUILD_EXAMPLES=ON)

stage_names=()
stage_results=()
stage_notes=()
failed=0
selected_none=0 # set by run_ctest when its filter selects no test

banner() {
  printf '\n=== %s ===\n' "$*"
}

# record <name> <PASS|FAIL|SKIP> <seconds|-> <note>
record() {
  stage_names+=("$1")
  stage_results+=("$2")
  stage_notes+=("$(printf '%6s  %s' "$3" "$4")")
  if [ "$2" = FAIL ]; then
    failed=1
  fi
}

summary() {
  printf '\n=== summary ===\n'
  local i
  for i in "${!stage_names[@]}"; do
    printf '  %-4s  %-10s %s\n' "${stage_results[$i]}" "${stage_names[$i]}" \
      "${stage_notes[$i]}"
  done
  if [ "$failed" -ne 0 ]; then
    printf 'test.sh: FAILED (see the stages marked FAIL above)\n'
  else
    printf 'test.sh: all stages passed\n'
  fi
}

# stage <name> <note> <command...>: runs the command, records the result.
stage() {
  local name=$1 note=$2 start rc
  shift 2
  banner "$name: $note"
  start=$SECONDS
  selected_none=0
  set +e
  "$@"
  rc=$?
  set -e
  if [ "$selected_none" -eq 1 ]; then
    note="$note: no such tests (yet)"
  fi
  if [ "$rc" -eq 0 ]; then
    record "$name" PASS "$((SECONDS - start))s" "$note"
  else
    record "$name" FAIL "$((SECONDS - start))s" "$note (exit $rc)"
    if [ "$fail_fast" -eq 1 ]; then
      summary
      exit 1
    fi
  fi
  return "$rc"
}

skip() {
  record "$1" SKIP - "$2"
}

# shellcheck disable=SC2317 # called through stage()
configure_and_build() {
  local dir=$1
  shift
  cmake -S "$root" -B "$dir" "${common[@]}" "$@" &&
    cmake --build "$dir" --parallel "$jobs"
}

# ctest in <dir> with extra filters; a filter that selects nothing passes
# but says so.
# shellcheck disable=SC2317 # called through stage()
run_ctest() {
  local dir=$1 count
  shift
  count=$(cd "$dir" && ctest -N "$@" | sed -n 's/^Total Tests: //p')
  if [ "${count:-0}" -eq 0 ]; then
    echo "test.sh: no tests selected in $dir by: ${*:-(none)}"
    selected_none=1
    return 0
  fi
  (cd "$dir" && ctest --output-on-failure --parallel "$jobs" "$@")
}

stage deps "install-deps.sh" bash "$root/scripts/install-deps.sh" || true
stage format "format-check.sh (.clang-format)" \
  bash "$root/scripts/format-check.sh" || true

plain=$build_root/build
plain_ok=0
if stage build "build/ (RelWithDebInfo, -Werror)" configure_and_build "$plain" \
  -DMANTA_SANITIZE= -DMANTA_BUILD_BENCH=ON; then
  plain_ok=1
  stage test "ctest in build/" run_ctest "$plain" || true
else
  skip test "build failed"
fi

if [ "$quick" -eq 1 ]; then
  skip asan "--quick"
else
  asan=$build_root/build-asan
  if stage asan-build "build-asan/ (address,undefined)" configure_and_build "$asan" \
    -DMANTA_SANITIZE=address,undefined -DMANTA_BUILD_BENCH=OFF; then
    stage asan-test "ctest -LE nosan in build-asan/" run_ctest "$asan" -LE nosan ||
      true
  else
    skip asan-test "build failed"
  fi
fi

if [ "$tsan" = off ]; then
  skip tsan "$([ "$quick" -eq 1 ] && echo --quick || echo --no-tsan)"
else
  tsanb=$build_root/build-tsan
  if stage tsan-build "build-tsan/ (thread)" configure_and_build "$tsanb" \
    -DMANTA_SANITIZE=thread -DMANTA_BUILD_BENCH=OFF; then
    stage tsan-test "ctest -L concurrency -LE nosan in build-tsan/" \
      run_ctest "$tsanb" -L concurrency -LE nosan || true
  else
    skip tsan-test "build failed"
  fi
fi

if [ "$plain_ok" -eq 1 ]; then
  stage abi "abi-check.sh against abi/manta.abi" \
    bash "$root/scripts/abi-check.sh" "$plain/runtime/libmanta.so" || true
else
  skip abi "build failed"
fi

summary
exit "$failed"
