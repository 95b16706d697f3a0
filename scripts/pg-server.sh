#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests, benchmarks and the fault campaign:
# unix socket only (no TCP), trust authentication, default durability
# (fsync on, synchronous_commit on). Runs as the "postgres" user when called
# as root (initdb refuses root).
#
#   scripts/pg-server.sh start   DIR [PORT]  initdb (once) + start; prints the URI
#   scripts/pg-server.sh uri     DIR [PORT]  prints the URI
#   scripts/pg-server.sh stop    DIR         fast shutdown
#   scripts/pg-server.sh restart DIR         immediate (crash-like) stop, then start
#   scripts/pg-server.sh crash   DIR         SIGKILL the postmaster (no restart)
#   scripts/pg-server.sh destroy DIR         stop and delete DIR
#
# DIR holds the data directory and the socket; keep it short (sockets are
# limited to 107 bytes) and world-traversable (e.g. under /tmp).
set -euo pipefail
cmd="${1:?usage: pg-server.sh start|uri|stop|restart|crash|destroy DIR [PORT]}"
dir="${2:?usage: pg-server.sh $cmd DIR [PORT]}"
port="${3:-5433}"

# shellcheck source=lib/pg.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/pg.sh"
uri() { echo "postgresql:///postgres?host=$dir&port=$(cat "$dir/port" 2>/dev/null || echo "$port")&user=postgres"; }

case "$cmd" in
start)
  command -v initdb >/dev/null || { echo "pg-server.sh: initdb not found (install postgresql)" >&2; exit 1; }
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_pg "initdb -D '$dir/data' -A trust -U postgres --no-sync >'$dir/initdb.log' 2>&1" ||
      { cat "$dir/initdb.log" >&2; exit 1; }
  fi
  echo "$port" > "$dir/port"
  if ! as_pg "pg_ctl -D '$dir/data' status" >/dev/null 2>&1; then
    as_pg "pg_ctl -D '$dir/data' -w -t 60 -l '$dir/pg.log' \
      -o \"-k '$dir' -p $port -c listen_addresses= -c max_connections=200 -c fsync=on\" start" >/dev/null ||
      { tail -20 "$dir/pg.log" >&2; exit 1; }
  fi
  uri
  ;;
uri) uri ;;
stop) as_pg "pg_ctl -D '$dir/data' -m fast -w stop" >/dev/null 2>&1 || true ;;
restart)
  as_pg "pg_ctl -D '$dir/data' -m immediate -w stop" >/dev/null 2>&1 || true
  as_pg "pg_ctl -D '$dir/data' -w -t 60 -l '$dir/pg.log' \
    -o \"-k '$dir' -p $(cat "$dir/port") -c listen_addresses= -c max_connections=200\" start" >/dev/null
  ;;
crash)
  pid=$(head -1 "$dir/data/postmaster.pid" 2>/dev/null || true)
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  ;;
destroy)
  as_pg "pg_ctl -D '$dir/data' -m immediate -w stop" >/dev/null 2>&1 || true
  rm -rf "$dir"
  ;;
*) echo "pg-server.sh: unknown command $cmd" >&2; exit 2 ;;
esac
