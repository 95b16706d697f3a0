#!/usr/bin/env bash
# ABI stability check for the C API (capi/spinner_rollback.h).
# Usage: abi/check.sh BUILD_DIR
# Compares BUILD_DIR/libspinner_rollback.so (built with debug info, e.g.
# RelWithDebInfo) against the committed baseline abi/libspinner_rollback.abi.
# Exit 0: compatible (added functions are reported but fine), or the break is
# declared by a SONAME bump. Exit 1: incompatible change or error.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
need_tools
[ -f "$BASELINE" ] || die "no baseline ${BASELINE#"$REPO_ROOT"/}; create it with abi/update-baseline.sh BUILD_DIR"
lib=$(find_lib "$1")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dump_abi "$lib" "$work/new.abi"

old_soname=$(soname_of "$BASELINE")
new_soname=$(soname_of "$work/new.abi")
echo "abi: baseline soname: $old_soname, built soname: $new_soname ($lib)"

set +e
abidiff --no-show-locs --suppressions "$SUPPRESSIONS" \
        "$BASELINE" "$work/new.abi" >"$work/report.txt" 2>&1
rc=$?
set -e
cat "$work/report.txt"

# abidiff exit status is a bit field: 1 error, 2 usage error,
# 4 ABI change, 8 incompatible ABI change.
if (( rc & 3 )); then
  die "abidiff failed (exit $rc)"
fi

# "Functions changes summary: R Removed, C Changed (F filtered out), A Added functions"
count() { # count WHAT KIND -> first number before WHAT on the KIND summary line
  sed -n "s/.*$2 changes summary:.* \([0-9][0-9]*\) $1.*/\1/p" "$work/report.txt" | head -n1
}
sum_nums() { local s=0 n; for n in "$@"; do s=$((s + ${n:-0})); done; echo "$s"; }
removed=$(sum_nums "$(count Removed Functions)" "$(count Removed Variables)" \
                   "$(count Removed 'Function symbols')" "$(count Removed 'Variable symbols')")
changed=$(sum_nums "$(count Changed Functions)" "$(count Changed Variables)")
added=$(sum_nums "$(count Added Functions)" "$(count Added Variables)" \
                 "$(count Added 'Function symbols')" "$(count Added 'Variable symbols')")

incompatible=0
if (( rc & 8 )); then incompatible=1; fi
if (( (rc & 4) && (removed > 0 || changed > 0) )); then incompatible=1; fi

if (( incompatible )); then
  if [ "$old_soname" != "$new_soname" ]; then
    echo "abi: OK: incompatible C ABI change ($removed removed, $changed changed) is declared by the SONAME bump $old_soname -> $new_soname."
    echo "abi: regenerate the baseline: abi/update-baseline.sh $1 (and mark the change **ABI** in CHANGELOG.md)"
    exit 0
  fi
  echo "abi: FAIL: incompatible C ABI change within SONAME $old_soname ($removed removed, $changed changed; abidiff exit $rc)." >&2
  echo "abi: either restore compatibility (only add functions), or bump SPR_SOVERSION in CMakeLists.txt, mark the change **ABI** in CHANGELOG.md and run abi/update-baseline.sh BUILD_DIR." >&2
  exit 1
fi

if [ "$old_soname" != "$new_soname" ]; then
  echo "abi: note: SONAME changed $old_soname -> $new_soname without an incompatible change; regenerate the baseline: abi/update-baseline.sh $1"
fi
if (( added > 0 )); then
  echo "abi: OK: C ABI compatible; $added added function(s)/variable(s) (listed above); consider abi/update-baseline.sh $1 after release."
else
  echo "abi: OK: C ABI unchanged against the baseline (soname $new_soname)."
fi
