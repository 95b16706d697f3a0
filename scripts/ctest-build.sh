#!/usr/bin/env bash
# Configure, build and run CTest in one build directory.
# Usage: scripts/ctest-build.sh BUILD_DIR [extra cmake args...]
# Environment: SPR_BUILD_TYPE (default RelWithDebInfo), SPR_CTEST_ARGS.
set -euo pipefail
cd "$(dirname "$0")/.."
build="$1"
shift
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="${SPR_BUILD_TYPE:-RelWithDebInfo}" "$@"
cmake --build "$build"
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" ${SPR_CTEST_ARGS:-}
