#!/usr/bin/env bash
# Run the Docker example host's end-to-end test from scratch.
#
#   examples/docker-host/run_e2e.sh BUILD_DIR
#
# 1. builds the library in BUILD_DIR if needed (cmake + ninja, target spinner_rollback);
# 2. starts dockerd only if `docker info` fails (needs root and docker.io installed);
# 3. installs busybox-static if /bin/busybox is missing (apt-get, root only);
# 4. creates a fresh venv and pip-installs the Python binding (bindings/python);
# 5. runs e2e_test.sh (image builds + the test). Exit status is the test's.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
mkdir -p "$1"
build="$(cd "$1" && pwd)"
t0=$(date +%s)
log() { echo "[run_e2e $(( $(date +%s) - t0 ))s] $*"; }

# --- library --------------------------------------------------------------------
if [ ! -f "$build/build.ninja" ]; then
    log "configuring $build"
    cmake -S "$repo" -B "$build" -G Ninja >/dev/null
fi
log "building the library (ninja target spinner_rollback)"
ninja -C "$build" spinner_rollback >/dev/null
lib="$build/libspinner_rollback.so.0"
[ -e "$lib" ] || { echo "run_e2e.sh: $lib was not built" >&2; exit 1; }

# --- docker engine ------------------------------------------------------------------
if ! docker info >/dev/null 2>&1; then
    command -v dockerd >/dev/null || { echo "run_e2e.sh: docker info fails and dockerd is not installed" >&2; exit 1; }
    log "starting dockerd (log: /var/log/dockerd.log)"
    dockerd >/var/log/dockerd.log 2>&1 &
    for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
    docker info >/dev/null 2>&1 || { echo "run_e2e.sh: dockerd did not come up; see /var/log/dockerd.log" >&2; exit 1; }
fi
log "docker engine $(docker version --format '{{.Server.Version}}')"

# --- tools ------------------------------------------------------------------------------
command -v go >/dev/null || { echo "run_e2e.sh: Go is needed to build the test app" >&2; exit 1; }
if [ -z "${BUSYBOX:-}" ] && [ ! -x /bin/busybox ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        log "installing busybox-static"
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -qq busybox-static >/dev/null 2>&1 ||
            { apt-get update -qq >/dev/null && apt-get install -y -qq busybox-static >/dev/null; }
    else
        echo "run_e2e.sh: /bin/busybox missing: apt-get install busybox-static (or set BUSYBOX)" >&2; exit 1
    fi
fi

# --- python binding -------------------------------------------------------------------------
venv="$(mktemp -d /tmp/spr-docker-host-venv.XXXXXX)"
trap 'rm -rf "$venv"' EXIT
log "creating venv $venv and installing bindings/python"
python3 -m venv "$venv"
# The pure-Python install: SPR_LIBRARY names the library built above.
"$venv/bin/pip" install -q --disable-pip-version-check --config-settings=wheel.cmake=false "$repo/bindings/python"

log "running e2e_test.sh"
SPR_LIBRARY="$lib" PYTHON="$venv/bin/python" "$here/e2e_test.sh"
log "done"
