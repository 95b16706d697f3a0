#!/usr/bin/env bash
# One command on a fresh Debian 12 machine: install the dependencies, build,
# and run the demo (the whole rollback story on a fresh SQLite file).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build
bash examples/cli/demo.sh build/examples/cli/spinner-rollback
