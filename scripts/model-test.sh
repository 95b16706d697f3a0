#!/usr/bin/env bash
# Model-based test at length: the Hypothesis state machine of
# bindings/python/tests/test_model.py (the store against the reference model
# in bindings/python/tests/model.py) with many examples. CI runs 60.
#
#   usage: scripts/model-test.sh [EXAMPLES=100000] [BUILD_DIR=build]
# Environment: SPR_MODEL_STEPS (steps per example, default 25);
#   SPR_TEST_POSTGRES=<libpq URI> runs it on PostgreSQL (a fresh schema per
#   example; needs psql), e.g. the URI `scripts/pg-server.sh start /tmp/spr-pg 5437` prints;
#   VENV (default /tmp/pyenv-model).
# Time: 50,000 examples took 2395 s and 3002 s on SQLite (2026-12-06, 2 cores, beside a
# CI run), so the default 100,000 take about 80 minutes; 300 take about 100 s
# on PostgreSQL (local socket server).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
examples="${1:-100000}"
build="${2:-build}"
echo "model-test.sh: $examples examples of up to ${SPR_MODEL_STEPS:-25} steps on ${SPR_TEST_POSTGRES:+PostgreSQL}${SPR_TEST_POSTGRES:-SQLite}"
start=$(date +%s)
SPR_MODEL_EXAMPLES="$examples" VENV="${VENV:-/tmp/pyenv-model}" \
    "$repo/bindings/python/run_tests.sh" "$build" -k TestStoreModel -x -p no:cacheprovider
echo "model-test.sh: passed in $(( $(date +%s) - start )) s"
