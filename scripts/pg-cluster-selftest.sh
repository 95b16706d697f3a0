#!/usr/bin/env bash
# Self-test of scripts/pg-cluster.sh: a sync two-node cluster in a temp dir,
# then 3 rounds of: a batch of inserts through the multi-host URI, a writer
# that keeps inserting (one psql connection per row, through the URI) while
# the primary is SIGKILLed and the standby promoted, then checks that every
# acknowledged insert is on the new primary (reached via the URI), that the
# primary changed and that the rebuilt standby streams synchronously.
#
#   scripts/pg-cluster-selftest.sh [BASEPORT]     (default 5481; uses 2 ports)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pgc="$here/pg-cluster.sh"
base="${1:-5481}"
# shellcheck source=lib/pg.sh
source "$here/lib/pg.sh"

dir=$(mktemp -d /tmp/pgc.XXXXXX)
work="$dir.work"   # outside DIR: DIR belongs to the postgres user
mkdir -p "$work"
writer_pid=""
cleanup() {
  [ -n "$writer_pid" ] && { touch "$work/stop"; wait "$writer_pid" 2>/dev/null || true; }
  "$pgc" destroy "$dir" || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "pg-cluster-selftest: FAIL: $*" >&2; exit 1; }

uri=$("$pgc" start "$dir" "$base" sync)
echo "uri: $uri"
sql() { PGCONNECT_TIMEOUT=5 psql "$uri" -XAtq -v ON_ERROR_STOP=1 -c "$1"; }
sql "create table t (id int primary key, round int not null, at timestamptz default now())"
: > "$work/acked"

next=1
# insert ROUND FROM: one row per connection until $work/stop appears; records
# the id of every insert whose commit was acknowledged. Prints the next id.
writer() {
  local round=$1 i=$2
  while [ ! -e "$work/stop" ]; do
    if PGCONNECT_TIMEOUT=2 psql "$uri" -XAtq -v ON_ERROR_STOP=1 \
        -c "insert into t (id, round) values ($i, $round)" >/dev/null 2>>"$work/writer.err"; then
      echo "$i" >> "$work/acked"
    else
      sleep 0.05
    fi
    i=$((i + 1))
  done
  echo "$i" > "$work/next"
}

for round in 1 2 3; do
  before=$("$pgc" primary "$dir")
  # A batch of 50 single-row inserts (one psql each) before the failover.
  for _ in $(seq 50); do
    sql "insert into t (id, round) values ($next, $round)" && echo "$next" >> "$work/acked"
    next=$((next + 1))
  done
  # Concurrent writer across the failover.
  rm -f "$work/stop"
  writer "$round" "$next" &
  writer_pid=$!
  sleep 1
  "$pgc" failover "$dir"
  sleep 1
  touch "$work/stop"
  wait "$writer_pid"
  writer_pid=""
  next=$(cat "$work/next")

  after=$("$pgc" primary "$dir")
  [ "$after" != "$before" ] || fail "round $round: primary still $before"
  [ "$(sql 'select pg_is_in_recovery()')" = f ] || fail "round $round: URI did not reach the primary"
  uriport=$(sql "show port")
  rep=$(sql "select state || ' ' || sync_state from pg_stat_replication")
  [ "$rep" = "streaming sync" ] || fail "round $round: standby not streaming sync: '$rep'"
  sql "select id from t order by id" > "$work/present"
  missing=$(comm -23 <(sort "$work/acked") <(sort "$work/present") | wc -l)
  [ "$missing" = 0 ] || fail "round $round: $missing acknowledged rows missing: $(comm -23 <(sort "$work/acked") <(sort "$work/present") | head -5 | tr '\n' ' ')"
  echo "round $round: $before -> $after (URI port $uriport), acknowledged $(wc -l < "$work/acked"), present $(wc -l < "$work/present"), failed inserts so far $(grep -c . "$work/writer.err" || true), replication '$rep'"
done
# The standby must have every row too (hot standby read; sync = flushed, not
# necessarily replayed, so wait briefly for replay).
p=$("$pgc" primary "$dir")
s=$([ "$p" = a ] && echo b || echo a)
sport=$(( base + $([ "$s" = a ] && echo 0 || echo 1) ))
want=$(sql "select count(*) from t")
for _ in $(seq 100); do
  got=$(psql "host=$dir/$s port=$sport user=postgres dbname=postgres" -XAtqc "select count(*) from t")
  [ "$got" = "$want" ] && break
  sleep 0.1
done
[ "$got" = "$want" ] || fail "standby $s has $got rows, primary $want"
echo "pg-cluster-selftest: PASS ($want rows, standby $s agrees)"
