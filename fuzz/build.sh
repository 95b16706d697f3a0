#!/usr/bin/env bash
# Build the libFuzzer targets of spinner_rollback (standalone; no CMake).
# Usage: fuzz/build.sh BUILD_DIR
# Env: CXX (default clang++-14); SPR_FUZZ_COVERAGE=1 builds for line coverage
# instead (source-based coverage, no sanitizers: fuzz/coverage.sh).
set -euo pipefail
if [ $# -ne 1 ]; then echo "usage: $0 BUILD_DIR" >&2; exit 2; fi
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mkdir -p "$1"
OUT="$(cd "$1" && pwd)"
CXX="${CXX:-clang++-14}"
command -v "$CXX" >/dev/null || { echo "error: $CXX not found (apt-get install -y clang-14 libclang-rt-14-dev)" >&2; exit 2; }

# Generated version header (cmake/version.hpp.in with the project's version).
mkdir -p "$OUT/generated/spinner_rollback" "$OUT/obj" "$OUT/bin"
ver=$(sed -n 's/^project(spinner_rollback VERSION \([0-9.]*\).*/\1/p' "$ROOT/CMakeLists.txt")
so=$(sed -n 's/^set(SPR_SOVERSION \([0-9]*\)).*/\1/p' "$ROOT/CMakeLists.txt")
IFS=. read -r major minor patch <<<"$ver"
sed -e "s/@PROJECT_VERSION_MAJOR@/$major/g" -e "s/@PROJECT_VERSION_MINOR@/$minor/g" \
    -e "s/@PROJECT_VERSION_PATCH@/$patch/g" -e "s/@PROJECT_VERSION@/$ver/g" \
    -e "s/@SPR_VERSION_NUMBER@/$((major * 10000 + minor * 100 + patch))/g" -e "s/@SPR_SOVERSION@/$so/g" \
    "$ROOT/cmake/version.hpp.in" > "$OUT/generated/spinner_rollback/version.hpp.tmp"
# Keep the old file (and its mtime) when unchanged.
if cmp -s "$OUT/generated/spinner_rollback/version.hpp.tmp" "$OUT/generated/spinner_rollback/version.hpp"; then
    rm "$OUT/generated/spinner_rollback/version.hpp.tmp"
else
    mv "$OUT/generated/spinner_rollback/version.hpp.tmp" "$OUT/generated/spinner_rollback/version.hpp"
fi

if [ "${SPR_FUZZ_COVERAGE:-0}" = 1 ]; then
    INSTRUMENT=(-fsanitize=fuzzer-no-link -fprofile-instr-generate -fcoverage-mapping)
    LDFLAGS=(-fsanitize=fuzzer -fprofile-instr-generate)
else
    INSTRUMENT=(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined)
    LDFLAGS=(-fsanitize=fuzzer,address,undefined)
fi
CXXFLAGS=(-std=c++20 -g -O1 -fno-omit-frame-pointer "${INSTRUMENT[@]}"
          -DSPR_STATIC_DEFINE
          -I"$ROOT/include" -I"$ROOT/src" -I"$ROOT/capi" -I"$OUT/generated"
          $(pkg-config --cflags libpq))
LIBS=(-lboost_json -lsqlite3 -lpq -lcrypto -lsodium -lzstd -lpthread)

# Compile the library sources (in parallel), rebuilding only what changed.
SRCS=("$ROOT"/src/*.cpp "$ROOT/capi/spinner_rollback_c.cpp")
compile() { # src obj
    local src="$1" obj="$2"
    "$CXX" "${CXXFLAGS[@]}" -MMD -MP -c "$src" -o "$obj"
}
needs_build() { # obj dep
    local obj="$1" dep="$2" f
    [ -f "$obj" ] && [ -f "$dep" ] || return 0
    for f in $(sed -e 's/\\$//' -e 's/^[^:]*://' "$dep" | tr ' ' '\n' | grep -v ':$' | grep .); do
        [ -e "$f" ] || return 0
        [ "$f" -nt "$obj" ] && return 0
    done
    return 1
}
pids=(); objs=(); fail=0
for src in "${SRCS[@]}"; do
    name="$(basename "$src" .cpp)"
    obj="$OUT/obj/lib_$name.o"
    objs+=("$obj")
    if needs_build "$obj" "${obj%.o}.d"; then
        echo "CXX $src"
        compile "$src" "$obj" &
        pids+=($!)
    fi
done
for p in "${pids[@]}"; do wait "$p" || fail=1; done
[ "$fail" -eq 0 ] || { echo "error: library compilation failed" >&2; exit 1; }

# Compile and link each target.
for src in "$ROOT"/fuzz/fuzz_*.cpp; do
    name="$(basename "$src" .cpp)"
    obj="$OUT/obj/$name.o"
    if needs_build "$obj" "${obj%.o}.d"; then
        echo "CXX $src"
        compile "$src" "$obj"
    fi
    echo "LINK $OUT/bin/$name"
    "$CXX" "${LDFLAGS[@]}" "$obj" "${objs[@]}" "${LIBS[@]}" -o "$OUT/bin/$name"
done
echo "fuzzers in $OUT/bin"
