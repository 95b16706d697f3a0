#!/usr/bin/env bash
# Long fuzzing with coverage (docs/fuzzing.md): every libFuzzer target fuzzed
# for SECONDS (default 3600) by fuzz/run.sh (regressions replayed first), its
# corpus then minimised (libFuzzer -merge=1) and, with --update-corpus, put
# back into fuzz/corpus/<target>/; finally the line coverage of src/ and capi/
# that the minimised corpora reach, measured with a coverage build
# (SPR_FUZZ_COVERAGE=1 fuzz/build.sh) and llvm-cov.
#
# With SPR_FUZZ_POSTGRES=<libpq URI> (scripts/pg-server.sh start DIR PORT
# prints one) fuzz_ops fuzzes on that PostgreSQL server, and its corpus is
# measured on both engines.
# SECONDS 0 fuzzes nothing: the coverage of the committed corpora
# (fuzz/corpus/<target>/ and fuzz/regressions/<target>/) alone.
#
# Usage: fuzz/coverage.sh BUILD_DIR [SECONDS] [--update-corpus] [TARGET...]
# Output: BUILD_DIR/coverage.txt (per-file table and TOTAL), the fuzzing
# statistics per target, and a one-line summary per target.
set -euo pipefail
if [ $# -lt 1 ]; then echo "usage: $0 BUILD_DIR [SECONDS] [--update-corpus] [TARGET...]" >&2; exit 2; fi
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mkdir -p "$1"
OUT="$(cd "$1" && pwd)"
shift
SECS=3600
if [ $# -gt 0 ] && [[ "$1" =~ ^[0-9]+$ ]]; then SECS="$1"; shift; fi
UPDATE=0
if [ $# -gt 0 ] && [ "$1" = --update-corpus ]; then UPDATE=1; shift; fi
if [ $# -gt 0 ]; then TARGETS=("$@"); else
    TARGETS=(); for f in "$ROOT"/fuzz/fuzz_*.cpp; do TARGETS+=("$(basename "$f" .cpp)"); done
fi
PROFDATA="$(command -v llvm-profdata-14 || command -v llvm-profdata)"
COV="$(command -v llvm-cov-14 || command -v llvm-cov)"

start=$(date +%s)
# 1. Fuzz (ASan + UBSan build); fails on any crash, leak or timeout.
if [ "$SECS" -gt 0 ]; then
    "$ROOT/fuzz/run.sh" "$OUT/fuzz" "$SECS" "${TARGETS[@]}"
else
    "$ROOT/fuzz/build.sh" "$OUT/fuzz" >/dev/null
    for t in "${TARGETS[@]}"; do rm -rf "$OUT/fuzz/work/$t/corpus"; mkdir -p "$OUT/fuzz/work/$t/corpus"; done
fi

# 2. Minimise: the seed corpus and everything found, merged.
for t in "${TARGETS[@]}"; do
    min="$OUT/min/$t"
    rm -rf "$min"; mkdir -p "$min"
    SPR_FUZZ_SEED_DIR="$ROOT/tests/data" "$OUT/fuzz/bin/$t" -merge=1 -rss_limit_mb=2048 -timeout=25 "$min" \
        "$ROOT/fuzz/corpus/$t" "$OUT/fuzz/work/$t/corpus" >"$OUT/min/$t.log" 2>&1
    echo "== $t: corpus $(ls "$ROOT/fuzz/corpus/$t" | wc -l) seeds + $(ls "$OUT/fuzz/work/$t/corpus" | wc -l) found -> $(ls "$min" | wc -l) after -merge"
    if [ "$UPDATE" = 1 ]; then
        rm -rf "$ROOT/fuzz/corpus/$t"; cp -R "$min" "$ROOT/fuzz/corpus/$t"
    fi
done

# 3. Coverage of the minimised corpora and the regression inputs: each run once.
SPR_FUZZ_COVERAGE=1 "$ROOT/fuzz/build.sh" "$OUT/cov" >/dev/null
rm -rf "$OUT/cov/prof"; mkdir -p "$OUT/cov/prof"
objects=()
for t in "${TARGETS[@]}"; do
    inputs=("$OUT/min/$t")
    [ -d "$ROOT/fuzz/regressions/$t" ] && inputs+=("$ROOT/fuzz/regressions/$t")
    env -u SPR_FUZZ_POSTGRES SPR_FUZZ_SEED_DIR="$ROOT/tests/data" LLVM_PROFILE_FILE="$OUT/cov/prof/$t-%p.profraw" \
        "$OUT/cov/bin/$t" -runs=0 -rss_limit_mb=2048 "${inputs[@]}" >"$OUT/cov/$t.log" 2>&1
    # fuzz_ops once more on PostgreSQL when a server is given.
    if [ "$t" = fuzz_ops ] && [ -n "${SPR_FUZZ_POSTGRES:-}" ]; then
        SPR_FUZZ_SEED_DIR="$ROOT/tests/data" LLVM_PROFILE_FILE="$OUT/cov/prof/$t-pg-%p.profraw" \
            "$OUT/cov/bin/$t" -runs=0 -rss_limit_mb=2048 "${inputs[@]}" >"$OUT/cov/$t-pg.log" 2>&1
    fi
    objects+=(-object "$OUT/cov/bin/$t")
done
"$PROFDATA" merge -sparse "$OUT"/cov/prof/*.profraw -o "$OUT/cov/all.profdata"
"$COV" report -instr-profile="$OUT/cov/all.profdata" "${objects[@]:1}" \
    "$ROOT"/src/*.cpp "$ROOT"/capi/*.cpp >"$OUT/coverage.txt"
echo
echo "line coverage of src/ and capi/ by the minimised corpora (llvm-cov; full table: $OUT/coverage.txt):"
grep '^TOTAL' "$OUT/coverage.txt" | awk '{ print "  regions " $4 ", functions " $7 ", lines " $10 }'
echo "total: $(( $(date +%s) - start )) s, $SECS s of fuzzing per target"
