#!/usr/bin/env bash
# Packaging: install the build into a temporary prefix, then build consumers
# with find_package(spinner_rollback CONFIG) (shared and static) and with
# pkg-config, and run them.
set -euo pipefail
build="$1"
src="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
test -f "$tmp/prefix/include/spinner_rollback.h"
test -f "$tmp/prefix/include/spinner_rollback/version_store.hpp"
test -f "$tmp/prefix/include/spinner_rollback/version.hpp"
! ls "$tmp/prefix/include/spinner_rollback" | grep -E 'internal|json\.hpp|crypto|sqlite' 
ls "$tmp/prefix"/lib*/libspinner_rollback.so.* >/dev/null
ls "$tmp/prefix"/lib*/libspinner_rollback.a >/dev/null
libdir=$(dirname "$(ls "$tmp/prefix"/lib*/libspinner_rollback.a)")
# SONAME carries the ABI version.
objdump -p "$libdir/libspinner_rollback.so" | grep 'SONAME.*libspinner_rollback.so.0' >/dev/null # not grep -q: with pipefail an early exit SIGPIPEs objdump

for kind in shared static; do
  cmake -S "$src/consumer" -B "$tmp/consumer-$kind" -G Ninja -DCMAKE_PREFIX_PATH="$tmp/prefix" \
        -DSPR_LINK="$kind" >/dev/null
  cmake --build "$tmp/consumer-$kind" >/dev/null
  LD_LIBRARY_PATH="$libdir" "$tmp/consumer-$kind/consumer" "$tmp/c-$kind.db"
done

# pkg-config, as cgo and C users link.
export PKG_CONFIG_PATH="$libdir/pkgconfig"
cc -std=c99 -Wall -Werror "$src/consumer/consumer.c" $(pkg-config --cflags --libs spinner_rollback) -o "$tmp/pc"
LD_LIBRARY_PATH="$libdir" "$tmp/pc" "$tmp/pc.db"
echo "package ok"
