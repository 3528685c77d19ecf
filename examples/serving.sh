# For the Serve examples' tests (source this file): start a program that
# prints "serving URL" and wait for it.
#
# start_serving DIR COMMAND...: runs COMMAND in the background (its output
# in DIR/out and DIR/err; its input from $serving_stdin if set, else
# /dev/null; the caller's fd 3, which may hold that input open, closed for
# it), waits at most 30 s for "serving URL"; sets $pid and $url, or
# prints the program's errors and exits 1.
start_serving() {
  local dir=$1
  shift
  # Created here, not by the job's redirection, which may come later.
  : >"$dir/out"
  "$@" <"${serving_stdin:-/dev/null}" >"$dir/out" 2>"$dir/err" 3>&- &
  pid=$!
  url=
  for _ in $(seq 300); do
    url=$(sed -n 's|^serving \(http://[^ ]*\)$|\1|p' "$dir/out")
    [ -n "$url" ] && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "$1 did not start:" >&2
  cat "$dir/err" >&2
  exit 1
}
