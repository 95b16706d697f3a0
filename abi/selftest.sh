#!/usr/bin/env bash
# Self-test of the ABI check: proves abi/check.sh fails on an incompatible C
# API change and passes once SPR_SOVERSION is bumped. Works on a scratch copy
# of the repository in a temporary directory (never touches this checkout)
# and removes it afterwards.
# Usage: abi/selftest.sh          (needs cmake, ninja, a compiler, abigail-tools)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need_tools

scratch=$(mktemp -d "${TMPDIR:-/tmp}/abi-selftest.XXXXXX")
cleanup() { rm -rf "$scratch"; }
trap cleanup EXIT
src="$scratch/src" build="$scratch/build"
mkdir -p "$src"
# Copy the working tree without VCS data and top-level build directories.
tar -C "$REPO_ROOT" --exclude=./.git --exclude='./build*' -cf - . | tar -C "$src" -xf -

step() { echo; echo "=== selftest: $*"; }
fail() { echo "=== selftest: FAILED: $*" >&2; exit 1; }
build() { ninja -C "$build" spinner_rollback >"$scratch/ninja.log" 2>&1 || { cat "$scratch/ninja.log" >&2; fail "build failed"; }; }

step "configure + build the unmodified sources (RelWithDebInfo)"
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DSPR_BUILD_TESTS=OFF -DSPR_BUILD_EXAMPLES=OFF >"$scratch/cmake.log" 2>&1 ||
  { cat "$scratch/cmake.log" >&2; fail "configure failed"; }
build

# Baseline from the unmodified scratch build, so the self-test does not depend
# on whether the committed baseline is current.
step "baseline of the unmodified build; check must pass"
"$src/abi/update-baseline.sh" "$build"
"$src/abi/check.sh" "$build" || fail "check.sh failed on the unmodified build"

step "incompatible change: add a parameter to spr_set_status(); check must FAIL"
perl -0pi -e 's/(spr_set_status\([^)]*const char \*status)\)/$1, int flags)/' \
     "$src/capi/spinner_rollback.h" "$src/capi/spinner_rollback_c.cpp"
[ "$(grep -c 'const char \*status, int flags)' "$src/capi/spinner_rollback.h" "$src/capi/spinner_rollback_c.cpp" | grep -c ':1$')" = 2 ] ||
  fail "could not patch spr_set_status in the scratch copy"
build
set +e
"$src/abi/check.sh" "$build" >"$scratch/out1.txt" 2>&1
rc=$?
set -e
cat "$scratch/out1.txt"
[ "$rc" -ne 0 ] || fail "check.sh passed although spr_set_status changed"
grep -q 'abi: FAIL: incompatible C ABI change' "$scratch/out1.txt" ||
  fail "check.sh failed (exit $rc) without the expected message"
echo "=== selftest: check.sh failed as expected (exit $rc)"

step "same change with SPR_SOVERSION bumped; check must pass (declared by SONAME bump)"
old=$(sed -n 's/^set(SPR_SOVERSION \([0-9][0-9]*\)).*/\1/p' "$src/CMakeLists.txt")
[ -n "$old" ] || fail "SPR_SOVERSION not found in CMakeLists.txt"
sed -i "s/^set(SPR_SOVERSION $old)/set(SPR_SOVERSION $((old + 1)))/" "$src/CMakeLists.txt"
build
set +e
"$src/abi/check.sh" "$build" >"$scratch/out2.txt" 2>&1
rc=$?
set -e
cat "$scratch/out2.txt"
[ "$rc" -eq 0 ] || fail "check.sh failed (exit $rc) although SPR_SOVERSION was bumped $old -> $((old + 1))"
grep -q 'declared by the SONAME bump' "$scratch/out2.txt" ||
  fail "check.sh passed without the 'declared by the SONAME bump' message"

echo
echo "=== selftest: PASSED (incompatible change detected; SONAME bump $old -> $((old + 1)) accepted)"
