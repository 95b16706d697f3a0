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
# shellcheck source=../../scripts/lib/cgo-install.sh
source "$root/scripts/lib/cgo-install.sh"
spr_build_dir run_tests.sh "${1:-build}" "$root"

prefix="$(mktemp -d "${TMPDIR:-/tmp}/spr-go-prefix.XXXXXX")"
trap 'rm -rf "$prefix"' EXIT
spr_install_for_cgo run_tests.sh "$prefix"
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
