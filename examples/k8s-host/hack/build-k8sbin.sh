#!/usr/bin/env bash
# Build kube-apiserver and etcd from Go modules (offline but for the module
# proxy) into a cache directory keyed by their versions; skip when present.
#
#   hack/build-k8sbin.sh            prints the directory holding the binaries
#
# K8S_VERSION (v1.37.2), ETCD_VERSION (v3.6.16) pick the versions;
# K8S_BIN_CACHE (default $HOME/.cache/spinner-rollback-k8s) is the cache root.
# Helper modules are generated in temporary directories, never in the product's
# go.mod (see /work/shared/k8s-testing.md §1). Progress goes to stderr.
set -euo pipefail
K8S_VERSION=${K8S_VERSION:-v1.37.2}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
LIB_VERSION="v0.${K8S_VERSION#v1.}"
root=${K8S_BIN_CACHE:-$HOME/.cache/spinner-rollback-k8s}
out="$root/bin-$K8S_VERSION-etcd-$ETCD_VERSION"
export GOTOOLCHAIN=${GOTOOLCHAIN:-local} GOFLAGS=-mod=mod CGO_ENABLED=0
log() { echo "[build-k8sbin] $*" >&2; }
quiet() { "$@" >"$work/out" 2>&1 || { cat "$work/out" >&2; return 1; }; }

if [ -x "$out/kube-apiserver" ] && [ -x "$out/etcd" ]; then
    echo "$out"; exit 0
fi
mkdir -p "$out"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

if [ ! -x "$out/kube-apiserver" ]; then
    log "building kube-apiserver $K8S_VERSION (about 4-5 minutes cold)"
    mkdir "$work/k8s"; cd "$work/k8s"
    kmod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" |
           sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
    quiet go mod init example.invalid/k8sbin
    go mod edit -go="$(awk '$1=="go"{print $2; exit}' "$kmod")"
    grep -E '^godebug ' "$kmod" >> go.mod || true
    for m in $(awk '$2=="=>" && $3 ~ /^\.\/staging\/src\// {print $1}' "$kmod"); do
        go mod edit -replace="$m=$m@$LIB_VERSION"
    done
    quiet go get -tool "k8s.io/kubernetes/cmd/kube-apiserver@$K8S_VERSION"
    quiet go mod tidy
    minor=$(echo "$K8S_VERSION" | cut -d. -f2)
    v=k8s.io/component-base/version
    go build -p "${GOBUILD_P:-2}" -trimpath \
        -ldflags "-s -w -X $v.gitVersion=$K8S_VERSION -X $v.gitMajor=1 -X $v.gitMinor=$minor -X $v.gitTreeState=clean" \
        -o "$out/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver
    mv "$out/kube-apiserver.tmp" "$out/kube-apiserver"
fi

if [ ! -x "$out/etcd" ]; then
    log "building etcd $ETCD_VERSION"
    mkdir "$work/etcd"; cd "$work/etcd"
    quiet go mod init example.invalid/etcdbin
    quiet go get -tool "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
    quiet go mod tidy
    go build -trimpath -ldflags "-s -w" -o "$out/etcd.tmp" go.etcd.io/etcd/server/v3
    mv "$out/etcd.tmp" "$out/etcd"
fi
echo "$out"
