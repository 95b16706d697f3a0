#!/usr/bin/env bash
# Builds spinner_rollback (Release) into /tmp/helm-prefix, builds the Go harness
# against it and Helm v3 (go.mod), runs it and prints the table.
# Optional: HELM_SQL_DSN=postgresql://... adds Helm's SQL driver (PostgreSQL only).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); root=$(cd "$here/../.." && pwd)
N=${N:-1000}
if [ ! -f /tmp/helm-prefix/lib/pkgconfig/spinner_rollback.pc ] || [ "${REBUILD:-0}" = 1 ]; then
  cmake -S "$root" -B /tmp/helm-build -G Ninja -DCMAKE_BUILD_TYPE=Release -DSPR_BUILD_TESTS=OFF -DSPR_BUILD_EXAMPLES=OFF >/dev/null
  ninja -C /tmp/helm-build >/dev/null
  cmake --install /tmp/helm-build --prefix /tmp/helm-prefix >/dev/null
fi
export GOTOOLCHAIN=local PKG_CONFIG_PATH=/tmp/helm-prefix/lib/pkgconfig LD_LIBRARY_PATH=/tmp/helm-prefix/lib \
       CGO_CFLAGS=-I/tmp/helm-prefix/include CGO_LDFLAGS=-L/tmp/helm-prefix/lib
cd "$here"
go build -o /tmp/helmbench .
# Helm's SQL driver needs a live PostgreSQL. Without HELM_SQL_DSN, start a throwaway
# cluster (unix socket only, default fsync/synchronous_commit) if initdb and a
# "postgres" user exist; stop it on exit. HELM_SQL=0 skips this.
pgdir=""
if [ -z "${HELM_SQL_DSN:-}" ] && [ "${HELM_SQL:-1}" = 1 ] && command -v initdb >/dev/null && id postgres >/dev/null 2>&1; then
  pgdir=$(mktemp -d /tmp/helm-pg.XXXXXX); chown postgres "$pgdir"
  runpg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
  if runpg "initdb -D $pgdir/data -A trust -U postgres >$pgdir/initdb.log 2>&1" &&
     runpg "pg_ctl -D $pgdir/data -o '-k $pgdir -p 54329 -c listen_addresses=' -l $pgdir/pg.log -w start >/dev/null"; then
    trap 'su postgres -s /bin/sh -c "pg_ctl -D $pgdir/data -m fast stop" >/dev/null 2>&1 || pg_ctl -D $pgdir/data -m fast stop >/dev/null 2>&1; rm -rf "$pgdir"' EXIT
    export HELM_SQL_DSN="host=$pgdir port=54329 user=postgres dbname=postgres sslmode=disable"
  else
    echo "note: could not start a temporary PostgreSQL; Helm's SQL driver skipped" >&2
  fi
fi
echo "helm sql driver: ${HELM_SQL_DSN:+PostgreSQL $(postgres --version 2>/dev/null | awk '{print $3}') (temp cluster or HELM_SQL_DSN)}${HELM_SQL_DSN:-skipped}"
echo "date: $(date -u +%F) nproc: $(nproc) cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "go: $(go version | cut -d' ' -f3) helm: $(go list -m -f '{{.Version}}' helm.sh/helm/v3) N=$N"
/tmp/helmbench -n "$N" -json /tmp/helmbench.json 2>&1
