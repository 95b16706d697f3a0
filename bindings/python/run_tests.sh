#!/usr/bin/env bash
# Install the Python bindings into a fresh venv and run their tests against
# the library in a build directory. The package is installed without its own
# copy of the library (wheel.cmake=false: no C++ build here); test_wheel.sh
# tests the full install, which compiles and bundles the library.
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
"$venv/bin/pip" install --quiet --disable-pip-version-check --config-settings=wheel.cmake=false "$here" pytest hypothesis
cd "$repo"
SPR_LIBRARY="$lib" "$venv/bin/pytest" "$here/tests" -q "$@"
