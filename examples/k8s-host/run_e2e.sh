#!/usr/bin/env bash
# Run the Kubernetes example host's end-to-end test from scratch.
#
#   examples/k8s-host/run_e2e.sh BUILD_DIR
#
# 1. builds the library in BUILD_DIR if needed (cmake + ninja, target
#    spinner_rollback); cgo links it through a generated pkg-config file;
# 2. builds kube-apiserver and etcd from Go modules unless cached
#    (hack/build-k8sbin.sh; cache root K8S_BIN_CACHE, default ~/.cache/spinner-rollback-k8s);
# 3. gofmt, go vet, unit tests; builds the spr-k8s-host CLI;
# 4. starts etcd + kube-apiserver + the VolumeSnapshot CRDs (hack/cluster.sh);
# 5. runs `go test -tags e2e ./e2e`, then stops the control plane.
# Exit status is the test's. Go comes from PATH or /usr/local/go/bin.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
mkdir -p "$1"
build="$(cd "$1" && pwd)"
export PATH="$PATH:/usr/local/go/bin"
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}" CGO_ENABLED=1
t0=$(date +%s)
log() { echo "[run_e2e $(( $(date +%s) - t0 ))s] $*"; }
command -v go >/dev/null || { echo "run_e2e.sh: go not found" >&2; exit 1; }

# --- library ---------------------------------------------------------------------
if [ ! -f "$build/build.ninja" ]; then
    log "configuring $build"
    cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
log "building the library (ninja target spinner_rollback)"
ninja -C "$build" spinner_rollback >/dev/null
work="$(mktemp -d "${TMPDIR:-/tmp}/spr-k8s-e2e.XXXXXX")"
cleanup() { "$here/hack/cluster.sh" stop "$work/cluster" || true; rm -rf "$work"; }
trap cleanup EXIT
# cgo links the shared library in BUILD_DIR through a pkg-config file written
# here (installing would need every installed target built, the CLI included).
mkdir -p "$work/pkgconfig"
cat > "$work/pkgconfig/spinner_rollback.pc" <<PC
Name: spinner_rollback
Description: spinner_rollback from $build
Version: 0
Libs: -L$build -lspinner_rollback
Cflags: -I$repo/capi
PC
export PKG_CONFIG_PATH="$work/pkgconfig"
export LD_LIBRARY_PATH="$build${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# Name the build dir in the cgo flags so the go build cache never reuses a
# binding built against another copy of the library (see bindings/go/run_tests.sh).
export CGO_CFLAGS="-O2 -g -I$repo/capi" CGO_LDFLAGS="-O2 -g -L$build -Wl,-rpath,$build"

# --- control-plane binaries ---------------------------------------------------------
log "kube-apiserver + etcd (built once, then cached)"
bins="$("$here/hack/build-k8sbin.sh")"
log "binaries in $bins"

# --- host CLI ----------------------------------------------------------------------------
cd "$here"
export GOFLAGS="${GOFLAGS:-} -mod=readonly"
log "gofmt, go vet, unit tests"
unformatted="$(gofmt -l .)"
[ -z "$unformatted" ] || { echo "run_e2e.sh: not gofmt'ed: $unformatted" >&2; exit 1; }
go vet ./... && go vet -tags e2e ./e2e
go test -count=1 ./internal/...
log "building spr-k8s-host"
go build -o "$work/spr-k8s-host" ./cmd/spr-k8s-host

# --- control plane + test ------------------------------------------------------------------
log "starting etcd + kube-apiserver"
s=$(date +%s%N)
"$here/hack/cluster.sh" start "$work/cluster" "$bins"
log "control plane ready in $(( ($(date +%s%N) - s) / 1000000 )) ms"
log "running go test -tags e2e ./e2e"
KUBECONFIG="$work/cluster/kubeconfig" SPR_K8S_HOST_BIN="$work/spr-k8s-host" \
    go test -tags e2e -count=1 -v ./e2e
log "done"
