#!/usr/bin/env bash
# Checks that every C, C++, header and Java file of the repository is
# formatted by the repository's .clang-format (its Java section for *.java),
# and names those that are not.
#
#   scripts/format-check.sh          check (exit 1 if any file differs)
#   scripts/format-check.sh --fix    format them in place
#
# The files are those git tracks (in a git checkout), else every *.c, *.h
# *.cpp and *.java below the repository outside build folders.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
fix=0
case ${1:-} in
--fix) fix=1 ;;
"") ;;
*)
  echo "format-check: unknown option '$1' (--fix or nothing)" >&2
  exit 2
  ;;
esac
if ! command -v clang-format >/dev/null 2>&1; then
  echo "format-check: clang-format not found (bash scripts/install-deps.sh)" >&2
  exit 1
fi

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files '*.c' '*.h' '*.cpp' '*.java')
else
  mapfile -t files < <(find . \( -name 'build*' -prune \) -o \
    \( -name '*.c' -o -name '*.h' -o -name '*.cpp' -o -name '*.java' \) \
    -print | sed 's|^\./||')
fi

if [ "$fix" -eq 1 ]; then
  clang-format -i "${files[@]}"
  exit 0
fi
bad=()
for f in "${files[@]}"; do
  if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
    bad+=("$f")
  fi
done
if [ "${#bad[@]}" -gt 0 ]; then
  echo "format-check: ${#bad[@]} of ${#files[@]} files differ from .clang-format:" >&2
  printf '  %s\n' "${bad[@]}" >&2
  echo "format-check: run scripts/format-check.sh --fix (or clang-format -i FILE)" >&2
  exit 1
fi
echo "format-check: ${#files[@]} files formatted as .clang-format says"
