#!/usr/bin/env bash
# Checks of the spinner-rollback CLI: JSON output, exit codes, error text,
# that secret values never leak without --reveal-secrets, and tags, notes,
# rollback scopes, --expected-current (compare-and-set), restore points, the
# event log (events, events --follow), bundles (export, import), migrate,
# and key rotation (rotate-key, --keyring).
#
# usage: examples/cli/test_cli.sh [PATH/TO/spinner-rollback]
set -uo pipefail

CLI=${1:-build/examples/cli/spinner-rollback}
if [[ ! -x $CLI ]]; then
  echo "test_cli: no executable at $CLI" >&2
  exit 2
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
unset SPR_STORE SPR_KEY_FILE
STORE=$WORK/store.db
KEY=$WORK/key
od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$KEY"

SECRET1=Zx9-first-SECRET-qq71
SECRET2=Zx9-second-SECRET-pp42

FAILURES=0
fail() {
  echo "FAIL: $*" >&2
  FAILURES=$((FAILURES + 1))
}

# cli ARGS...: run against the test store; stdout in $OUT, stderr in $ERR,
# exit status in $RC.
cli() {
  "$CLI" --store "$STORE" --key-file "$KEY" "$@" >"$WORK/out" 2>"$WORK/err"
  RC=$?
  OUT=$(<"$WORK/out")
  ERR=$(<"$WORK/err")
}

# expect CODE DESCRIPTION ARGS...
expect() {
  local want=$1 what=$2
  shift 2
  cli "$@"
  if [[ $RC -ne $want ]]; then
    fail "$what: exit status $RC, want $want (stderr: $ERR)"
    return 1
  fi
  return 0
}

# expect_json DESCRIPTION ARGS...: succeeds and prints valid JSON.
expect_json() {
  local what=$1
  shift
  expect 0 "$what" -o json "$@" || return
  if ! python3 -c 'import json,sys; json.load(sys.stdin)' <"$WORK/out"; then
    fail "$what: -o json output does not parse: $OUT"
  fi
}

# expect_stderr TEXT DESCRIPTION: the last command's stderr contains TEXT.
expect_stderr() {
  if [[ $ERR != *"$1"* ]]; then
    fail "$2: stderr does not contain \"$1\": $ERR"
  fi
}

# expect_stdout TEXT DESCRIPTION: the last command's stdout contains TEXT.
expect_stdout() {
  if [[ $OUT != *"$1"* ]]; then
    fail "$2: stdout does not contain \"$1\": $OUT"
  fi
}

# check_json DESCRIPTION PYTHON: PYTHON asserts on `v`, the last command's
# JSON output.
check_json() {
  python3 -c "import json, sys
v = json.load(sys.stdin)
$2" <"$WORK/out" || fail "$1: $OUT"
}

# no_secret DESCRIPTION: neither secret value is in the last output.
no_secret() {
  if grep -qF -e "$SECRET1" -e "$SECRET2" "$WORK/out" "$WORK/err"; then
    fail "$1: a secret value was printed"
  fi
}

# state FILE PORT SECRET DEBUG(0|1)
state() {
  local debug_env=""
  [[ $4 == 1 ]] && debug_env='{"name": "DEBUG", "value": "1"},'
  cat >"$1" <<EOF
{"schemaVersion": 1,
 "settings": {"rollback": {"enabled": true}},
 "instances": 1,
 "containers": [{"name": "web", "image": {"reference": "nginx:1.25"},
   "env": [$debug_env {"name": "PW", "secretRef": {"name": "db", "key": "pw"}}],
   "ports": [{"name": "http", "containerPort": $2}],
   "mounts": [{"path": "/data", "volume": "data"}]}],
 "volumes": [{"name": "data", "mode": "shared", "size": "1Gi",
              "storageClass": "standard", "volumeId": "vol-1"}],
 "secrets": {"db": {"pw": "$3"}}}
EOF
}

state "$WORK/v1.json" 8080 "$SECRET1" 0
state "$WORK/v2.json" 8080 "$SECRET2" 1
state "$WORK/bad.json" 70000 "$SECRET1" 0
cat >"$WORK/snap.json" <<'EOF'
{"id": "snap-1", "volume": "vol-1", "sizeBytes": 2147483648, "ready": true,
 "storageClass": "standard"}
EOF

# --- JSON output parses ------------------------------------------------------
expect_json "version" version
expect_json "record v1" record app "$WORK/v1.json" --author t
expect_json "record v2" record app "$WORK/v2.json" --message "second"
expect_json "record unchanged" record app "$WORK/v2.json"
expect_json "versions" versions app
python3 -c '
import json, sys
v = json.load(sys.stdin)
assert [x["number"] for x in v] == [2, 1], v
assert v[0]["current"] is True and v[1]["current"] is False, v
' <"$WORK/out" || fail "versions -o json: not newest-first with current marked"
expect_json "versions page" versions app --limit 1 --before 2
python3 -c '
import json, sys
v = json.load(sys.stdin)
assert [x["number"] for x in v] == [1], v
' <"$WORK/out" || fail "versions --limit 1 --before 2: not version 1 alone"
expect_json "show" show app 1
expect_json "diff" diff app 1 2
expect_json "info" info app
expect_json "info (store)" info
python3 -c '
import json, re, sys
v = json.load(sys.stdin)
assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", v["storeId"]), v
assert v["engine"] == "sqlite" and isinstance(v["schemaVersion"], int), v
assert v["schemaVersion"] >= 3, v  # 3 added tags, notes and scopes
' <"$WORK/out" || fail "info: not the store identity"
expect_json "spinners" spinners
expect_json "snapshot register" snapshot register "$WORK/snap.json"
expect_json "snapshot list" snapshot list vol-1
expect_json "policy check" policy check "$WORK/v1.json" "$WORK/v2.json"
expect_json "plan" plan app 1 --data data=snapshot:snap-1 --save "$WORK/plan.json"
expect_json "status" status app 2 active

# --- usage errors exit 64 ----------------------------------------------------
expect 64 "no command"
expect 64 "unknown command" frobnicate
expect 64 "unknown option" versions app --frob
expect 64 "missing argument" show app
expect 64 "too many arguments" versions app extra
expect 64 "bad version number" show app x1
expect 64 "bad --limit" versions app --limit 0
expect 64 "--before without --limit" versions app --before 2
expect 64 "bad output format" -o yaml versions app
expect 64 "option of another command" record app "$WORK/v1.json" --confirm
expect 64 "bad --data" plan app 1 --data data
expect 64 "bad status" status app 1 done
expect 64 "missing subcommand" snapshot
expect 64 "both --key and --key-file" --key 00 versions app
"$CLI" versions app >/dev/null 2>&1
[[ $? -eq 64 ]] || fail "no store given: want exit status 64"

# --- unknown spinner exits 2 (SPR_E_NOT_FOUND) -------------------------------
for args in "versions nope" "show nope 1" "diff nope 1 2" "plan nope 1" \
            "info nope"; do
  # shellcheck disable=SC2086
  expect 2 "unknown spinner ($args)" $args && \
    expect_stderr "error: SPR_E_NOT_FOUND:" "unknown spinner ($args)"
done
expect 2 "unknown version" show app 9 && \
  expect_stderr "SPR_E_NOT_FOUND" "unknown version"
"$CLI" --store "$WORK/missing.db" versions app >/dev/null 2>"$WORK/err"
[[ $? -eq 2 ]] || fail "missing store file: want exit status 2"
[[ -e $WORK/missing.db ]] && fail "a reading command created a store file"

# --- bad state file exits 1 and names the JSON path --------------------------
expect 1 "bad state" record app "$WORK/bad.json" && \
  expect_stderr '(at $.containers[0].ports[0].containerPort)' "bad state"
no_secret "bad state"
printf '{"schemaVersion": 1, "instances": 1, "instances": 2}' >"$WORK/dup.json"
expect 1 "duplicate key" record app "$WORK/dup.json" && \
  expect_stderr "SPR_E_INVALID" "duplicate key"
expect 1 "bad state in policy check" policy check none "$WORK/bad.json" && \
  expect_stderr '$.containers[0].ports[0].containerPort' "policy check"
expect 12 "unreadable state file" record app "$WORK/does-not-exist.json" && \
  expect_stderr "SPR_E_IO" "unreadable state file"

# --- other refusals keep their codes -----------------------------------------
expect 5 "rollback to the current version" plan app 2 && \
  expect_stderr "SPR_E_CURRENT_VERSION" "rollback to the current version"
expect 8 "commit without --confirm" commit "$WORK/plan.json" && \
  expect_stderr "SPR_E_NEEDS_CONFIRMATION" "commit without --confirm"
sed 's/"targetVersion":1/"targetVersion":2/' "$WORK/plan.json" >"$WORK/altered.json"
cmp -s "$WORK/plan.json" "$WORK/altered.json" && fail "test could not alter the plan"
expect 1 "altered plan" commit "$WORK/altered.json" --confirm
"$CLI" --store "$STORE" record app "$WORK/v1.json" >"$WORK/out" 2>"$WORK/err"
[[ $? -eq 9 ]] || fail "record with secrets and no key: want exit status 9 (SPR_E_NO_KEY)"
no_secret "record without key"

# --- secret values never appear without --reveal-secrets ---------------------
expect 0 "plan for secrets" plan app 1 --save "$WORK/plan2.json"
no_secret "plan (table)"
grep -qF -e "$SECRET1" -e "$SECRET2" "$WORK/plan2.json" && fail "saved plan holds a secret value"
for format in table json; do
  for args in "versions app" "show app 1" "show app 2" "diff app 1 2" \
              "diff app 2 1" "plan app 1" "plan app 1 --data data=snapshot:snap-1" \
              "info app"; do
    # shellcheck disable=SC2086
    expect 0 "$args (-o $format)" -o $format $args && \
      no_secret "$args (-o $format)"
  done
done
expect_json "commit" commit "$WORK/plan2.json" --author t
no_secret "commit"
expect 0 "show rollback" show app 3 && no_secret "show rollback"
# Positive control: revealed on request.
expect 0 "show --reveal-secrets" show app 3 --reveal-secrets
grep -qF "$SECRET1" "$WORK/out" || fail "show --reveal-secrets does not reveal the restored secret"

# --- a stale plan is a conflict ----------------------------------------------
expect 3 "stale plan" commit "$WORK/plan.json" --confirm && \
  expect_stderr "SPR_E_CONFLICT" "stale plan"

# --- tags, notes, rollback scopes, --expected-current --------------------------
# shop: v1 nginx:1.25 MODE=prod 1 instance; v2 changes the image, MODE and
# the instances.
shop_state() { # FILE TAG MODE INSTANCES
  cat >"$1" <<EOF
{"schemaVersion": 1, "settings": {"rollback": {"enabled": true}},
 "instances": $4,
 "containers": [{"name": "web",
   "image": {"reference": "nginx:$2", "digest": "sha256:$(printf '%064d' 0)"},
   "env": [{"name": "MODE", "value": "$3"}],
   "ports": [{"name": "http", "containerPort": 8080}]}]}
EOF
}
shop_state "$WORK/shop1.json" 1.25 prod 1
shop_state "$WORK/shop2.json" 1.26 debug 2
shop_state "$WORK/shop3.json" 1.27 debug 3
expect 0 "record shop v1" record shop "$WORK/shop1.json" --expected-current 0
expect 0 "record shop v2" record shop "$WORK/shop2.json" --expected-current 1

# tag, and the listings show it.
expect 0 "tag" tag shop 1 golden --note "known good" --author alice && \
  expect_stdout "tag golden is on v1 of shop" "tag"
expect 0 "versions with a tag" versions shop && \
  expect_stdout "TAGS" "versions with a tag"
grep -Eq '^  1 .* golden ' "$WORK/out" || fail "versions: v1's row does not show tag golden: $OUT"
expect_json "versions with a tag (json)" versions shop
check_json "versions -o json: tags" '
assert [t["name"] for t in v[1]["tags"]] == ["golden"], v
t = v[1]["tags"][0]
assert t["note"] == "known good" and t["author"] == "alice" and t["createdAt"], t
assert v[0]["tags"] == [] and v[0]["scope"] is None, v'
expect 0 "show @golden" show shop @golden && \
  expect_stdout "version 1 of shop" "show @golden" && \
  expect_stdout "known good" "show @golden"
expect_json "show @golden (json)" show shop @golden
check_json "show @golden -o json" '
assert v["number"] == 1 and [t["name"] for t in v["tags"]] == ["golden"], v
assert v["notes"] == [], v'
expect 0 "diff from @golden" diff shop @golden current && \
  expect_stdout "nginx:1.25" "diff from @golden"
expect 0 "status @golden" status shop @golden active && \
  expect_stdout "v1 of shop is now active" "status @golden"
expect 0 "tag a tagged version" tag shop @golden prod
expect 0 "two tags" versions shop
grep -Eq '^  1 .* golden,prod ' "$WORK/out" || fail "versions: v1 does not show golden,prod: $OUT"
expect 0 "untag prod" untag shop prod && \
  expect_stdout "removed tag prod from v1 of shop" "untag prod"

# The name is on v1: tagging v2 with it is a conflict unless --move.
expect 3 "tag held by another version" tag shop 2 golden && \
  expect_stderr "error: SPR_E_CONFLICT:" "tag held by another version" && \
  expect_stderr "hint: add --move" "tag held by another version"
expect_json "golden stays on v1" show shop @golden
check_json "golden stays on v1" 'assert v["number"] == 1, v["number"]'
expect 0 "tag --move" tag shop 2 golden --move && \
  expect_stdout "tag golden moved from v1 to v2 of shop" "tag --move"
expect_json "golden moved to v2" versions shop
check_json "tag --move: golden on v2 only" '
assert [t["name"] for t in v[0]["tags"]] == ["golden"], v
assert v[1]["tags"] == [], v'

# untag; then @golden is the library's SPR_E_NOT_FOUND.
expect 0 "untag" untag shop golden
expect 2 "show an unknown tag" show shop @golden && \
  expect_stderr "error: SPR_E_NOT_FOUND:" "show an unknown tag" && \
  expect_stderr 'no tag "golden"' "show an unknown tag"
expect 2 "untag twice" untag shop golden && \
  expect_stderr "SPR_E_NOT_FOUND" "untag twice"
expect 2 "plan to an unknown tag" plan shop @golden
expect 1 "bad tag name" tag shop 1 Golden && \
  expect_stderr "SPR_E_INVALID" "bad tag name"

# note: the same note twice is kept once.
expect_json "note" note shop 2 "v2 broke checkout" --author carol
check_json "note" 'assert v["number"] == 2 and len(v["notes"]) == 1, v'
expect_json "same note again" note shop 2 "v2 broke checkout" --author carol
check_json "same note again" '
assert len(v["notes"]) == 1, v
n = v["notes"][0]
assert n["author"] == "carol" and n["text"] == "v2 broke checkout" and n["createdAt"], n'
expect_json "show notes (json)" show shop 2
check_json "show -o json: notes" 'assert [n["text"] for n in v["notes"]] == ["v2 broke checkout"], v'
expect 0 "show notes" show shop 2 && \
  expect_stdout "notes (1):" "show notes" && \
  expect_stdout "v2 broke checkout" "show notes"
expect 1 "empty note" note shop 2 "" && expect_stderr "SPR_E_INVALID" "empty note"

# --scope: only the listed categories are rolled back.
expect 0 "plan --scope image" plan shop 1 --scope image && \
  expect_stdout "Changes (1):" "plan --scope image" && \
  expect_stdout "containers[web].image" "plan --scope image" && \
  expect_stdout "scope: image" "plan --scope image"
[[ $OUT == *"instances:"* || $OUT == *"env[MODE]"* ]] && \
  fail "plan --scope image shows changes other than the image: $OUT"
expect_json "plan --scope image (json)" plan shop 1 --scope image --save "$WORK/scoped.json"
check_json "plan --scope image -o json" '
assert v["request"]["scope"] == ["image"], v["request"]
assert [c["category"] for c in v["diff"]["changes"]] == ["image"], v["diff"]'
expect_json "plan --scope env,image" plan shop 1 --scope env,image
check_json "plan --scope env,image -o json" '
assert v["request"]["scope"] == ["image", "env"], v["request"]
assert sorted(c["category"] for c in v["diff"]["changes"]) == ["env", "image"], v["diff"]'
expect_json "plan --scope all" plan shop 1 --scope all
check_json "plan --scope all -o json" 'assert v["request"]["scope"] == "all", v["request"]'
expect 1 "--scope bogus" plan shop 1 --scope bogus && \
  expect_stderr "error: SPR_E_INVALID:" "--scope bogus" && \
  expect_stderr '"bogus" is not a category' "--scope bogus" && \
  expect_stderr "(at --scope[0])" "--scope bogus"
expect 1 "--scope image,bogus" plan shop 1 --scope image,bogus && \
  expect_stderr '"bogus"' "--scope image,bogus" && \
  expect_stderr "(at --scope[1])" "--scope image,bogus"
expect 1 "--scope naming a category twice" plan shop 1 --scope env,env && \
  expect_stderr "(at --scope[1])" "--scope naming a category twice"

# --expected-current: a wrong one is a conflict and writes nothing.
expect_json "info before" info shop
BEFORE=$OUT
expect 3 "record --expected-current wrong" record shop "$WORK/shop3.json" --expected-current 1 && \
  expect_stderr "error: SPR_E_CONFLICT:" "record --expected-current wrong" && \
  expect_stderr "not the expected 1" "record --expected-current wrong"
expect 3 "commit --expected-current wrong" commit "$WORK/scoped.json" --expected-current 1 && \
  expect_stderr "error: SPR_E_CONFLICT:" "commit --expected-current wrong"
expect_json "info after" info shop
[[ $OUT == "$BEFORE" ]] || fail "--expected-current wrong: the spinner changed: $BEFORE -> $OUT"
expect_json "versions after" versions shop
check_json "--expected-current wrong: no version written" 'assert [x["number"] for x in v] == [2, 1], v'
expect 64 "bad --expected-current" record shop "$WORK/shop3.json" --expected-current x
expect 64 "--expected-current current" record shop "$WORK/shop3.json" --expected-current current
expect 64 "--expected-current on a reading command" versions shop --expected-current 2

# The right one writes: a scoped rollback, listed with its scope.
expect 0 "tag for --expected-current" tag shop 2 live
expect_json "commit --expected-current @live" commit "$WORK/scoped.json" --expected-current @live
check_json "commit a scoped plan" '
assert v["number"] == 3 and v["rollbackOf"] == 1 and v["scope"] == ["image"], v'
expect 0 "versions with a scoped rollback" versions shop && \
  expect_stdout "rollback of v1 [image]" "versions with a scoped rollback"
expect 0 "record --expected-current right" record shop "$WORK/shop3.json" --expected-current 3 && \
  expect_stdout "created v4 of shop" "record --expected-current right"

# Usage errors of the new commands.
expect 64 "tag without a name" tag shop 1
expect 64 "--move on note" note shop 1 text --move
expect 64 "@ without a name" show shop @
expect 64 "--note on untag" untag shop golden --note x

# --- restore-points -------------------------------------------------------------
# vault: volume data bound to vol-rp-1 and a scratch volume with no volumeId.
# Snapshots of vol-rp-1: one taken before v1, one while v1 was current (at
# v1's own createdAt), one at the moment v2 replaced v1.
vault_state() { # FILE TAG
  cat >"$1" <<EOF
{"schemaVersion": 1, "settings": {"rollback": {"enabled": true}},
 "instances": 1,
 "containers": [{"name": "db", "image": {"reference": "postgres:$2"},
   "mounts": [{"path": "/var/lib/postgresql", "volume": "data"},
              {"path": "/scratch", "volume": "scratch"}]}],
 "volumes": [{"name": "data", "mode": "shared", "size": "2Gi",
              "storageClass": "standard", "volumeId": "vol-rp-1"},
             {"name": "scratch", "mode": "shared", "size": "1Gi"}]}
EOF
}
# created_at SPINNER N: the version's createdAt, in $CREATED.
created_at() {
  CREATED=$("$CLI" --store "$STORE" -o json show "$1" "$2" |
            python3 -c 'import json, sys; print(json.load(sys.stdin)["createdAt"])')
  [[ -n $CREATED ]] || fail "created_at $1 $2: no createdAt"
}
# rp_snapshot FILE ID CREATED_AT READY
rp_snapshot() {
  cat >"$1" <<EOF
{"id": "$2", "volume": "vol-rp-1", "sizeBytes": 2147483648,
 "createdAt": "$3", "ready": $4, "storageClass": "standard"}
EOF
}
vault_state "$WORK/vault1.json" 16.1
vault_state "$WORK/vault2.json" 16.2
expect 0 "record vault v1" record vault "$WORK/vault1.json"
expect 0 "tag vault v1" tag vault 1 golden
expect 0 "restore points, no snapshots" restore-points vault 1 && \
  expect_stdout "v1 of vault: current from " "restore points, no snapshots" && \
  expect_stdout "(still current)" "restore points, no snapshots" && \
  expect_stdout "volume data (vol-rp-1): no snapshots registered" "restore points, no snapshots" && \
  expect_stdout "volume scratch: no volumeId" "restore points, no snapshots"
created_at vault 1
V1_AT=$CREATED
rp_snapshot "$WORK/rp-before.json" snap-rp-before 2020-01-01T00:00:00Z true
rp_snapshot "$WORK/rp-during.json" snap-rp-during "$V1_AT" true
expect 0 "register a snapshot taken before v1" snapshot register "$WORK/rp-before.json"
expect 0 "register a snapshot taken during v1" snapshot register "$WORK/rp-during.json"
expect_json "restore points of the current version" restore-points vault current
check_json "restore-points -o json while current" '
assert v["spinner"] == "vault" and v["number"] == 1, v
assert v["currentFrom"] and v["currentUntil"] is None, v
assert [x["volume"] for x in v["volumes"]] == ["data", "scratch"], v
assert v["volumes"][0]["volumeIds"] == ["vol-rp-1"], v
assert v["volumes"][1] == {"volume": "scratch", "volumeIds": [], "snapshots": []}, v
s = v["volumes"][0]["snapshots"]
assert [(x["id"], x["relation"]) for x in s] == [("snap-rp-during", "during"), ("snap-rp-before", "before")], s'
expect 0 "restore points while current (table)" restore-points vault 1
[[ $OUT == *"roll back to v1"* ]] && fail "restore-points offers a rollback to the current version: $OUT"

sleep 0.01  # v2 strictly after v1
expect 0 "record vault v2" record vault "$WORK/vault2.json"
created_at vault 2
V2_AT=$CREATED
rp_snapshot "$WORK/rp-after.json" snap-rp-after "$V2_AT" false
expect 0 "register a snapshot taken as v2 replaced v1" snapshot register "$WORK/rp-after.json"

expect_json "restore-points @golden" restore-points vault @golden
check_json "restore-points -o json: order and relations" "
assert v['number'] == 1 and v['currentFrom'] == '$V1_AT', v
assert v['currentUntil'] == '$V2_AT', v
s = v['volumes'][0]['snapshots']
assert [(x['id'], x['relation']) for x in s] == [
    ('snap-rp-during', 'during'), ('snap-rp-before', 'before'),
    ('snap-rp-after', 'after')], s
d = s[0]
assert d['volume'] == 'vol-rp-1' and d['createdAt'] == '$V1_AT', d
assert d['sizeBytes'] == 2147483648 and d['ready'] is True, d
assert d['storageClass'] == 'standard', d
assert s[2]['ready'] is False, s"
expect 0 "restore-points (table)" restore-points vault @golden && \
  expect_stdout "v1 of vault: current from " "restore-points (table)" && \
  expect_stdout " until " "restore-points (table)" && \
  expect_stdout "volume data (vol-rp-1): 3 snapshots" "restore-points (table)" && \
  expect_stdout "roll back to v1 with this data: spinner-rollback plan vault 1 --data data=snapshot:snap-rp-during" \
    "restore-points (table)"
[[ $OUT == *"(still current)"* ]] && fail "restore-points: v1 listed as still current: $OUT"
ROWS=$(awk '$1 ~ /^snap-rp-/ {print $1 ":" $NF}' "$WORK/out" | tr '\n' ' ')
[[ $ROWS == "snap-rp-during:during snap-rp-before:before snap-rp-after:after " ]] || \
  fail "restore-points (table): rows not during, before, after: $ROWS"
grep -Eq '^  SNAPSHOT +VOLUME-ID +TAKEN +SIZE +READY +STORAGECLASS +RELATION$' "$WORK/out" || \
  fail "restore-points (table): header: $OUT"
grep -Eq '^  snap-rp-during +vol-rp-1 +[0-9-]+ [0-9:]+Z +2Gi +yes +standard +during$' "$WORK/out" || \
  fail "restore-points (table): snap-rp-during row: $OUT"
grep -Eq '^  snap-rp-after .* no .* after$' "$WORK/out" || \
  fail "restore-points (table): snap-rp-after is not shown not ready: $OUT"
# The same snapshots seen from v2: the one taken as v2 was made is its data.
expect_json "restore-points of v2" restore-points vault 2
check_json "restore-points -o json of v2" '
assert v["currentUntil"] is None, v
s = v["volumes"][0]["snapshots"]
assert [(x["id"], x["relation"]) for x in s] == [
    ("snap-rp-after", "during"), ("snap-rp-during", "before"),
    ("snap-rp-before", "before")], s'
# The hint names a ready snapshot only; v2's only "during" one is not ready.
expect 0 "restore-points of v2 (table)" restore-points vault v2
[[ $OUT == *"--data"* ]] && fail "restore-points offers a snapshot that is not ready: $OUT"
# A version without volumes.
expect_json "restore-points without volumes" restore-points shop 1
check_json "restore-points without volumes" 'assert v["volumes"] == [], v'
expect 0 "restore-points without volumes (table)" restore-points shop 1 && \
  expect_stdout "v1 has no volumes" "restore-points without volumes (table)"
# Refusals.
expect 2 "restore-points of an unknown version" restore-points vault 9 && \
  expect_stderr "error: SPR_E_NOT_FOUND:" "restore-points of an unknown version"
expect 2 "restore-points of an unknown version (json)" -o json restore-points vault 9 && \
  [[ -n $OUT ]] && fail "restore-points of an unknown version printed to stdout: $OUT"
expect 2 "restore-points of an unknown spinner" restore-points nope 1 && \
  expect_stderr "SPR_E_NOT_FOUND" "restore-points of an unknown spinner"
expect 2 "restore-points of an unknown tag" restore-points vault @nope && \
  expect_stderr 'no tag "nope"' "restore-points of an unknown tag"
# A version removed by retention: SPR_E_PRUNED.
for n in 1 2 3; do
  cat >"$WORK/short$n.json" <<EOF
{"schemaVersion": 1, "settings": {"rollback": {"enabled": true, "historyLimit": 1}},
 "instances": $n, "containers": [{"name": "web", "image": {"reference": "nginx:1.25"}}]}
EOF
  expect 0 "record short v$n" record short "$WORK/short$n.json"
done
expect 7 "restore-points of a pruned version" restore-points short 1 && \
  expect_stderr "error: SPR_E_PRUNED:" "restore-points of a pruned version"
expect 64 "restore-points without a version" restore-points vault
expect 64 "restore-points with a bad version" restore-points vault x1
expect 64 "restore-points --confirm" restore-points vault 1 --confirm

# --- events ------------------------------------------------------------------
# A store of its own, so the seqs are known. v1 and v2 hold secret values.
STORE=$WORK/events.db
expect 0 "events: record v1" record ev "$WORK/v1.json" --author t
expect 0 "events: record v2" record ev "$WORK/v2.json"
expect 0 "events: tag" tag ev 1 golden --author alice
expect 0 "events: note" note ev 2 "v2 broke checkout" --author carol
expect 0 "events: status" status ev 2 active
expect 0 "events: snapshot register" snapshot register "$WORK/snap.json"
expect 0 "events: untag" untag ev golden
expect 0 "events: snapshot delete" snapshot delete snap-1
expect 0 "events: plan" plan ev 1 --save "$WORK/ev-plan.json"
expect 0 "events: commit" commit "$WORK/ev-plan.json"
EV_TYPES='["version.created", "version.created", "tag.set", "note.added",
  "status.changed", "snapshot.registered", "tag.removed", "snapshot.deleted",
  "version.created", "rollback.committed"]'
expect_json "events: store id" info
EV_STORE_ID=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["storeId"])' <"$WORK/out")
expect_json "events" events && no_secret "events -o json"
check_json "events -o json: types, seqs, spinners, versions, data" "
e = v['events']
assert [x['type'] for x in e] == $EV_TYPES, [x['type'] for x in e]
assert [x['seq'] for x in e] == list(range(1, 11)), e
assert v['next'] == 10, v['next']
assert v['storeId'] == '$EV_STORE_ID', v['storeId']
assert [x['spinner'] for x in e] == ['ev'] * 5 + [None, 'ev', None, 'ev', 'ev'], e
assert [x['version'] for x in e] == [1, 2, 1, 2, 2, None, 1, None, 3, 3], e
assert all(x['at'].endswith('Z') for x in e), e
assert e[0]['data']['reason'] == 'deploy' and e[0]['data']['summary'], e[0]
assert e[2]['data']['name'] == 'golden' and e[2]['data']['author'] == 'alice', e[2]
assert e[3]['data'] == {'author': 'carol', 'text': 'v2 broke checkout'}, e[3]
assert e[4]['data'] == {'status': 'active'}, e[4]
assert e[5]['data']['id'] == 'snap-1' and e[5]['data']['volume'] == 'vol-1', e[5]
assert e[6]['data'] == {'name': 'golden'} and e[7]['data'] == {'id': 'snap-1'}, e[6:8]
assert e[8]['data']['reason'] == 'rollback' and e[8]['data']['rollbackOf'] == 1, e[8]
assert e[9]['data']['target'] == 1 and e[9]['data']['scope'] == 'tracked', e[9]"
expect 0 "events (table)" events && no_secret "events (table)"
grep -Eq '^SEQ +AT +TYPE +SPINNER +VERSION +DATA$' "$WORK/out" || \
  fail "events (table): header: $OUT"
ROWS=$(awk 'NR > 1 {print $1 ":" $4}' "$WORK/out" | tr '\n' ' ')
[[ $ROWS == "1:version.created 2:version.created 3:tag.set 4:note.added 5:status.changed 6:snapshot.registered 7:tag.removed 8:snapshot.deleted 9:version.created 10:rollback.committed " ]] || \
  fail "events (table): seqs and types: $ROWS"
grep -Eq '^1 +[0-9-]+ [0-9:]+Z +version\.created +ev +v1 +deploy: first version' "$WORK/out" || \
  fail "events (table): version.created row: $OUT"
grep -Eq '^3 .* tag\.set +ev +v1 +golden by alice$' "$WORK/out" || \
  fail "events (table): tag.set row: $OUT"
grep -Eq '^4 .* note\.added +ev +v2 +carol: v2 broke checkout$' "$WORK/out" || \
  fail "events (table): note.added row: $OUT"
grep -Eq '^6 .* snapshot\.registered +- +- +snap-1 of vol-1, ready$' "$WORK/out" || \
  fail "events (table): snapshot.registered row: $OUT"
grep -Eq '^9 .* version\.created +ev +v3 +rollback to v1: ' "$WORK/out" || \
  fail "events (table): rollback's version.created row: $OUT"
grep -Eq '^10 .* rollback\.committed +ev +v3 +to v1 \(plan plan-' "$WORK/out" || \
  fail "events (table): rollback.committed row: $OUT"

# Paging: --after and --limit.
expect_json "events --after 3 --limit 2" events --after 3 --limit 2
check_json "events --after 3 --limit 2 -o json" '
assert [x["seq"] for x in v["events"]] == [4, 5], v
assert [x["type"] for x in v["events"]] == ["note.added", "status.changed"], v
assert v["next"] == 5, v'
expect 0 "events --after 3 --limit 2 (table)" events --after 3 --limit 2 && \
  expect_stdout "(more: spinner-rollback events --after 5 --limit 2)" "events --after 3 --limit 2 (table)"
ROWS=$(awk 'NR > 1 && $1 ~ /^[0-9]+$/ {print $1}' "$WORK/out" | tr '\n' ' ')
[[ $ROWS == "4 5 " ]] || fail "events --after 3 --limit 2 (table): seqs $ROWS"
expect_json "events --after 8" events --after 8
check_json "events --after 8 -o json" '
assert [x["seq"] for x in v["events"]] == [9, 10] and v["next"] == 10, v'
expect 0 "events --after 8 (table)" events --after 8
[[ $OUT == *"(more:"* ]] && fail "events --after 8: offers more after the last event: $OUT"
expect_json "events after the last" events --after 10
check_json "events after the last -o json" '
assert v["events"] == [] and v["next"] == 10 and v["storeId"] == "'"$EV_STORE_ID"'", v'
expect 0 "events after the last (table)" events --after 10 && \
  expect_stdout "no events after seq 10" "events after the last (table)"
expect_json "events --timeout-ms without --follow" events --after 10 --timeout-ms 100
check_json "events --timeout-ms: an empty page" '
assert v["events"] == [] and v["next"] == 10 and v["storeId"] == "'"$EV_STORE_ID"'", v'

# --follow: a follower started before a record prints its version.created,
# as a table row or one JSON object a line, and exits 0 after --timeout-ms
# without events.
state "$WORK/ev4.json" 9090 "$SECRET1" 0
"$CLI" --store "$STORE" events --follow --after 10 --timeout-ms 1500 \
  >"$WORK/follow.out" 2>"$WORK/follow.err" &
FOLLOW=$!
"$CLI" --store "$STORE" -o json events --follow --after 10 --timeout-ms 1500 \
  >"$WORK/follow.json" 2>"$WORK/follow-json.err" &
FOLLOW_JSON=$!
for _ in $(seq 50); do  # until the table follower has started (its header)
  [[ -s $WORK/follow.out ]] && break
  sleep 0.1
done
expect 0 "record while following" record ev "$WORK/ev4.json" --message "while following"
wait "$FOLLOW"
RC_FOLLOW=$?
wait "$FOLLOW_JSON"
RC_FOLLOW_JSON=$?
[[ $RC_FOLLOW -eq 0 ]] || fail "events --follow --timeout-ms: exit status $RC_FOLLOW ($(<"$WORK/follow.err"))"
[[ $RC_FOLLOW_JSON -eq 0 ]] || fail "-o json events --follow --timeout-ms: exit status $RC_FOLLOW_JSON ($(<"$WORK/follow-json.err"))"
grep -Eq '^SEQ +AT +TYPE +SPINNER +VERSION +DATA$' "$WORK/follow.out" || \
  fail "events --follow: no header: $(<"$WORK/follow.out")"
grep -Eq '^11 +[0-9-]+ [0-9:]+Z +version\.created +ev +v4 +deploy: ' "$WORK/follow.out" || \
  fail "events --follow: the new version.created is not printed: $(<"$WORK/follow.out")"
python3 -c '
import json, sys
lines = open(sys.argv[1]).read().splitlines()
e = [json.loads(line) for line in lines]
assert [(x["seq"], x["type"], x["spinner"], x["version"]) for x in e] == [
    (11, "version.created", "ev", 4)], e
assert e[0]["data"]["reason"] == "deploy" and "digest" in e[0]["data"], e
' "$WORK/follow.json" || fail "-o json events --follow: not one JSON line for seq 11: $(<"$WORK/follow.json")"
grep -qF -e "$SECRET1" -e "$SECRET2" "$WORK/follow.out" "$WORK/follow.json" && \
  fail "events --follow printed a secret value"
# Nothing new: --timeout-ms ends it; --timeout-ms 0 prints what is there.
expect 0 "events --follow, nothing new" events --follow --after 11 --timeout-ms 200
[[ $(wc -l <"$WORK/out") -eq 1 ]] || fail "events --follow, nothing new: more than the header: $OUT"
expect 0 "events --follow --timeout-ms 0" -o json events --follow --timeout-ms 0 --limit 3
[[ $(wc -l <"$WORK/out") -eq 11 ]] || fail "events --follow --timeout-ms 0: not all 11 events, 3 a page: $OUT"
no_secret "events --follow -o json"
# SIGTERM ends a follower without --timeout-ms cleanly, with exit status 0.
"$CLI" --store "$STORE" events --follow >"$WORK/follow.out" 2>"$WORK/follow.err" &
FOLLOW=$!
for _ in $(seq 50); do  # until it printed the events there are
  [[ $(wc -l <"$WORK/follow.out") -ge 12 ]] && break
  sleep 0.1
done
kill -TERM "$FOLLOW"
wait "$FOLLOW"
RC_FOLLOW=$?
[[ $RC_FOLLOW -eq 0 ]] || fail "events --follow: exit status $RC_FOLLOW after SIGTERM, want 0 ($(<"$WORK/follow.err"))"
[[ $(wc -l <"$WORK/follow.out") -eq 12 ]] || fail "events --follow: not the header and 11 events: $(<"$WORK/follow.out")"

# Events no longer kept (eventsLimit) are reported on stderr.
STORE=$WORK/events-trimmed.db
for port in 8081 8082 8083; do
  state "$WORK/trim.json" $port "$SECRET1" 0
  expect 0 "record with eventsLimit 2" --options '{"eventsLimit": 2}' record tr "$WORK/trim.json"
done
expect_json "events after trimmed ones" events --after 0
check_json "events after trimmed ones -o json" 'assert [x["seq"] for x in v["events"]] == [2, 3], v'
expect 0 "events --after 0: no warning" events --after 0
[[ -n $ERR ]] && fail "events --after 0 warns: $ERR"
expect_json "events after a trimmed one" events --after 1
check_json "events after a trimmed one -o json" 'assert [x["seq"] for x in v["events"]] == [2, 3], v'
[[ -n $ERR ]] && fail "events --after 1 warns though nothing was lost: $ERR"
STORE=$WORK/events.db

# Refusals.
expect 64 "events --after -1" events --after -1 && \
  expect_stderr "--after must be an event seq" "events --after -1"
expect 64 "events --after x" events --after x
expect 64 "events --limit 0" events --limit 0
expect 64 "events --limit 10001" events --limit 10001
expect 64 "events --timeout-ms -5" events --timeout-ms -5
expect 64 "events --timeout-ms too long" events --follow --timeout-ms 3600001
expect 64 "events with an operand" events ev
expect 64 "events --before" events --before 3
expect 64 "--follow on another command" versions ev --follow
"$CLI" --store "$WORK/no-events.db" events >/dev/null 2>&1
[[ $? -eq 2 ]] || fail "events on a missing store: want exit status 2"
[[ -e $WORK/no-events.db ]] && fail "events created a store file"

# info without a spinner shows the store's id and schema version.
expect 0 "info (store, table)" info && \
  expect_stdout "schema version:" "info (store, table)"
grep -Eq '^store id: +[0-9a-f]{8}-[0-9a-f]{4}-' "$WORK/out" || fail "info (table): no store id: $OUT"
STORE=$WORK/store.db

# --- export, import, migrate, rotate-key, --keyring ---------------------------
# ops.db: app (two versions holding secret values, a volume bound to vol-1)
# and shop (no secret; v1 tagged golden, a note on v2); snapshot snap-1 of
# vol-1. Bundles and other stores are written next to it.
STORE=$WORK/ops.db
BKEY=$WORK/bundle.key
KEY2=$WORK/key2
NEWKEY=$WORK/newkey
for file in "$BKEY" "$KEY2" "$NEWKEY"; do
  od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$file"
done

# raw ARGS...: like cli, but the arguments give the store and its key.
raw() {
  "$CLI" "$@" >"$WORK/out" 2>"$WORK/err"
  RC=$?
  OUT=$(<"$WORK/out")
  ERR=$(<"$WORK/err")
}

# expect_raw CODE DESCRIPTION ARGS...
expect_raw() {
  local want=$1 what=$2
  shift 2
  raw "$@"
  if [[ $RC -ne $want ]]; then
    fail "$what: exit status $RC, want $want (stderr: $ERR)"
    return 1
  fi
  return 0
}

# no_key_bytes DESCRIPTION: no key's bytes are in the last output.
no_key_bytes() {
  local file
  for file in "$KEY" "$BKEY" "$KEY2" "$NEWKEY"; do
    if grep -qF -e "$(<"$file")" "$WORK/out" "$WORK/err"; then
      fail "$1: the bytes of key ${file##*/} were printed"
    fi
  done
}

# same_versions DESCRIPTION OTHER_STORE OTHER_KEY_FILE: `versions` of app
# and shop, table and JSON, read the same from $STORE and OTHER_STORE.
same_versions() {
  local spinner format
  for spinner in app shop; do
    for format in table json; do
      "$CLI" --store "$STORE" --key-file "$KEY" -o $format versions $spinner \
        >"$WORK/versions-a" 2>&1
      "$CLI" --store "$2" --key-file "$3" -o $format versions $spinner \
        >"$WORK/versions-b" 2>&1
      cmp -s "$WORK/versions-a" "$WORK/versions-b" || \
        fail "$1: versions $spinner -o $format differs: $(diff "$WORK/versions-a" "$WORK/versions-b")"
    done
  done
}

expect 0 "ops: record app v1" record app "$WORK/v1.json"
expect 0 "ops: record app v2" record app "$WORK/v2.json"
expect 0 "ops: record shop v1" record shop "$WORK/shop1.json" --author alice
expect 0 "ops: record shop v2" record shop "$WORK/shop2.json"
expect 0 "ops: tag" tag shop 1 golden --note "known good"
expect 0 "ops: note" note shop 2 "v2 broke checkout"
expect 0 "ops: snapshot" snapshot register "$WORK/snap.json"
expect_json "ops: store id" info
OPS_ID=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["storeId"])' <"$WORK/out")

# export: secret values need a bundle key, and stay sealed in the bundle.
expect 9 "export without a bundle key" export "$WORK/ops.bundle" && \
  expect_stderr "error: SPR_E_NO_KEY:" "export without a bundle key" && \
  expect_stderr "hint: give a bundle key with --bundle-key-file F" "export without a bundle key"
no_secret "export without a bundle key"
[[ -e $WORK/ops.bundle ]] && fail "export without a bundle key wrote a bundle"
expect_json "export" export --bundle-key-file "$BKEY" "$WORK/ops.bundle"
check_json "export -o json" '
assert v == {"spinners": 2, "versions": 4, "secrets": v["secrets"], "snapshots": 1}, v
assert v["secrets"] >= 2, v'
no_secret "export -o json"
grep -qF -e "$SECRET1" -e "$SECRET2" "$WORK/ops.bundle" && fail "the bundle holds a secret value in clear"
expect 0 "export (table)" export --bundle-key-file "$BKEY" "$WORK/ops.bundle" && \
  expect_stdout "exported 2 spinners, 4 versions (" "export (table)" && \
  expect_stdout "secrets sealed) and 1 snapshot to $WORK/ops.bundle" "export (table)"
expect_json "export --spinner shop (no secrets, no key needed)" export --spinner shop "$WORK/shop.bundle"
check_json "export --spinner shop -o json" '
assert v["spinners"] == 1 and v["versions"] == 2 and v["secrets"] == 0, v'
expect 2 "export --spinner of an unknown spinner" export --spinner nope "$WORK/nope.bundle" && \
  expect_stderr "SPR_E_NOT_FOUND" "export --spinner nope"

# import into a new store (its own key): the same history, the secrets too.
STORE=$WORK/imported.db
expect_raw 0 "import into a new store" --store "$STORE" --key-file "$KEY2" -o json \
  import --bundle-key-file "$BKEY" "$WORK/ops.bundle"
check_json "import -o json" "
assert v['sourceStoreId'] == '$OPS_ID', v
assert (v['spinnersImported'], v['spinnersSkipped']) == (2, 0), v
assert (v['versionsImported'], v['versionsSkipped']) == (4, 0), v
assert (v['snapshotsImported'], v['snapshotsSkipped']) == (1, 0), v"
no_secret "import"
STORE=$WORK/ops.db
same_versions "export/import round trip" "$WORK/imported.db" "$KEY2"
expect_raw 0 "show @golden after import" --store "$WORK/imported.db" --key-file "$KEY2" show shop @golden && \
  expect_stdout "known good" "show @golden after import"
expect_raw 0 "reveal after import" --store "$WORK/imported.db" --key-file "$KEY2" \
  show app 2 --reveal-secrets
grep -qF "$SECRET2" "$WORK/out" || fail "import: the secret does not open under the new store's key"
# Twice: everything is skipped.
expect_raw 0 "import twice" --store "$WORK/imported.db" --key-file "$KEY2" \
  import --bundle-key-file "$BKEY" "$WORK/ops.bundle" && \
  expect_stdout "imported 0 spinners (2 skipped) from store $OPS_ID" "import twice"
expect_raw 0 "import twice (json)" --store "$WORK/imported.db" --key-file "$KEY2" -o json \
  import --bundle-key-file "$BKEY" "$WORK/ops.bundle"
check_json "import twice -o json" '
assert (v["spinnersImported"], v["spinnersSkipped"]) == (0, 2), v
assert (v["versionsImported"], v["versionsSkipped"]) == (0, 4), v
assert (v["snapshotsImported"], v["snapshotsSkipped"]) == (0, 1), v'
# The bundle's key is needed, and the right one.
expect_raw 9 "import without the bundle key" --store "$WORK/other.db" --key-file "$KEY2" \
  import "$WORK/ops.bundle" && \
  expect_stderr "SPR_E_NO_KEY" "import without the bundle key" && \
  expect_stderr "hint: give the key the bundle was exported with" "import without the bundle key"
expect_raw 9 "import with another key" --store "$WORK/other.db" --key-file "$KEY2" \
  import --bundle-key-file "$KEY2" "$WORK/ops.bundle"
no_secret "import with another key"
no_key_bytes "import with another key"
# A truncated bundle: SPR_E_INVALID naming the line; nothing imported.
head -n -1 "$WORK/ops.bundle" >"$WORK/cut.bundle"
expect_raw 1 "truncated bundle" --store "$WORK/other.db" --key-file "$KEY2" \
  import --bundle-key-file "$BKEY" "$WORK/cut.bundle" && \
  expect_stderr "error: SPR_E_INVALID: $WORK/cut.bundle: bundle line " "truncated bundle" && \
  expect_stderr "(at bundle:" "truncated bundle"
head -c 300 "$WORK/ops.bundle" >"$WORK/cut2.bundle"
expect_raw 1 "bundle cut mid-line" --store "$WORK/other.db" --key-file "$KEY2" \
  import --bundle-key-file "$BKEY" "$WORK/cut2.bundle" && \
  expect_stderr "bundle line 2:" "bundle cut mid-line"
expect_raw 0 "nothing imported from bad bundles" --store "$WORK/other.db" -o json spinners
check_json "nothing imported from bad bundles" 'assert v == [], v'
expect_raw 12 "import of a missing bundle" --store "$WORK/never.db" import "$WORK/missing.bundle"
[[ -e $WORK/never.db ]] && fail "import of a missing bundle created a store"
# Usage errors.
expect 64 "export without FILE" export
expect 64 "export to stdout" export --bundle-key-file "$BKEY" -
expect 64 "import from stdin" import -
expect 64 "both bundle keys" import --bundle-key 00 --bundle-key-file "$BKEY" "$WORK/ops.bundle"
expect 64 "--spinner on import" import --spinner app "$WORK/ops.bundle"
expect 64 "bundle key given as a file" export --bundle-key-file "$(<"$BKEY")" "$WORK/x.bundle" && \
  no_key_bytes "bundle key given as a file"

# migrate: to another SQLite file, opened with this store's key by default.
expect_json "migrate" migrate --to "$WORK/migrated.db"
check_json "migrate -o json" "
assert v['versionsVerified'] == 4, v
assert v['targetStoreId'] and v['targetStoreId'] != '$OPS_ID', v
i = v['imported']
assert i['sourceStoreId'] == '$OPS_ID' and i['spinnersImported'] == 2, i
assert i['versionsImported'] == 4 and i['snapshotsImported'] == 1, i"
no_secret "migrate"
same_versions "migrate" "$WORK/migrated.db" "$KEY"
expect 0 "migrate again (table)" migrate --to "$WORK/migrated.db" && \
  expect_stdout "migrated: 4 versions verified in " "migrate again (table)" && \
  expect_stdout "spinners:  0 imported, 2 skipped" "migrate again (table)"
expect 0 "migrate --to-key-file" migrate --to "$WORK/migrated2.db" --to-key-file "$KEY2"
expect_raw 0 "reveal after migrate --to-key-file" --store "$WORK/migrated2.db" --key-file "$KEY2" \
  show app 2 --reveal-secrets
grep -qF "$SECRET2" "$WORK/out" || fail "migrate --to-key-file: the secret does not open under the target's key"
expect 9 "migrate into a store with another key" migrate --to "$WORK/migrated2.db" && \
  expect_stderr "SPR_E_NO_KEY" "migrate into a store with another key"
expect 64 "migrate without --to" migrate
expect 64 "migrate into itself" migrate --to "$STORE"
expect 64 "migrate, both target keys" migrate --to "$WORK/m.db" --to-key 00 --to-key-file "$KEY2"
expect 64 "migrate with an operand" migrate "$WORK/m.db"

# rotate-key: the new key first in the ring, the old one after it.
expect_json "digests before rotation" versions app
DIGESTS=$(python3 -c 'import json, sys; print([x["digest"] for x in json.load(sys.stdin)])' <"$WORK/out")
expect_raw 0 "rotate-key --reseal" --store "$STORE" --keyring "k2=$NEWKEY" --keyring "k1=$KEY" \
  rotate-key --reseal --batch-size 1 && \
  expect_stdout "data key re-wrapped under k2; " "rotate-key --reseal" && \
  expect_stdout " secrets re-sealed" "rotate-key --reseal"
no_secret "rotate-key"
no_key_bytes "rotate-key"
expect_raw 9 "old key after rotation" --store "$STORE" --key-file "$KEY" show app 2 --reveal-secrets && \
  expect_stderr "SPR_E_NO_KEY" "old key after rotation"
no_secret "old key after rotation"
expect_raw 9 "old key alone in the ring" --store "$STORE" --keyring "k1=$KEY" versions app
expect_raw 0 "new key after rotation" --store "$STORE" --key-file "$NEWKEY" show app 2 --reveal-secrets
grep -qF "$SECRET2" "$WORK/out" || fail "rotate-key: the new key does not reveal the secret"
expect_raw 0 "digests after rotation" --store "$STORE" --keyring "k2=$NEWKEY" -o json versions app
check_json "rotate-key keeps every digest" "assert [x['digest'] for x in v] == $DIGESTS, v"
expect_raw 0 "rotate-key (json)" --store "$STORE" --keyring "k2=$NEWKEY" -o json rotate-key
check_json "rotate-key -o json" '
assert v["keyId"] == "k2" and v["rewrapped"] >= 1 and v["resealed"] == 0, v
assert v["resumed"] is False, v'
expect_raw 0 "events after rotation" --store "$STORE" --key-file "$NEWKEY" events && \
  expect_stdout "store.key_rotated" "events after rotation" && \
  expect_stdout "under k2, re-sealing" "events after rotation"
# Refusals.
expect_raw 9 "rotate-key without a key" --store "$STORE" rotate-key && \
  expect_stderr "hint: open the store with --keyring NEW=FILE --keyring OLD=FILE" "rotate-key without a key"
expect_raw 64 "--keyring with --key-file" --store "$STORE" --keyring "k2=$NEWKEY" --key-file "$KEY" versions app
expect_raw 64 "--keyring without ID=" --store "$STORE" --keyring "$NEWKEY" versions app
expect_raw 64 "--keyring id twice" --store "$STORE" --keyring "k2=$NEWKEY" --keyring "k2=$KEY" versions app
expect_raw 64 "--keyring with the key itself" --store "$STORE" --keyring "k2=$(<"$NEWKEY")" versions app && \
  no_key_bytes "--keyring with the key itself"
expect_raw 64 "--batch-size 0" --store "$STORE" --keyring "k2=$NEWKEY" rotate-key --reseal --batch-size 0
expect_raw 64 "--batch-size without --reseal" --store "$STORE" --keyring "k2=$NEWKEY" rotate-key --batch-size 10
expect_raw 64 "rotate-key --to" --store "$STORE" --keyring "k2=$NEWKEY" rotate-key --to x
STORE=$WORK/store.db

if [[ $FAILURES -gt 0 ]]; then
  echo "test_cli: $FAILURES check(s) failed" >&2
  exit 1
fi
echo "test_cli: all checks passed"
