#!/usr/bin/env bash
# The whole test suite: build (if needed) and run every test with CTest.
# Usage: scripts/test.sh [build-dir] [extra cmake args...]
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
shift || true
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="${SPR_BUILD_TYPE:-RelWithDebInfo}" "$@"
cmake --build "$build"
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" ${SPR_CTEST_ARGS:-}
