# expect STATUS REGEX PROGRAM ARGS...: runs the program in the current
# folder and checks that it exits with STATUS and that its stderr (or
# stdout, for --help) matches the extended REGEX; counts a miss in
# $failures. Sourced by test_cli.sh and test_java.sh.
failures=0

expect() {
  local want=$1 regex=$2 rc=0
  shift 2
  "$@" >out.txt 2>err.txt || rc=$?
  if [ "$rc" -ne "$want" ] || ! grep -qE -- "$regex" out.txt err.txt; then
    echo "FAIL: $* -> exit $rc (want $want), output:"
    cat out.txt err.txt
    echo "(wanted /$regex/)"
    failures=$((failures + 1))
  else
    echo "ok: $* -> $rc"
  fi
}
