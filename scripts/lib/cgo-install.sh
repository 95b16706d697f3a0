# Sourced (not run) by bindings/go/run_tests.sh and bindings/go/test_goget.sh:
# find the CMake build to test, install it into a prefix, and point
# pkg-config, the dynamic linker and cgo at that installation.
#
#   spr_build_dir SCRIPT BUILD ROOT   sets `build` to BUILD as an absolute path
#                                     (relative to the current directory or to
#                                     ROOT); exits 2 if it is not a CMake build
#   spr_install_for_cgo SCRIPT PREFIX installs `build` into PREFIX; sets
#                                     `libdir`; exports PKG_CONFIG_PATH,
#                                     LD_LIBRARY_PATH, CGO_ENABLED, CGO_CFLAGS
#                                     and CGO_LDFLAGS

spr_build_dir() {
    local script="$1" root="$3"
    build="$2"
    if [[ ! -d "$build" && -d "$root/$build" ]]; then
        build="$root/$build"
    fi
    if [[ ! -f "$build/CMakeCache.txt" ]]; then
        echo "$script: $build is not a CMake build directory (configure and build it first)" >&2
        exit 2
    fi
    build="$(cd "$build" && pwd)"
    command -v go >/dev/null || { echo "$script: go not found" >&2; exit 2; }
}

spr_install_for_cgo() {
    local script="$1" prefix="$2" pc
    echo "$script: installing $build into $prefix"
    cmake --install "$build" --prefix "$prefix" >/dev/null
    pc="$(find "$prefix" -name spinner_rollback.pc -print -quit)"
    [[ -n "$pc" ]] || { echo "$script: no spinner_rollback.pc was installed" >&2; exit 1; }
    libdir="$(dirname "$(dirname "$pc")")"
    export PKG_CONFIG_PATH="$(dirname "$pc")${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
    export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    export CGO_ENABLED=1
    # The go build cache does not key on pkg-config's output, so a package
    # built against an earlier (now deleted) prefix would be reused. Naming
    # this prefix in the cgo flags makes every run build against the library
    # just installed.
    export CGO_CFLAGS="${CGO_CFLAGS:--O2 -g} -I$prefix/include"
    export CGO_LDFLAGS="${CGO_LDFLAGS:--O2 -g} -L$libdir"
}
