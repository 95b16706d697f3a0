#!/usr/bin/env bash
# Build (fuzz/build.sh) and run every libFuzzer target for SECONDS each.
# Usage: fuzz/run.sh BUILD_DIR SECONDS [TARGET...]
# Each target first replays fuzz/regressions/<target>/ (if any), then fuzzes a
# copy of fuzz/corpus/<target>/ (the repo is never modified). Exits non-zero
# if any target crashes, leaks, times out or fails a sanitizer check, and
# prints the reproducer path. Logs: BUILD_DIR/logs/<target>.log.
set -uo pipefail
if [ $# -lt 2 ]; then echo "usage: $0 BUILD_DIR SECONDS [TARGET...]" >&2; exit 2; fi
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mkdir -p "$1"
OUT="$(cd "$1" && pwd)"
SECONDS_PER_TARGET="$2"
shift 2

"$ROOT/fuzz/build.sh" "$OUT" || { echo "error: fuzz build failed" >&2; exit 1; }

if [ $# -gt 0 ]; then TARGETS=("$@"); else
    TARGETS=(); for f in "$ROOT"/fuzz/fuzz_*.cpp; do TARGETS+=("$(basename "$f" .cpp)"); done
fi

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export SPR_FUZZ_SEED_DIR="$ROOT/tests/data"   # fuzz_capi seeds its store from here
mkdir -p "$OUT/logs"
failed=()
for t in "${TARGETS[@]}"; do
    bin="$OUT/bin/$t"
    [ -x "$bin" ] || { echo "error: no target $t" >&2; failed+=("$t"); continue; }
    log="$OUT/logs/$t.log"
    art="$OUT/artifacts/$t/"
    work="$OUT/work/$t"
    rm -rf "$work" "$art"; mkdir -p "$work/corpus" "$art"
    : > "$log"

    # 1. Replay known crashers (must not crash any more).
    if [ -d "$ROOT/fuzz/regressions/$t" ] && [ -n "$(ls -A "$ROOT/fuzz/regressions/$t")" ]; then
        echo "== $t: replaying fuzz/regressions/$t"
        if ! "$bin" -rss_limit_mb=2048 -timeout=25 "$ROOT"/fuzz/regressions/"$t"/* >>"$log" 2>&1; then
            echo "FAIL $t: a regression input still crashes (see $log)"
            grep -E "^(==[0-9]+==ERROR|SUMMARY|FUZZ BUG|Running:)" "$log" | tail -5
            failed+=("$t"); continue
        fi
    fi

    # 2. Fuzz a copy of the seed corpus.
    [ -d "$ROOT/fuzz/corpus/$t" ] && cp -R "$ROOT/fuzz/corpus/$t/." "$work/corpus/"
    echo "== $t: fuzzing for ${SECONDS_PER_TARGET}s"
    (cd "$work" && "$bin" -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 -max_len=65536 \
        -timeout=25 -print_final_stats=1 -artifact_prefix="$art" "$work/corpus") >>"$log" 2>&1
    rc=$?
    stats="$(grep -E '^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|stat::average_exec_per_sec)' "$log" | tr '\n' ' ')"
    echo "   $stats"
    repro="$(ls -1 "$art" 2>/dev/null | head -n1)"
    if [ "$rc" -ne 0 ] || [ -n "$repro" ]; then
        echo "FAIL $t (exit $rc): see $log"
        grep -E "^(==[0-9]+==ERROR|SUMMARY|FUZZ BUG)|runtime error" "$log" | head -5
        [ -n "$repro" ] && echo "   reproducer: $art$repro  (replay: $bin $art$repro)"
        failed+=("$t")
    fi
done
if [ ${#failed[@]} -ne 0 ]; then echo "fuzzing FAILED: ${failed[*]}"; exit 1; fi
echo "fuzzing passed: ${TARGETS[*]}"
