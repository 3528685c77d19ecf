# Helpers for the Serve tests that start nodes with an ingress (source this
# file after tests/cluster/nodes.sh: it uses $work and fail).

serve_address() { # NAME: the HOST:PORT its ready line printed
  sed -n 's|.* serve http://\([^ ]*\).*|\1|p' "$work/$1.out"
}
# until_body URL WANT WHAT: curl URL until its body is WANT (bounded).
until_body() {
  local got=
  for _ in $(seq 300); do
    got=$(curl -sS --max-time 10 "$1" 2>/dev/null || true)
    [ "$got" = "$2" ] && return 0
    sleep 0.05
  done
  fail "$3: $1 answered '$got', not '$2'"
}
# until_status URL CODE WHAT
until_status() {
  local got=
  for _ in $(seq 300); do
    got=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' "$1" || true)
    [ "$got" = "$2" ] && return 0
    sleep 0.05
  done
  fail "$3: $1 answered $got, not $2"
}
