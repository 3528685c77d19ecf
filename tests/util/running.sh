# running PID: true while process PID runs; false once it is gone or a
# zombie (it exited and waits for its parent, often init, to reap it; on
# some machines init reaps seconds later, and `kill -0` still succeeds).
running() {
  local state
  state=$(sed -n 's/.*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null || true)
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}
