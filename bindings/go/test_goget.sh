#!/usr/bin/env bash
# Prove that the Go binding is a module a user can `go get` and vendor, the
# way proxy.golang.org would serve it once the tag bindings/go/vX.Y.Z exists.
#
#   bindings/go/test_goget.sh [BUILD_DIR]      (default: build)
#
#   1. BUILD_DIR is installed into a temporary prefix (as run_tests.sh does);
#      X.Y.Z is the library's version from its pkg-config file.
#   2. A file-system module proxy is written in a temporary directory:
#      <module path>/@v/{list, vX.Y.Z.info, vX.Y.Z.mod, vX.Y.Z.zip}, the zip
#      holding what the go command would take from a checkout of the tag:
#      the files of bindings/go (tracked or not ignored by git), plus the
#      repository's LICENSE, as the go command adds to a module in a
#      subdirectory that has none.
#   3. A fresh consumer module runs `go get MODULE@vX.Y.Z` through that proxy
#      (GOSUMDB off, a private module cache), builds and runs a program that
#      records a state and prints the library version; runs the module's
#      Example functions and go vet from the module cache; `go mod vendor`,
#      then builds and runs again with -mod=vendor, the proxy switched off and
#      an empty module cache.
#   4. The Example functions are attached to the package or to a symbol by
#      go/doc (what pkg.go.dev and `go doc -http` show; plain `go doc` never
#      prints examples), and `go doc -all MODULE` reads the package through
#      the module path.
# Environment: KEEP=1 keeps the temporary directory.
set -euo pipefail

module=github.com/spinner-rollback/spinner_rollback/bindings/go
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=../../scripts/lib/cgo-install.sh
source "$root/scripts/lib/cgo-install.sh"
spr_build_dir test_goget.sh "${1:-build}" "$root"
command -v python3 >/dev/null || { echo "test_goget.sh: python3 not found (writes the module zip)" >&2; exit 2; }

log() { echo "test_goget.sh: $*"; }
fail() { echo "test_goget.sh: FAILED: $*" >&2; exit 1; }

tmp="$(mktemp -d "${TMPDIR:-/tmp}/spr-goget.XXXXXX")"
cleanup() {
    # The module cache is read-only (unless -modcacherw took effect).
    chmod -R u+w "$tmp" 2>/dev/null || true
    rm -rf "$tmp"
}
if [[ "${KEEP:-}" == 1 ]]; then log "keeping $tmp"; else trap cleanup EXIT; fi

# --- 1. the library, installed ------------------------------------------------
prefix="$tmp/prefix"
spr_install_for_cgo test_goget.sh "$prefix"

libversion="$(pkg-config --modversion spinner_rollback)"
[[ "$libversion" =~ ^([0-9]+)\.([0-9]+)\.([0-9]+)$ ]] || fail "library version '$libversion' is not X.Y.Z"
version="v$libversion"
versionnumber=$(( BASH_REMATCH[1] * 10000 + BASH_REMATCH[2] * 100 + BASH_REMATCH[3] ))
log "library $libversion: module $module@$version"

# --- the go command, isolated --------------------------------------------------
export GOTOOLCHAIN=local
export GOWORK=off
export GOMODCACHE="$tmp/modcache"
export GOFLAGS=-modcacherw       # whatever the caller set (run_tests.sh: -mod=readonly)
export GOPROXY="file://$tmp/proxy"
export GOSUMDB=off
export GOPRIVATE= GONOPROXY= GONOSUMDB= GOINSECURE=

# --- 2. the module proxy -------------------------------------------------------
escape() { sed -e 's/[A-Z]/!\L&/g' <<<"$1"; }   # module path / version escaping
vdir="$tmp/proxy/$(escape "$module")/@v"
mkdir -p "$vdir"
ev="$(escape "$version")"
echo "$version" >"$vdir/list"
printf '{"Version":"%s","Time":"%s"}\n' "$version" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$vdir/$ev.info"
cp "$here/go.mod" "$vdir/$ev.mod"

if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # What a checkout of the tag would hold: tracked files, and new files not
    # ignored (this script, before it is committed).
    (cd "$here" && git ls-files -z --cached --others --exclude-standard -- .) >"$tmp/files"
else
    (cd "$here" && find . -type f ! -name '*~' -printf '%P\0') >"$tmp/files"
fi
python3 - "$here" "$root/LICENSE" "$module@$version" "$tmp/files" "$vdir/$ev.zip" <<'EOF'
import os, sys, zipfile
src, license, prefix, listing, out = sys.argv[1:]
names = sorted({n for n in open(listing, "rb").read().decode().split("\0") if n})
# As the go command does: no nested modules, no VCS metadata; only files that exist.
nested = {os.path.dirname(n) + "/" for n in names if n.endswith("/go.mod") or n == "go.mod"} - {"/"}
names = [n for n in names
         if os.path.isfile(os.path.join(src, n)) and not any(n.startswith(d) for d in nested)
         and not any(p in (".git", ".hg", ".svn", ".bzr") for p in n.split("/"))]
if "go.mod" not in names:
    sys.exit("test_goget.sh: bindings/go/go.mod is missing")
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for n in names:
        z.write(os.path.join(src, n), f"{prefix}/{n}")
    if "LICENSE" not in names and os.path.isfile(license):
        z.write(license, f"{prefix}/LICENSE")
    print(f"{out}: {len(z.namelist())} files:", " ".join(sorted(x[len(prefix) + 1:] for x in z.namelist())))
EOF

# --- 3. a consumer module ------------------------------------------------------
app="$tmp/consumer"
mkdir -p "$app"
cd "$app"
go mod init example.com/consumer >/dev/null 2>&1
cat >main.go <<'EOF'
package main

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	spr "github.com/spinner-rollback/spinner_rollback/bindings/go"
)

func main() {
	dir, err := os.MkdirTemp("", "spr-consumer-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	store, err := spr.Open(filepath.Join(dir, "store.db"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	r, err := store.Record("shop", `{"schemaVersion": 1, "instances": 2,
		"containers": [{"name": "web", "image": {"reference": "registry.example/shop:1.4"}}]}`, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("v%d %s\n", r.Version.Number, r.Outcome)
	fmt.Printf("library %s (%d)\n", spr.LibraryVersion(), spr.LibraryVersionNumber())
}
EOF
log "go get $module@$version (GOPROXY=$GOPROXY)"
GOFLAGS="$GOFLAGS -mod=mod" go get "$module@$version"
go mod tidy   # main.go imports it: a direct requirement, not "// indirect"
grep -q "^require $module $version\$" go.mod || { cat go.mod >&2; fail "go.mod does not require $module $version"; }
grep -q "^$module $version h1:" go.sum || fail "go.sum has no hash of $module $version"
moddir="$(go list -m -f '{{.Dir}}' "$module")"
[[ "$moddir" == "$GOMODCACHE/"* ]] || fail "$module resolved to $moddir, not the module cache"
[[ -f "$moddir/LICENSE" ]] || fail "the module zip has no LICENSE"

want="$(printf 'v1 created\nlibrary %s (%d)' "$libversion" "$versionnumber")"
check_run() {  # check_run BINARY HOW
    local got
    got="$("$1")" || fail "$2: the program failed"
    [[ "$got" == "$want" ]] || fail "$2: the program printed
$got
instead of
$want"
    log "$2: ran: $(paste -sd "|" <<<"$got")"
}

log "go build (module cache)"
gofmt -l . | grep . && fail "main.go is not gofmt'ed"
go vet .
go build -o "$tmp/consumer-mod" .
check_run "$tmp/consumer-mod" "module cache"

log "go vet and the Example functions, from the module cache"
go vet "$module"
go test -count=1 -run '^Example' -v "$module" >"$tmp/examples.log" 2>&1 || { cat "$tmp/examples.log" >&2; fail "go test -run Example $module"; }
grep -- '^--- PASS: Example' "$tmp/examples.log" | sed 's/^/    /'
ran="$(grep -c -- '^--- PASS: Example' "$tmp/examples.log" || true)"
(( ran > 0 )) || fail "no Example function ran"

log "go mod vendor; go build -mod=vendor with GOPROXY=off and an empty module cache"
go mod vendor
[[ -f "vendor/$module/spinnerrollback.go" ]] || fail "vendor/$module/spinnerrollback.go is missing"
grep -q "^# $module $version\$" vendor/modules.txt || fail "vendor/modules.txt does not list $module $version"
GOPROXY=off GOMODCACHE="$tmp/empty-modcache" go build -mod=vendor -o "$tmp/consumer-vendor" .
check_run "$tmp/consumer-vendor" "vendored"

# --- 4. documentation ------------------------------------------------------------
log "go doc -all $module"
go doc -all "$module" >"$tmp/doc.txt"
head -n 1 "$tmp/doc.txt"
grep -q "^package spinnerrollback // import \"$module\"" "$tmp/doc.txt" || fail "go doc does not show the package under $module"
grep -q '^func Open(' "$tmp/doc.txt" || fail "go doc -all does not show Open"

log "Example functions attached by go/doc (shown by pkg.go.dev and go doc -http)"
mkdir -p "$tmp/docexamples"
cat >"$tmp/docexamples/main.go" <<'EOF'
// Lists each Example function of a package directory with the symbol go/doc
// attaches it to; fails if one is attached to nothing (it would not be shown).
package main

import (
	"fmt"
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	dir, importPath := os.Args[1], os.Args[2]
	fset := token.NewFileSet()
	names, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	var files []*ast.File
	declared := map[string]bool{}
	for _, name := range names {
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		files = append(files, f)
		if strings.HasSuffix(name, "_test.go") {
			for _, d := range f.Decls {
				if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && strings.HasPrefix(fd.Name.Name, "Example") {
					declared[fd.Name.Name] = true
				}
			}
		}
	}
	p, err := doc.NewFromFiles(fset, files, importPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	shown := map[string]string{}
	add := func(owner string, exs []*doc.Example) {
		for _, e := range exs {
			name := "Example" + e.Suffix
			if owner != "" {
				name = "Example" + strings.ReplaceAll(owner, ".", "_")
				if e.Suffix != "" {
					name += "_" + e.Suffix
				}
			} else if e.Suffix != "" {
				name = "Example_" + e.Suffix
			}
			shown[name] = owner
		}
	}
	add("", p.Examples)
	for _, f := range p.Funcs {
		add(f.Name, f.Examples)
	}
	for _, t := range p.Types {
		add(t.Name, t.Examples)
		for _, f := range t.Funcs {
			add(f.Name, f.Examples)
		}
		for _, m := range t.Methods {
			add(t.Name+"."+m.Name, m.Examples)
		}
	}
	bad := 0
	for name := range declared {
		owner, ok := shown[name]
		switch {
		case !ok:
			fmt.Printf("    %s: attached to nothing, not shown\n", name)
			bad++
		case owner == "":
			fmt.Printf("    %s: package example\n", name)
		default:
			fmt.Printf("    %s: example of %s\n", name, owner)
		}
	}
	if len(declared) == 0 || bad > 0 {
		os.Exit(1)
	}
}
EOF
(cd "$tmp/docexamples" && go mod init docexamples >/dev/null 2>&1 && go build -o "$tmp/docexamples/docexamples" .)
"$tmp/docexamples/docexamples" "$moddir" "$module" | sort || fail "an Example function is not shown by the documentation"

log "all checks passed: $module@$version fetched through a module proxy, built, vendored, documented"
