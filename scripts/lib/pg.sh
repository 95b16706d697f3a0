# Sourced (not run) by scripts/pg-server.sh and scripts/pg-cluster.sh: the
# PostgreSQL server binaries and how to run them.
#
#   PATH   gains the newest /usr/lib/postgresql/*/bin (Debian keeps initdb,
#          pg_ctl, pg_rewind … there, off the default PATH)
#   as_pg CMD...  runs the shell command as the "postgres" user when called as
#          root (initdb and the server refuse root), else as the caller

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
[ -n "$bindir" ] && PATH="$bindir:$PATH"
as_pg() {
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "PATH='$PATH'; $*"; else sh -c "$*"; fi
}
