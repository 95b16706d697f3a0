#!/usr/bin/env bash
# Build the local images the Docker example host and its e2e test use.
# No registry is needed: static binaries in FROM scratch images.
#
#   spr-testapp:1, spr-testapp:2   the test app, reporting version "1" / "2"
#   spr-host-tools:1               busybox (tar, gzip, ...) for volume snapshots
#
# Needs: docker, go (CGO_ENABLED=0 builds a static binary), /bin/busybox from
# Debian's busybox-static (or BUSYBOX=/path/to/static/busybox).
# Prints "<tag> <image id>" for each image.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
APP_IMAGE="${APP_IMAGE:-spr-testapp}"
TOOLS_IMAGE="${TOOLS_IMAGE:-spr-host-tools:1}"
BUSYBOX="${BUSYBOX:-/bin/busybox}"

ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT

build() { # tag dir
    DOCKER_BUILDKIT=0 docker build --quiet -t "$1" "$2" >/dev/null 2>"$ctx/build.err" || {
        cat "$ctx/build.err" >&2; echo "build_images.sh: docker build $1 failed" >&2; exit 1; }
    printf '%s %s\n' "$1" "$(docker image inspect --format '{{.Id}}' "$1")"
}

for v in 1 2; do
    mkdir -p "$ctx/app$v"
    (cd "$here/testapp" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=$v" \
        -o "$ctx/app$v/testapp" .)
    sed "s/^ARG VERSION=dev/ARG VERSION=$v/" "$here/testapp/Dockerfile" >"$ctx/app$v/Dockerfile"
    build "$APP_IMAGE:$v" "$ctx/app$v"
done

if [ ! -x "$BUSYBOX" ]; then
    echo "build_images.sh: $BUSYBOX not found: apt-get install busybox-static (or set BUSYBOX)" >&2
    exit 1
fi
if ! file "$BUSYBOX" 2>/dev/null | grep -q 'statically linked' && command -v file >/dev/null; then
    echo "build_images.sh: $BUSYBOX is not statically linked" >&2
    exit 1
fi
mkdir -p "$ctx/tools"
cp "$BUSYBOX" "$ctx/tools/busybox"
cp "$here/tools/Dockerfile" "$ctx/tools/Dockerfile"
build "$TOOLS_IMAGE" "$ctx/tools"
