#!/usr/bin/env bash
# Checks of the spinner-rollback CLI: JSON output, exit codes, error text,
# and that secret values never leak without --reveal-secrets.
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
assert v["engine"] == "sqlite" and v["schemaVersion"] == 2, v
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

if [[ $FAILURES -gt 0 ]]; then
  echo "test_cli: $FAILURES check(s) failed" >&2
  exit 1
fi
echo "test_cli: all checks passed"
