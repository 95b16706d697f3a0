#!/usr/bin/env bash
# A throwaway two-node PostgreSQL streaming-replication cluster on one machine,
# for failover tests ("survive a primary failover to a promoted standby with
# nothing acknowledged lost"). Same conventions as scripts/pg-server.sh: the
# newest /usr/lib/postgresql/*/bin, unix sockets only (no TCP), trust
# authentication (also for replication), default durability, and the server
# runs as the "postgres" user when called as root (initdb refuses root).
#
#   scripts/pg-cluster.sh start    DIR BASEPORT [sync|async]
#       Node a: initdb + start as primary (port BASEPORT, socket dir DIR/a);
#       node b: pg_basebackup -R from a + start as standby (port BASEPORT+1,
#       socket dir DIR/b); waits until b is streaming (and is the synchronous
#       standby in sync mode). Prints the multi-host URI. If DIR already holds
#       a cluster, just (re)starts both nodes (BASEPORT/mode come from DIR).
#   scripts/pg-cluster.sh uri      DIR   prints the multi-host URI
#   scripts/pg-cluster.sh primary  DIR   prints "a" or "b" (exit 1 if no primary)
#   scripts/pg-cluster.sh failover DIR   SIGKILL the primary (postmaster and
#       children), promote the standby, rebuild the old primary as the new
#       standby (pg_rewind; pg_basebackup if that fails), wait until it streams.
#       Prints "failover: N ms (writes possible after M ms)".
#   scripts/pg-cluster.sh status   DIR   node roles + pg_stat_replication
#   scripts/pg-cluster.sh stop     DIR   fast shutdown of both nodes
#   scripts/pg-cluster.sh destroy  DIR   immediate stop of both, rm -rf DIR
#
# The URI printed (libpq multi-host form; accepted by libpq 15 as is):
#   postgresql:///postgres?host=DIR/a,DIR/b&port=P,P+1&user=postgres&target_session_attrs=read-write
# libpq tries the hosts in order and keeps the first that accepts writes, so a
# client that reconnects after a failover lands on the new primary.
#
# Modes: sync (default) sets synchronous_standby_names='*' and
# synchronous_commit=on on both nodes: a commit is acknowledged only once the
# standby has flushed its WAL, so nothing acknowledged is lost when the primary
# dies. Consequence: after a failover the new primary has no standby until the
# old one is rebuilt, and every commit on it BLOCKS (does not fail) until then;
# "writes possible after M ms" is when the promoted node leaves recovery and
# accepts writes, commits return after N ms (the whole failover). async: no
# synchronous standby; commits never wait, recent acknowledged commits can be
# lost on failover.
#
# Layout: DIR/mode, DIR/baseport, DIR/{a,b}/data (data directory),
# DIR/{a,b}/pg.log (server log), DIR/{a,b}/.s.PGSQL.<port> (socket). Keep DIR
# short (sockets are limited to 107 bytes) and under a world-traversable
# directory such as /tmp.
set -euo pipefail
usage="usage: pg-cluster.sh start DIR BASEPORT [sync|async] | uri|primary|failover|status|stop|destroy DIR"
cmd="${1:?$usage}"
dir="${2:?$usage}"
dir="${dir%/}"

# shellcheck source=lib/pg.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/pg.sh"
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
die() { echo "pg-cluster.sh: $*" >&2; exit 1; }

port_of() { # node
  local base; base=$(cat "$dir/baseport")
  if [ "$1" = a ]; then echo "$base"; else echo $((base + 1)); fi
}
other() { if [ "$1" = a ]; then echo b; else echo a; fi; }
mode() { cat "$dir/mode" 2>/dev/null || echo sync; }
conninfo() { echo "host=$dir/$1 port=$(port_of "$1") user=postgres dbname=postgres"; }
# psql against one node, quiet, unaligned, tuples only; fails fast if down.
q() { # node sql
  PGCONNECT_TIMEOUT=2 psql "$(conninfo "$1")" -XAtq -v ON_ERROR_STOP=1 -c "$2" 2>/dev/null
}
uri() {
  local base; base=$(cat "$dir/baseport")
  echo "postgresql:///postgres?host=$dir/a,$dir/b&port=$base,$((base + 1))&user=postgres&target_session_attrs=read-write"
}
is_running() { as_pg "pg_ctl -D '$dir/$1/data' status" >/dev/null 2>&1; }
start_node() { # node
  is_running "$1" && return 0
  as_pg "pg_ctl -D '$dir/$1/data' -w -t 120 -l '$dir/$1/pg.log' \
    -o \"-k '$dir/$1' -p $(port_of "$1") -c listen_addresses= -c max_connections=200\" start" >/dev/null ||
    { tail -20 "$dir/$1/pg.log" >&2; die "node $1 did not start"; }
}
stop_node() { # node mode
  as_pg "pg_ctl -D '$dir/$1/data' -m $2 -w -t 120 stop" >/dev/null 2>&1 || true
}
# Make node $1 a standby of node $2: standby.signal + primary_conninfo (the
# last primary_conninfo in postgresql.auto.conf wins; remove older ones).
make_standby_conf() {
  local f="$dir/$1/data/postgresql.auto.conf"
  as_pg "touch '$f' '$dir/$1/data/standby.signal' && sed -i '/^primary_conninfo/d' '$f' && \
    echo \"primary_conninfo = 'host=$dir/$2 port=$(port_of "$2") user=postgres application_name=$1'\" >> '$f'"
}
basebackup() { # node-to-create from-node
  as_pg "rm -rf '$dir/$1/data' && pg_basebackup -D '$dir/$1/data' -d '$(conninfo "$2")' -R -c fast -X stream \
    >>'$dir/$1/pg.log' 2>&1" || { tail -20 "$dir/$1/pg.log" >&2; die "pg_basebackup of $1 from $2 failed"; }
  make_standby_conf "$1" "$2"
}
primary() { # prints the node not in recovery, if any
  local n
  for n in a b; do
    if [ "$(q "$n" 'select pg_is_in_recovery()' || true)" = f ]; then echo "$n"; return 0; fi
  done
  return 1
}
# Wait until $2 streams from primary $1 (and is the sync standby in sync mode).
wait_streaming() { # primary standby
  local want="streaming async" got="" i
  [ "$(mode)" = sync ] && want="streaming sync"
  for i in $(seq 1200); do
    got=$(q "$1" "select state || ' ' || sync_state from pg_stat_replication where application_name = '$2'" || true)
    [ "$got" = "$want" ] && return 0
    sleep 0.05
  done
  die "standby $2 not '$want' on primary $1 after 60 s (got '${got}'); see $dir/$2/pg.log"
}

case "$cmd" in
start)
  command -v initdb >/dev/null || die "initdb not found (install postgresql)"
  if [ ! -f "$dir/mode" ]; then
    base="${3:?$usage}"
    m="${4:-sync}"
    case "$m" in sync|async) ;; *) die "mode must be sync or async";; esac
    t0=$(now_ms)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    echo "$m" > "$dir/mode"
    echo "$base" > "$dir/baseport"
    as_pg "mkdir -p '$dir/a' '$dir/b'"
    as_pg "initdb -D '$dir/a/data' -A trust -U postgres --no-sync >'$dir/a/initdb.log' 2>&1" ||
      { cat "$dir/a/initdb.log" >&2; die "initdb failed"; }
    # Settings shared by both nodes (pg_basebackup/pg_rewind copy the config
    # files); socket dir and port are given on the command line per node.
    {
      echo "# pg-cluster.sh"
      echo "wal_level = replica"
      echo "max_wal_senders = 10"
      echo "max_replication_slots = 10"
      echo "wal_keep_size = '256MB'"
      echo "wal_log_hints = on"
      echo "hot_standby = on"
      echo "fsync = on"
      echo "full_page_writes = on"
      # Startup after a crash (and after pg_rewind) fsyncs the whole data
      # directory; file by file that took ~3.5 s here, one syncfs() ~0.2 s.
      echo "recovery_init_sync_method = syncfs"
      if [ "$m" = sync ]; then
        echo "synchronous_standby_names = '*'"
        echo "synchronous_commit = on"
      else
        echo "synchronous_standby_names = ''"
        echo "synchronous_commit = on"
      fi
    } | as_pg "cat >> '$dir/a/data/postgresql.conf'"
    start_node a
    basebackup b a
    start_node b
    wait_streaming a b
    echo "start: $(( $(now_ms) - t0 )) ms ($m)" >&2
  else
    # Existing cluster: start the primary (no standby.signal) first.
    for n in a b; do [ -f "$dir/$n/data/standby.signal" ] || start_node "$n"; done
    for n in a b; do start_node "$n"; done
    p=$(primary) || die "no primary after start"
    wait_streaming "$p" "$(other "$p")"
  fi
  uri
  ;;
uri) uri ;;
primary) primary || { echo "pg-cluster.sh: no primary" >&2; exit 1; } ;;
status)
  for n in a b; do
    r=$(q "$n" 'select case when pg_is_in_recovery() then $$standby$$ else $$primary$$ end' || echo down)
    echo "$n port $(port_of "$n"): $r"
  done
  p=$(primary) && q "$p" "select application_name, state, sync_state, replay_lsn from pg_stat_replication"
  true
  ;;
failover)
  [ -f "$dir/mode" ] || die "no cluster in $dir"
  old=$(primary) || die "no primary to fail over from"
  new=$(other "$old")
  t0=$(now_ms)
  # 1. Crash the primary: SIGKILL the postmaster and all its children (left
  #    alone, they would linger until they notice the postmaster is gone, and
  #    keep the old shared memory in use).
  pid=$(head -1 "$dir/$old/data/postmaster.pid")
  kids=$(pgrep -P "$pid" || true)
  kill -9 "$pid" $kids 2>/dev/null || true
  wait_gone() { # zombies_ok(1|0): wait until $pid $kids are dead (or zombies)
    local i p st
    for i in $(seq 400); do
      alive=""
      for p in $pid $kids; do
        st=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | cut -c1 || true)
        [ -n "$st" ] && { [ "$1" = 0 ] || [ "$st" != Z ]; } && alive="$alive $p"
      done
      [ -z "$alive" ] && return 0
      sleep 0.05
    done
    die "processes of the killed primary still there after 20 s:$alive"
  }
  # Dead (zombie) is enough to promote; reaping can take a while: init
  # (PID 1) of this machine reaps orphans only every ~1-2 s.
  wait_gone 1
  # 2. Promote the standby and wait until it accepts writes. The probe uses
  #    synchronous_commit=local so that it does not wait for a sync standby.
  tk=$(now_ms)
  as_pg "pg_ctl -D '$dir/$new/data' -w -t 120 promote" >/dev/null || die "promote of $new failed"
  tp=$(now_ms)
  for i in $(seq 1200); do
    r=$(q "$new" "set synchronous_commit = local; select pg_is_in_recovery()::text || current_setting('transaction_read_only') || (txid_current() > 0)::text" || true)
    [ "$r" = falseofftrue ] && break
    r=""
    sleep 0.05
  done
  [ -n "$r" ] || die "promoted node $new does not accept writes"
  tw=$(now_ms)
  # 3. Rebuild the old primary as a standby of the new one. pg_rewind needs
  #    the promotion's timeline switch to be checkpointed on the source and
  #    the target shut down cleanly (PG >= 13 runs single-user crash recovery
  #    on it first by itself); wal_log_hints=on makes it usable at all.
  #    --no-sync: its final fsync of every file took ~3.5 s here, and the
  #    server start that follows syncs the data directory anyway (syncfs,
  #    since pg_rewind leaves the control file "in archive recovery").
  q "$new" "checkpoint" >/dev/null || true
  # A zombie postmaster still "owns" postmaster.pid and the socket lock file
  # (kill(pid, 0) succeeds), so neither pg_rewind's single-user recovery nor a
  # new postmaster can start until it has been reaped.
  wait_gone 0
  tc=$(now_ms)
  how=pg_rewind
  if ! as_pg "pg_rewind --no-sync --target-pgdata='$dir/$old/data' --source-server='$(conninfo "$new")' \
      >>'$dir/$old/pg.log' 2>&1"; then
    echo "pg-cluster.sh: pg_rewind of $old failed (see $dir/$old/pg.log); using pg_basebackup" >&2
    how=pg_basebackup
    basebackup "$old" "$new"
  fi
  make_standby_conf "$old" "$new"
  tr=$(now_ms)
  start_node "$old"
  ts=$(now_ms)
  wait_streaming "$new" "$old"
  t1=$(now_ms)
  echo "failover: $((t1 - t0)) ms (writes possible after $((tw - t0)) ms) [$old -> $new, $how, $(mode)]"
  echo "  phases: kill $((tk - t0)) ms, promote $((tp - tk)) ms, writable $((tw - tp)) ms, checkpoint+reap $((tc - tw)) ms, $how $((tr - tc)) ms," \
    "start $((ts - tr)) ms, until streaming $((t1 - ts)) ms" >&2
  ;;
stop)
  p=$(primary || true)
  # Primary first: a fast shutdown sends all WAL to the standby before exiting.
  [ -n "$p" ] && stop_node "$p" fast
  for n in a b; do stop_node "$n" fast; done
  ;;
destroy)
  for n in a b; do stop_node "$n" immediate; done
  rm -rf "$dir"
  ;;
*) echo "pg-cluster.sh: unknown command $cmd" >&2; echo "$usage" >&2; exit 2 ;;
esac
