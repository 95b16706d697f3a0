#!/usr/bin/env bash
# The whole test suite, on a machine set up with scripts/setup.sh (or deps.sh):
#   1. C++/C: unit, C API, C99 programs, multi-process, crash, CLI, examples,
#      packaging (CTest);
#   2. the Python binding (pytest against BUILD_DIR's library, then against a
#      wheel that `pip wheel bindings/python` compiles with its own library,
#      shown and repaired by auditwheel, installed into a fresh venv);
#   3. the Go binding (go vet, go test -race, leak check), and the module
#      fetched with `go get` from a file-system module proxy, built, vendored;
#   4. the cross-language test (CLI, Python and Go on one store file);
#   5. the Docker host end-to-end test against a real Docker engine;
#   6. the Kubernetes host end-to-end test against a real kube-apiserver + etcd.
# Usage: scripts/test.sh [BUILD_DIR]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
step() { echo; echo "=== $*"; }

step "C++ and C tests (CTest)"
scripts/ctest-build.sh "$build"

step "Python binding"
bindings/python/run_tests.sh "$build"

step "Python package: pip wheel bindings/python builds and bundles the library; auditwheel; tests run on the install"
bindings/python/test_wheel.sh --wheel

if [ -x bindings/go/run_tests.sh ]; then
  step "Go binding"
  bindings/go/run_tests.sh "$build"
  step "Go module: go get through a module proxy, build, go mod vendor, Examples in the docs"
  bindings/go/test_goget.sh "$build"
fi

step "Cross-language: one store written by the CLI, Python and Go, read identically by all three"
tests/cross/cross_language.sh "$build"

step "Docker host end-to-end"
examples/docker-host/run_e2e.sh "$build"

step "Kubernetes host end-to-end (real kube-apiserver + etcd)"
examples/k8s-host/run_e2e.sh "$build"
