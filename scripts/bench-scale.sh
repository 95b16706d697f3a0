#!/usr/bin/env bash
# The at-scale benchmark (docs/benchmarks.md, "At scale") on SQLite and on
# PostgreSQL, one backend after the other:
#
#   scripts/bench-scale.sh [OUTDIR] [-- spr_bench_scale arguments for both]
#
# - builds spr_bench_scale (Release) in $BUILD (default build-bench-scale) and
#   copies it with libspinner_rollback to OUTDIR/bin, so that a rebuild during
#   the run does not change what runs;
# - SQLite: a new store OUTDIR/scale.db (unless $KEEP=1 and it exists);
# - PostgreSQL: a throwaway cluster (scripts/pg-server.sh) in $PG_DIR (default
#   /tmp/spr-bench-pg) on port $PG_PORT (default 5442), and a fresh schema
#   $SCHEMA (default bench1; dropped first unless $KEEP=1);
# - reports: OUTDIR/sqlite.md and OUTDIR/postgresql.md (markdown), progress in
#   OUTDIR/*.log.
#
# Environment: BACKENDS ("sqlite postgresql"), SQLITE_ARGS / PG_ARGS (extra
# arguments for one backend, e.g. PG_ARGS=--populate-budget=1500), KEEP=1
# (reuse stores, keep the cluster running).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out="${1:-$here/build-bench-scale/scale-results}"
[ $# -gt 0 ] && shift
[ "${1:-}" = "--" ] && shift
build="${BUILD:-$here/build-bench-scale}"
pg_dir="${PG_DIR:-/tmp/spr-bench-pg}"
pg_port="${PG_PORT:-5442}"
schema="${SCHEMA:-bench1}"
backends="${BACKENDS:-sqlite postgresql}"
mkdir -p "$out/bin"

cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSPR_BUILD_BENCH=ON \
  -DSPR_BUILD_TESTS=OFF -DSPR_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build" -j2 --target spr_bench_scale
cp "$build/bench/spr_bench_scale" "$out/bin/"
cp -L "$build/libspinner_rollback.so.0" "$out/bin/"
bench() { LD_LIBRARY_PATH="$out/bin" "$out/bin/spr_bench_scale" "$@"; }

{
  echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "commit: $(git -C "$here" rev-parse --short HEAD)$(git -C "$here" diff --quiet -- src include || echo ' (+ uncommitted changes in src/include)')"
  echo "nproc: $(nproc)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "disk: $(df -T "$out" | awk 'NR==2 {print $1, $2}')"
  echo "kernel: $(uname -r)"
} | tee "$out/machine.txt"

for b in $backends; do
  case "$b" in
  sqlite)
    [ "${KEEP:-0}" = 1 ] || rm -f "$out/scale.db" "$out/scale.db-wal" "$out/scale.db-shm"
    echo "== SQLite: $out/scale.db (progress: $out/sqlite.log)"
    # shellcheck disable=SC2086
    bench --store="$out/scale.db" --report="$out/sqlite.md" "$@" ${SQLITE_ARGS:-} 2>"$out/sqlite.log"
    ;;
  postgresql)
    uri=$("$here/scripts/pg-server.sh" start "$pg_dir" "$pg_port")
    if [ "${KEEP:-0}" != 1 ]; then
      psql -qX "$uri" -c "DROP SCHEMA IF EXISTS $schema CASCADE" -c "CREATE SCHEMA $schema" >/dev/null 2>&1
    else
      psql -qX "$uri" -c "CREATE SCHEMA IF NOT EXISTS $schema" >/dev/null 2>&1
    fi
    echo "== PostgreSQL: schema $schema of $uri (progress: $out/postgresql.log)"
    # shellcheck disable=SC2086
    bench --store="$uri&options=-csearch_path%3D$schema" --report="$out/postgresql.md" "$@" ${PG_ARGS:-} \
      2>"$out/postgresql.log"
    [ "${KEEP:-0}" = 1 ] || "$here/scripts/pg-server.sh" destroy "$pg_dir"
    ;;
  *) echo "bench-scale.sh: unknown backend $b" >&2; exit 2 ;;
  esac
done
echo "reports: $out/*.md"
