#!/usr/bin/env bash
# A throwaway PostgreSQL server in a temporary folder, for the database
# actors' demo, test and benchmark (docs/db_actors.md).
#
#   pg_cluster.sh run [--keep-on-fail] -- COMMAND [ARGS...]
#       initdb in a new folder under ${TMPDIR:-/tmp}, start the server on a
#       free loopback port (and a Unix socket in that folder), run COMMAND
#       with the variables below set, stop the server and delete the folder
#       on every exit: COMMAND's success or failure, SIGINT, SIGTERM.
#       Exits with COMMAND's status.
#   pg_cluster.sh stop DIR     stop the server of DIR (fast shutdown: open
#                              connections are closed)
#   pg_cluster.sh start DIR    start it again, on the same port
#
# COMMAND sees:
#   MANTA_PG_CONNINFO   libpq connection string of the superuser "manta"
#                       (host=127.0.0.1 port=N dbname=mflix user=manta)
#   MANTA_PG_APP_CONNINFO  the same as the role "app", which needs the
#                       password "app-secret" (scram-sha-256): for the
#                       wrong-password case
#   MANTA_PG_PORT, MANTA_PG_DIR, MANTA_PG_SCRIPT (this file, for stop/start)
#
# PostgreSQL refuses to run as root. Run by root, the server runs as the
# user MANTA_PG_USER (default "nobody"), which owns the folder; every other
# user runs it as themselves. The client side connects over TCP, so the
# caller needs no access to the folder.
#
# Source it instead (`. pg_cluster.sh`) for pg_cluster_start DIR_VAR,
# pg_cluster_stop, pg_ctl_as.
set -euo pipefail

pg_bindir() {
  local d
  if command -v pg_config >/dev/null 2>&1; then
    d=$(pg_config --bindir)
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  fi
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  echo "pg_cluster: no initdb found: install PostgreSQL's server" \
    "(bash scripts/install-deps.sh installs the Debian package postgresql)" >&2
  return 1
}

# pg_as CMD...: CMD as the server's user (root: MANTA_PG_USER).
pg_as() {
  if [ "$(id -u)" -eq 0 ]; then
    setpriv --reuid="$pg_user" --regid="$pg_group" --clear-groups \
      --reset-env -- "$@"
  else
    "$@"
  fi
}

pg_pick_user() {
  if [ "$(id -u)" -ne 0 ]; then
    pg_user=$(id -un)
    pg_group=$(id -gn)
    return 0
  fi
  pg_user=${MANTA_PG_USER:-nobody}
  if ! id -u "$pg_user" >/dev/null 2>&1; then
    echo "pg_cluster: running as root, and PostgreSQL refuses root; the" \
      "unprivileged user '$pg_user' to run it as does not exist (set" \
      "MANTA_PG_USER to one that does, or run as a normal user)" >&2
    return 1
  fi
  if [ "$(id -u "$pg_user")" -eq 0 ]; then
    echo "pg_cluster: MANTA_PG_USER '$pg_user' is root; PostgreSQL" \
      "refuses to run as root" >&2
    return 1
  fi
  pg_group=$(id -gn "$pg_user")
}

# A loopback port nobody listens on now (the server may still lose a race
# for it: pg_cluster_start then tries another).
pg_free_port() {
  local port
  for _ in $(seq 50); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  echo "pg_cluster: found no free loopback port" >&2
  return 1
}

pg_ctl_as() { # pg_ctl_as start|stop|restart
  local log=$pg_dir/server.log
  case "$1" in
  start)
    pg_as "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$log" -w -t 30 \
      -o "-p $pg_port" start >/dev/null
    ;;
  stop) pg_as "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast -w -t 30 stop \
    >/dev/null ;;
  *)
    echo "pg_cluster: unknown pg_ctl action '$1'" >&2
    return 2
    ;;
  esac
}

# pg_cluster_start: makes $pg_dir, initdb, starts the server; sets
# pg_port and exports the MANTA_PG_* variables.
pg_cluster_start() {
  pg_bin=$(pg_bindir)
  pg_pick_user
  local base=${TMPDIR:-/tmp}
  [ "$(id -u)" -eq 0 ] && base=/tmp # nobody must reach it
  pg_dir=$(mktemp -d "$base/manta-pg.XXXXXX")
  chmod 700 "$pg_dir"
  if [ "$(id -u)" -eq 0 ]; then
    chown "$pg_user:$pg_group" "$pg_dir"
  fi
  local pwfile=$pg_dir/pw
  echo manta-superuser >"$pwfile"
  [ "$(id -u)" -eq 0 ] && chown "$pg_user" "$pwfile"
  if ! pg_as "$pg_bin/initdb" -D "$pg_dir/data" -U manta -E UTF8 \
    --locale=C --pwfile="$pwfile" -A trust >"$pg_dir/initdb.log" 2>&1; then
    echo "pg_cluster: initdb failed:" >&2
    tail -20 "$pg_dir/initdb.log" >&2
    return 1
  fi
  # Trust for the superuser (the folder is private to its user), a
  # password for "app"; loopback only.
  pg_as tee "$pg_dir/data/pg_hba.conf" >/dev/null <<'EOF'
local all manta              trust
host  all manta 127.0.0.1/32 trust
local all app                scram-sha-256
host  all app   127.0.0.1/32 scram-sha-256
EOF
  # A throwaway server: no durability worth paying for.
  pg_as tee -a "$pg_dir/data/postgresql.conf" >/dev/null <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$pg_dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 50
EOF
  local tries
  for tries in 1 2 3 4 5; do
    pg_port=$(pg_free_port)
    if pg_ctl_as start; then
      break
    fi
    if [ "$tries" -eq 5 ]; then
      echo "pg_cluster: the server did not start; its log:" >&2
      tail -20 "$pg_dir/server.log" >&2
      return 1
    fi
  done
  echo "$pg_port" >"$pg_dir/port"
  "$pg_bin/psql" -X -q -h 127.0.0.1 -p "$pg_port" -U manta \
    -d postgres -v ON_ERROR_STOP=1 \
    -c "CREATE DATABASE mflix" \
    -c "CREATE ROLE app LOGIN PASSWORD 'app-secret'" >/dev/null
  "$pg_bin/psql" -X -q -h 127.0.0.1 -p "$pg_port" -U manta -d mflix \
    -v ON_ERROR_STOP=1 -c "GRANT ALL ON SCHEMA public TO app" >/dev/null
  export MANTA_PG_DIR=$pg_dir MANTA_PG_PORT=$pg_port
  export MANTA_PG_CONNINFO="host=127.0.0.1 port=$pg_port dbname=mflix user=manta"
  export MANTA_PG_APP_CONNINFO="host=127.0.0.1 port=$pg_port dbname=mflix user=app"
  MANTA_PG_SCRIPT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
  export MANTA_PG_SCRIPT
}

# pg_cluster_stop: stops the server (if running) and deletes the folder;
# safe to call twice and from a trap.
pg_cluster_stop() {
  [ -n "${pg_dir:-}" ] && [ -d "$pg_dir" ] || return 0
  if [ -f "$pg_dir/data/postmaster.pid" ]; then
    pg_ctl_as stop 2>/dev/null || {
      # pg_ctl could not stop it in time: the postmaster's pid, by its file.
      local pid
      pid=$(head -1 "$pg_dir/data/postmaster.pid" 2>/dev/null || true)
      [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
    }
  fi
  rm -rf "$pg_dir"
  pg_dir=
}

child=
pg_cluster_signal() { # pg_cluster_signal STATUS SIGNAL
  if [ -n "$child" ]; then
    kill -"$2" "$child" 2>/dev/null || true
    for _ in $(seq 100); do
      kill -0 "$child" 2>/dev/null || break
      sleep 0.05
    done
    kill -9 "$child" 2>/dev/null || true
  fi
  exit "$1"
}

pg_cluster_main() {
  case "${1:-}" in
  run)
    shift
    [ "${1:-}" = -- ] && shift
    [ $# -gt 0 ] || {
      echo "usage: pg_cluster.sh run -- COMMAND [ARGS...]" >&2
      return 2
    }
    trap pg_cluster_stop EXIT
    # The command runs in the background so that a signal reaches this
    # shell at once (bash defers traps until a foreground child ends): the
    # command is stopped, then the EXIT trap stops the server.
    trap 'pg_cluster_signal 130 INT' INT
    trap 'pg_cluster_signal 143 TERM' TERM
    pg_cluster_start
    echo "pg_cluster: PostgreSQL $("$pg_bin/postgres" --version |
      awk '{print $3}') on 127.0.0.1:$pg_port, folder $pg_dir (server user" \
      "$pg_user)" >&2
    local rc=0
    "$@" &
    child=$!
    wait "$child" || rc=$?
    child=
    return "$rc"
    ;;
  start | stop)
    local action=$1
    pg_dir=${2:?usage: pg_cluster.sh $action DIR}
    pg_bin=$(pg_bindir)
    pg_pick_user
    pg_port=$(cat "$pg_dir/port")
    pg_ctl_as "$action"
    ;;
  -h | --help | "")
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' \
      "${BASH_SOURCE[0]}"
    ;;
  *)
    echo "pg_cluster: unknown command '$1' (try --help)" >&2
    return 2
    ;;
  esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  pg_cluster_main "$@"
fi
