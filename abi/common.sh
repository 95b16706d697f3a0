# Shared helpers for abi/check.sh, abi/update-baseline.sh (sourced, not run).
ABI_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$ABI_DIR/.." && pwd)
BASELINE="$ABI_DIR/libspinner_rollback.abi"
SUPPRESSIONS="$ABI_DIR/suppressions.ini"
HEADERS_DIR="$REPO_ROOT/capi"

die() { echo "abi: ERROR: $*" >&2; exit 1; }

need_tools() {
  for t in abidw abidiff readelf; do
    command -v "$t" >/dev/null 2>&1 ||
      die "'$t' not found (apt-get install -y abigail-tools binutils)"
  done
}

# find_lib BUILD_DIR -> prints the real path of the built shared library
find_lib() {
  local build_dir=$1 lib
  [ -d "$build_dir" ] || die "build directory '$build_dir' does not exist"
  lib="$build_dir/libspinner_rollback.so"
  [ -e "$lib" ] || die "$lib not found; build it first (ninja -C $build_dir spinner_rollback)"
  lib=$(readlink -f "$lib")
  if ! readelf -S --wide "$lib" | grep '\.debug_info' >/dev/null; then
    die "$lib has no debug info (.debug_info); configure with -DCMAKE_BUILD_TYPE=RelWithDebInfo (or Debug) and rebuild"
  fi
  printf '%s\n' "$lib"
}

# dump LIB OUT -> writes the ABI of the C API (only) to OUT
dump_abi() {
  abidw --headers-dir "$HEADERS_DIR" --drop-private-types --no-show-locs \
        --no-corpus-path --no-comp-dir-path \
        --suppressions "$SUPPRESSIONS" --out-file "$2" "$1" ||
    die "abidw failed on $1"
}

# soname_of ABI_XML -> prints the soname recorded in an abidw dump
soname_of() {
  sed -n "s/^<abi-corpus .*soname='\([^']*\)'.*/\1/p" "$1" | head -n1
}
