#!/usr/bin/env bash
# End-to-end test of the Docker example host against the real engine.
#
#   SPR_LIBRARY=<build>/libspinner_rollback.so.0 PYTHON=<venv>/bin/python ./e2e_test.sh
#
# Builds the test images (sprtest-testapp:1/2 and the tools image), then runs
# e2e_test.py with $PYTHON (which must have the spinner_rollback package).
# Containers it made are removed; only its own "sprtest-*" volumes are deleted.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
PYTHON="${PYTHON:-python3}"
export APP_IMAGE="${APP_IMAGE:-sprtest-testapp}"
export TOOLS_IMAGE="${TOOLS_IMAGE:-spr-host-tools:1}"

: "${SPR_LIBRARY:?set SPR_LIBRARY to <build>/libspinner_rollback.so.0}"
[ -e "$SPR_LIBRARY" ] || { echo "e2e_test.sh: $SPR_LIBRARY not found" >&2; exit 1; }
"$PYTHON" -c 'import spinner_rollback' 2>/dev/null || {
    echo "e2e_test.sh: $PYTHON cannot import spinner_rollback (pip install bindings/python)" >&2; exit 1; }
docker info >/dev/null 2>&1 || { echo "e2e_test.sh: the Docker engine is not reachable (docker info)" >&2; exit 1; }

start=$(date +%s)
echo "--- building images"
"$here/build_images.sh"
echo "    images built in $(( $(date +%s) - start ))s"
"$PYTHON" "$here/e2e_test.py"
status=$?
# The test re-tags $APP_IMAGE:1; drop its tags so that the next run starts clean.
docker rmi "$APP_IMAGE:1" "$APP_IMAGE:2" >/dev/null 2>&1 || true
exit $status
