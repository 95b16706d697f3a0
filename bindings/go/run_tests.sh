#!/usr/bin/env bash
# Test the Go binding against an installed copy of the library.
#
#   bindings/go/run_tests.sh [BUILD_DIR]      (default: build)
#
# BUILD_DIR is a configured and built CMake tree (relative to the current
# directory or to the repository root). The library is installed into a
# temporary prefix with `cmake --install`, found through its pkg-config file,
# and then: gofmt check, go vet, go test -race, and the leak check
# (cmd/leakcheck; SPR_LEAKCHECK_ITERATIONS overrides its 10000 iterations).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${1:-build}"
if [[ ! -d "$build" && -d "$root/$build" ]]; then
    build="$root/$build"
fi
if [[ ! -f "$build/CMakeCache.txt" ]]; then
    echo "run_tests.sh: $build is not a CMake build directory (configure and build it first)" >&2
    exit 2
fi
build="$(cd "$build" && pwd)"

command -v go >/dev/null || { echo "run_tests.sh: go not found" >&2; exit 2; }

prefix="$(mktemp -d "${TMPDIR:-/tmp}/spr-go-prefix.XXXXXX")"
trap 'rm -rf "$prefix"' EXIT
echo "== installing $build into $prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null

pc="$(find "$prefix" -name spinner_rollback.pc -print -quit)"
[[ -n "$pc" ]] || { echo "run_tests.sh: no spinner_rollback.pc was installed" >&2; exit 1; }
libdir="$(dirname "$(dirname "$pc")")"
export PKG_CONFIG_PATH="$(dirname "$pc")${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export CGO_ENABLED=1
# The go build cache does not key on pkg-config's output, so a package built
# against an earlier (now deleted) prefix would be reused. Naming this prefix
# in the cgo flags makes every run build against the library just installed.
export CGO_CFLAGS="${CGO_CFLAGS:--O2 -g} -I$prefix/include"
export CGO_LDFLAGS="${CGO_LDFLAGS:--O2 -g} -L$libdir"
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
export GOFLAGS="${GOFLAGS:-} -mod=readonly"
echo "== pkg-config: $(pkg-config --modversion spinner_rollback) $(pkg-config --cflags --libs spinner_rollback)"

cd "$here"
echo "== gofmt"
unformatted="$(gofmt -l .)"
if [[ -n "$unformatted" ]]; then
    echo "run_tests.sh: not gofmt'ed:" >&2
    echo "$unformatted" >&2
    exit 1
fi
echo "== go vet ./..."
go vet ./...
echo "== go test -race -count=1 ./..."
go test -race -count=1 ./...
echo "== leak check"
bin="$prefix/leakcheck"
go build -o "$bin" ./cmd/leakcheck
"$bin" -n "${SPR_LEAKCHECK_ITERATIONS:-10000}"
echo "== Go binding: all checks passed"
