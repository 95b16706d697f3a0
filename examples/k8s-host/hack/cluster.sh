#!/usr/bin/env bash
# Start or stop a throwaway control plane: etcd + kube-apiserver, no kubelet,
# no controllers, with the VolumeSnapshot CRDs loaded.
#
#   hack/cluster.sh start DIR BIN_DIR   writes DIR/kubeconfig; pids in DIR/*.pid
#   hack/cluster.sh stop  DIR           stops what `start DIR` started
#
# Ports: ETCD_PORT (default 12379, peer +1) and APISERVER_PORT (default 16443).
# Authentication is a static token for a system:masters user (DIR/pki/tokens.csv).
set -euo pipefail
cmd=${1:?usage: cluster.sh start DIR BIN_DIR | stop DIR}
dir=${2:?usage: cluster.sh start DIR BIN_DIR | stop DIR}
here="$(cd "$(dirname "$0")" && pwd)"
ETCD_PORT=${ETCD_PORT:-12379}
APISERVER_PORT=${APISERVER_PORT:-16443}

stop() {
    for p in kube-apiserver etcd; do
        if [ -f "$dir/$p.pid" ]; then
            pid=$(cat "$dir/$p.pid")
            kill "$pid" 2>/dev/null || true
            for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -9 "$pid" 2>/dev/null || true
            rm -f "$dir/$p.pid"
        fi
    done
}

pki() {
    local p="$dir/pki"
    mkdir -p "$p"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=spr-e2e-ca \
        -keyout "$p/ca.key" -out "$p/ca.crt" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj /CN=kube-apiserver \
        -keyout "$p/apiserver.key" -out "$p/apiserver.csr" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > "$p/san.ext"
    openssl x509 -req -in "$p/apiserver.csr" -CA "$p/ca.crt" -CAkey "$p/ca.key" -CAcreateserial \
        -days 2 -extfile "$p/san.ext" -out "$p/apiserver.crt" 2>/dev/null
    openssl genrsa -out "$p/sa.key" 2048 2>/dev/null
    openssl rsa -in "$p/sa.key" -pubout -out "$p/sa.pub" 2>/dev/null
    token=$(openssl rand -hex 16)
    echo "$token,admin,admin-uid,\"system:masters\"" > "$p/tokens.csv"
    chmod 600 "$p"/*.key "$p/tokens.csv"
    cat > "$dir/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters: [{name: e2e, cluster: {server: "https://127.0.0.1:$APISERVER_PORT", certificate-authority: "$p/ca.crt"}}]
users: [{name: admin, user: {token: "$token"}}]
contexts: [{name: e2e, context: {cluster: e2e, user: admin}}]
current-context: e2e
KC
    chmod 600 "$dir/kubeconfig"
}

api() { # METHOD PATH [curl args...]
    local m=$1 path=$2; shift 2
    curl -sS --cacert "$dir/pki/ca.crt" -H "Authorization: Bearer $token" -X "$m" \
        "https://127.0.0.1:$APISERVER_PORT$path" "$@"
}

start() {
    local bin=${1:?BIN_DIR}
    stop
    rm -rf "$dir"; mkdir -p "$dir"
    pki
    "$bin/etcd" --data-dir="$dir/etcd" --name=default \
        --listen-client-urls="http://127.0.0.1:$ETCD_PORT" --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
        --listen-peer-urls="http://127.0.0.1:$((ETCD_PORT + 1))" \
        --initial-advertise-peer-urls="http://127.0.0.1:$((ETCD_PORT + 1))" \
        --initial-cluster="default=http://127.0.0.1:$((ETCD_PORT + 1))" \
        --unsafe-no-fsync=true --log-level=warn >"$dir/etcd.log" 2>&1 &
    echo $! > "$dir/etcd.pid"
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$ETCD_PORT/health" >/dev/null && break; sleep 0.1; done
    local p="$dir/pki"
    "$bin/kube-apiserver" --etcd-servers="http://127.0.0.1:$ETCD_PORT" --bind-address=127.0.0.1 \
        --secure-port="$APISERVER_PORT" --tls-cert-file="$p/apiserver.crt" --tls-private-key-file="$p/apiserver.key" \
        --client-ca-file="$p/ca.crt" --token-auth-file="$p/tokens.csv" --authorization-mode=RBAC \
        --service-cluster-ip-range=10.0.0.0/24 --allow-privileged=true \
        --disable-admission-plugins=ServiceAccount \
        --service-account-issuer="https://127.0.0.1:$APISERVER_PORT/" --service-account-key-file="$p/sa.pub" \
        --service-account-signing-key-file="$p/sa.key" --cert-dir="$dir/certs" >"$dir/kube-apiserver.log" 2>&1 &
    echo $! > "$dir/kube-apiserver.pid"
    for _ in $(seq 1 300); do
        [ "$(api GET /readyz 2>/dev/null)" = ok ] && break
        kill -0 "$(cat "$dir/kube-apiserver.pid")" 2>/dev/null || { tail -20 "$dir/kube-apiserver.log" >&2; exit 1; }
        sleep 0.1
    done
    [ "$(api GET /readyz 2>/dev/null)" = ok ] || { echo "cluster.sh: apiserver not ready" >&2; tail -20 "$dir/kube-apiserver.log" >&2; exit 1; }
    crds
}

# The VolumeSnapshot CRDs come from the external-snapshotter client module
# (the version in this example's go.mod), read from the module cache.
crds() {
    local crd
    crd="$(cd "$here/.." && GOFLAGS=-mod=mod go list -m -f '{{.Dir}}' github.com/kubernetes-csi/external-snapshotter/client/v8)/config/crd"
    for f in volumesnapshotclasses volumesnapshotcontents volumesnapshots; do
        api POST /apis/apiextensions.k8s.io/v1/customresourcedefinitions -o /dev/null -f \
            -H 'Content-Type: application/yaml' --data-binary "@$crd/snapshot.storage.k8s.io_$f.yaml"
    done
    for _ in $(seq 1 100); do
        api GET /apis/snapshot.storage.k8s.io/v1 2>/dev/null | grep -q '"volumesnapshots"' && return 0
        sleep 0.1
    done
    echo "cluster.sh: the VolumeSnapshot API did not appear" >&2; exit 1
}

case "$cmd" in
    start) start "${3:?usage: cluster.sh start DIR BIN_DIR}" ;;
    stop) stop ;;
    *) echo "usage: cluster.sh start DIR BIN_DIR | stop DIR" >&2; exit 2 ;;
esac
