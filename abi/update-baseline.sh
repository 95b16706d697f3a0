#!/usr/bin/env bash
# Regenerate abi/libspinner_rollback.abi (the C ABI baseline) from a built tree.
# Usage: abi/update-baseline.sh BUILD_DIR
# BUILD_DIR must contain libspinner_rollback.so built with debug info, e.g.
#   cmake -S . -B build-abi -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
#         -DSPR_BUILD_TESTS=OFF -DSPR_BUILD_EXAMPLES=OFF
#   ninja -C build-abi spinner_rollback
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
need_tools
lib=$(find_lib "$1")
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
dump_abi "$lib" "$tmp"
mv "$tmp" "$BASELINE"
trap - EXIT
chmod 644 "$BASELINE"
nfun=$(grep -c "<elf-symbol name='spr_" "$BASELINE" || true)
echo "abi: baseline written to ${BASELINE#"$REPO_ROOT"/} (soname $(soname_of "$BASELINE"), $nfun C symbols, $(abidw --version))"
