#!/usr/bin/env bash
# Install the Python bindings into a fresh venv and run their tests against
# the library in a build directory.
#   usage: bindings/python/run_tests.sh [BUILD_DIR]   (default: build)
# Environment: PYTHON (default python3), VENV (default /tmp/pyenv),
#              extra arguments after BUILD_DIR go to pytest.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
build="${1:-build}"
shift || true
case "$build" in /*) ;; *) build="$repo/$build" ;; esac

lib="$build/libspinner_rollback.so.0"
if [[ ! -e "$lib" ]]; then
    echo "run_tests.sh: $lib not found; build first: cmake -S . -B build -G Ninja && ninja -C build" >&2
    exit 2
fi

python="${PYTHON:-python3}"
venv="${VENV:-/tmp/pyenv}"
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "$here" pytest
cd "$repo"
SPR_LIBRARY="$lib" "$venv/bin/pytest" "$here/tests" -q "$@"
