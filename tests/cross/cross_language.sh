#!/usr/bin/env bash
# One store written in turn by the C++ CLI, the Python package and the Go
# package is read identically by all three: the same versions (number,
# digest, summary, reason, rollbackOf, status, author, createdAt instant) and
# the same revealed states. Run twice: on a SQLite file, and on a PostgreSQL
# schema of a throwaway cluster (scripts/pg-server.sh).
#   tests/cross/cross_language.sh [BUILD_DIR]   (default: build)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${1:-build}"
[[ -d "$build" ]] || build="$root/$build"
build="$(cd "$build" && pwd)"
cli="$build/examples/cli/spinner-rollback"
tmp="$(mktemp -d)"
pgdir="/tmp/spr-cross-pg-$$"
trap '"$root/scripts/pg-server.sh" destroy "$pgdir"; rm -rf "$tmp"' EXIT

# Python: the package in a venv (as bindings/python/run_tests.sh does).
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install -q --disable-pip-version-check --config-settings=wheel.cmake=false "$root/bindings/python" # SPR_LIBRARY names the build's library: no need to compile it again
export SPR_LIBRARY="$build/libspinner_rollback.so.0"

# Go: against an installed copy of the library.
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
pc="$(find "$tmp/prefix" -name spinner_rollback.pc -print -quit)"
libdir="$(dirname "$(dirname "$pc")")"
export PKG_CONFIG_PATH="$(dirname "$pc")" LD_LIBRARY_PATH="$libdir" CGO_ENABLED=1 GOTOOLCHAIN=local
export CGO_CFLAGS="-O2 -I$tmp/prefix/include" CGO_LDFLAGS="-L$libdir"
(cd "$root/bindings/go" && go build -o "$tmp/crossdump" ./cmd/crossdump)

key="$tmp/key"
python3 -c 'import os; print(os.urandom(32).hex())' > "$key"
states="$root/tests/data"

cross_check() {
store="$1"
# 1. The CLI records v1; 2. Python records v2; 3. Go records v3;
# 4. the CLI rolls back to v1 (v4, with the old config and secret values).
"$cli" --store "$store" --key-file "$key" record shop "$states/shop_v1.json" --author cli >/dev/null
"$tmp/venv/bin/python" - "$store" "$key" "$states/shop_v2.json" <<'PY'
import sys, spinner_rollback as spr
with spr.Store(sys.argv[1], key_file=sys.argv[2]) as s:
    r = s.record("shop", open(sys.argv[3]).read(), author="python")
    assert r.outcome == "created", r
PY
"$tmp/crossdump" -store "$store" -key-file "$key" -spinner shop -record "$states/shop_v1_config_changed.json" >/dev/null
"$cli" --store "$store" --key-file "$key" plan shop 1 --save "$tmp/plan.json" >/dev/null
"$cli" --store "$store" --key-file "$key" commit "$tmp/plan.json" --author cli >/dev/null

# Each reads the whole history back.
{
  echo "["
  first=1
  for n in $("$cli" --store "$store" --key-file "$key" -o json versions shop | python3 -c 'import json,sys; print(" ".join(str(v["number"]) for v in json.load(sys.stdin)))'); do
    [[ $first == 1 ]] || echo ","
    first=0
    "$cli" --store "$store" --key-file "$key" -o json show shop "$n" --reveal-secrets
  done
  echo "]"
} > "$tmp/cli.json"
"$tmp/venv/bin/python" - "$store" "$key" > "$tmp/python.json" <<'PY'
import dataclasses, json, sys, spinner_rollback as spr
with spr.Store(sys.argv[1], key_file=sys.argv[2]) as s:
    out = []
    for v in s.versions("shop"):
        d = s.get("shop", v.number, reveal_secrets=True)
        out.append({"number": v.number, "digest": v.digest, "summary": v.summary, "reason": v.reason,
                    "rollbackOf": v.rollback_of, "status": v.status, "author": v.author,
                    "createdAt": v.created_at.isoformat(), "current": v.current, "state": d.state})
    json.dump(out, sys.stdout)
PY
"$tmp/crossdump" -store "$store" -key-file "$key" -spinner shop > "$tmp/go.json"

python3 - "$tmp/cli.json" "$tmp/python.json" "$tmp/go.json" <<'PY'
import json, sys
from datetime import datetime

def instant(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()

def norm(v, state):
    return {"number": v["number"], "digest": v["digest"], "summary": v["summary"], "reason": v["reason"],
            "rollbackOf": v["rollbackOf"], "status": v["status"], "author": v["author"],
            "createdAt": round(instant(v["createdAt"]), 3), "current": v["current"], "state": state}

cli = [norm(d, d["state"]) for d in json.load(open(sys.argv[1]))]
py = [norm(d, d["state"]) for d in json.load(open(sys.argv[2]))]
go = [norm(d["version"], d["state"]) for d in json.load(open(sys.argv[3]))]
assert [v["number"] for v in cli] == [4, 3, 2, 1], [v["number"] for v in cli]
assert [v["author"] for v in cli] == ["cli", "go", "python", "cli"], [v["author"] for v in cli]
assert cli[0]["rollbackOf"] == 1 and cli[0]["digest"] == cli[3]["digest"]
for name, other in (("python", py), ("go", go)):
    for a, b in zip(cli, other):
        assert a == b, f"{name} reads version {a['number']} differently:\n{a}\n{b}"
    assert len(cli) == len(other), name
# The revealed secret is really there, and equal in all three.
assert "S3cr3t-Valu3-7f1e" in json.dumps(cli[0]["state"])
print(f"cross-language: {len(cli)} versions read identically by the CLI, Python and Go")
PY
}

cross_check "$tmp/store.db"
pg_uri="$("$root/scripts/pg-server.sh" start "$pgdir" 5436)"
psql "$pg_uri" -qc "CREATE SCHEMA cross_lang"
echo -n "PostgreSQL: "
cross_check "$pg_uri&options=-csearch_path%3Dcross_lang"
