#!/usr/bin/env bash
# The fault campaign at larger counts than CI runs (docs/faults.md): simulated
# power cuts on SQLite (a test VFS: tests/crash/powercut_vfs.cpp), writers
# killed with SIGKILL at random instants on SQLite and PostgreSQL, and on
# PostgreSQL connections cut mid-transaction, immediate server restarts and
# server processes killed inside write transactions, and failovers of a
# primary to a synchronous standby (scripts/pg-cluster.sh); the store's invariants
# are checked after every fault. The PostgreSQL part starts its own
# throwaway cluster (scripts/pg-server.sh) in /tmp and destroys it.
#
# usage: scripts/fault-campaign.sh [--kills N] [--backend sqlite|postgres|both]
#          [--cuts N] [--restarts N] [--backend-kills N] [--failovers N]
#          [--power-cuts N] [--seed S]
#          [--build DIR] [--log FILE]
#
#   --kills N          SIGKILLs of writers per backend, half per durability
#                      mode (default: $SPR_CRASH_KILLS or 1000)
#   --backend B        sqlite, postgres or both (default both)
#   --cuts N           connection-cut rounds, two cuts each (default: $SPR_PG_CUTS or 100)
#   --restarts N       immediate server restarts (default: $SPR_PG_RESTARTS or 30)
#   --backend-kills N  server processes killed mid-transaction (default: $SPR_PG_BACKEND_KILLS or 30)
#   --failovers N      primary failovers under 4 writers (default: $SPR_PG_FAILOVERS or 50)
#   --power-cuts N     simulated power cuts on SQLite (default: $SPR_POWER_CUTS or 100000;
#                      about 6 per second on the 2-core CI machine)
#   --seed S           random seed (default: random; printed, and reused by every part)
#   --build DIR        build directory (default build-faults; configured
#                      RelWithDebInfo and built, the two targets only, if needed)
#   --log FILE         full test output (default DIR/fault-campaign-<time>.log)
#
# Prints one summary line per part (counts, duration, errors the writers saw)
# and exits non-zero if any invariant failed; the log then names the round,
# the seed and what broke.
set -euo pipefail
cd "$(dirname "$0")/.."

kills="${SPR_CRASH_KILLS:-1000}"
backend=both
cuts="${SPR_PG_CUTS:-100}"
restarts="${SPR_PG_RESTARTS:-30}"
backend_kills="${SPR_PG_BACKEND_KILLS:-30}"
failovers="${SPR_PG_FAILOVERS:-50}"
power_cuts="${SPR_POWER_CUTS:-100000}"
seed="${SPR_CRASH_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}"
build=build-faults
log=

usage() { sed -n '/^# usage:/,/^#   --log/p' "$0" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --kills) kills="$2"; shift 2 ;;
    --backend) backend="$2"; shift 2 ;;
    --cuts) cuts="$2"; shift 2 ;;
    --restarts) restarts="$2"; shift 2 ;;
    --backend-kills) backend_kills="$2"; shift 2 ;;
    --failovers) failovers="$2"; shift 2 ;;
    --power-cuts) power_cuts="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    --log) log="$2"; shift 2 ;;
    -h|--help) usage ;;
    *) echo "fault-campaign.sh: unknown argument $1" >&2; usage ;;
  esac
done
case "$backend" in
  sqlite) filter='[sqlite]' ;;
  postgres) filter='[postgres],[failover]' ;;
  both) filter='[crash],[failover]' ;;
  *) echo "fault-campaign.sh: --backend must be sqlite, postgres or both" >&2; exit 2 ;;
esac
for n in "$kills" "$cuts" "$restarts" "$backend_kills" "$failovers" "$power_cuts" "$seed"; do
  case "$n" in ''|*[!0-9]*) echo "fault-campaign.sh: counts and seed must be integers" >&2; exit 2 ;; esac
done

if [ ! -x "$build/tests/crash/spr_crash_tests" ] || [ ! -x "$build/tests/crash/spr_crash_writer" ]; then
  [ -f "$build/CMakeCache.txt" ] ||
    cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build" -j2 --target spr_crash_tests spr_crash_writer spr_powercut_writer >/dev/null

[ -n "$log" ] || log="$build/fault-campaign-$(date +%Y%m%d-%H%M%S).log"
summary=$(mktemp /tmp/spr-fault-summary-XXXXXX)
trap 'rm -f "$summary"' EXIT

echo "fault campaign: backend $backend, $kills kills per backend, $cuts cut rounds, $restarts restarts," \
     "$backend_kills server-process kills, $failovers failovers, $power_cuts power cuts; SPR_CRASH_SEED=$seed"
echo "log: $log"
start=$(date +%s)
rc=0
SPR_CRASH_KILLS="$kills" SPR_PG_CUTS="$cuts" SPR_PG_RESTARTS="$restarts" \
SPR_PG_BACKEND_KILLS="$backend_kills" SPR_PG_FAILOVERS="$failovers" SPR_POWER_CUTS="$power_cuts" SPR_CRASH_SEED="$seed" SPR_FAULT_SUMMARY="$summary" \
  "$build/tests/crash/spr_crash_tests" "$filter" --durations yes >"$log" 2>&1 || rc=$?

echo
cat "$summary"
echo
echo "total: $(( $(date +%s) - start )) s"
if [ "$rc" -ne 0 ]; then
  echo "FAILED (exit $rc); SPR_CRASH_SEED=$seed. The failing checks:"
  grep -E -A12 'FAILED:' "$log" | head -80 || true
  exit 1
fi
echo "passed: every invariant held after every fault"
