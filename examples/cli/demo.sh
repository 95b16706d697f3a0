#!/usr/bin/env bash
# The v0.2 rollback story with the spinner-rollback CLI, on a fresh store:
#
#   three good deploys (v1-v3), v3 tagged "golden", volume snapshots taken
#   while v1, v3 and v5 were live; two bad deploys (v4: a new image, v5: new
#   env and config); a partial rollback of the image alone to @golden (v6);
#   the restore points of @golden (the snapshot taken while it was current
#   first); a full rollback to @golden with that snapshot's data (a new
#   volume at a cost, so it needs --confirm; the volume in use is kept: v7);
#   a note on the version that broke things, the listing with its tags, and
#   the store's last events. Then operating it for years: a key rotation
#   (rotate-key with a --keyring, the new key first), an export to a bundle
#   imported on a new host, and a migration to another store.
#
# usage: examples/cli/demo.sh [PATH/TO/spinner-rollback]
# Exits non-zero if a step that should succeed fails, a step that should be
# refused is not refused with the expected exit code, or an outcome the
# story relies on (a relation, a scope, a restored value) is not there.
set -euo pipefail

CLI=${1:-build/examples/cli/spinner-rollback}
if [[ ! -x $CLI ]]; then
  echo "demo: no executable at $CLI (build first, or pass its path)" >&2
  exit 2
fi
if ! command -v python3 >/dev/null; then
  echo "demo: python3 is needed to check the JSON output" >&2
  exit 2
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# A fresh store and a fresh 32-byte key (64 hex digits) for secret values.
export SPR_STORE=$WORK/store.db
export SPR_KEY_FILE=$WORK/key
od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$SPR_KEY_FILE"
chmod 600 "$SPR_KEY_FILE"

step() { printf '\n=== %s\n' "$*"; }

# show_command ARGS...: echo the command line, quoted, $WORK abbreviated.
show_command() {
  local arg line='$ spinner-rollback' plain='^[][A-Za-z0-9_./:=@%+,$-]+$'
  for arg in "$@"; do
    arg=${arg//"$WORK"/\$WORK}
    if [[ ! $arg =~ $plain ]]; then
      if [[ $arg =~ [\"\`\\] ]]; then
        arg=$(printf '%q' "$arg")
      else
        arg="\"$arg\""
      fi
    fi
    line+=" $arg"
  done
  echo "$line"
}

# run ARGS...: the step must succeed.
run() {
  show_command "$@"
  "$CLI" "$@"
}

# run_stdin FILE ARGS...: the step must succeed, reading FILE on stdin.
run_stdin() {
  local file=$1
  shift
  echo "$(show_command "$@") < ${file//"$WORK"/\$WORK}"
  "$CLI" "$@" <"$file"
}

# refused CODE ARGS...: the step must fail with exit status CODE.
refused() {
  local want=$1 got=0
  shift
  show_command "$@"
  "$CLI" "$@" 2>&1 || got=$?
  if [[ $got -ne $want ]]; then
    echo "demo: expected exit status $want, got $got" >&2
    exit 1
  fi
  echo "(refused as expected: exit status $got)"
}

# expect DESCRIPTION PYTHON ARGS...: run ARGS with -o json (not shown) and
# check the output with PYTHON, which asserts on `v`, the parsed JSON, and
# may print a value for the caller.
expect() {
  local what=$1 check=$2
  shift 2
  local out
  out=$("$CLI" -o json "$@")
  if ! python3 -c "import json, sys
v = json.loads(sys.argv[1])
$check" "$out"; then
    echo "demo: $what: unexpected result of spinner-rollback $*:" >&2
    echo "$out" >&2
    exit 1
  fi
}

# check DESCRIPTION FILE PATTERN: FILE (a step's table output) matches the
# extended regular expression PATTERN.
check() {
  if ! grep -Eq -- "$3" "$2"; then
    echo "demo: $1: the output above does not match /$3/" >&2
    exit 1
  fi
}

# created_at N: the createdAt of version N of shop.
created_at() {
  expect "createdAt of v$1" 'print(v["createdAt"])' show shop "$1"
}

# state FILE TAG DIGEST_CHAR INSTANCES COLOR PASSWORD DEBUG(0|1) [CHECKOUT_FLOW]
state() {
  local file=$1 tag=$2 digest_char=$3 instances=$4 color=$5 password=$6
  local extra_env=""
  if [[ $7 == 1 ]]; then
    extra_env+='{"name": "DEBUG", "value": "1"},'
  fi
  if [[ -n ${8:-} ]]; then
    extra_env+="{\"name\": \"CHECKOUT_FLOW\", \"value\": \"$8\"},"
  fi
  local digest
  digest=$(printf "%064d" 0 | tr 0 "$digest_char")
  cat >"$file" <<EOF
{
  "schemaVersion": 1,
  "settings": {"rollback": {"enabled": true, "historyLimit": 20},
               "description": "shop front"},
  "instances": $instances,
  "containers": [{
    "name": "web",
    "image": {"reference": "registry.example/shop:$tag",
              "digest": "sha256:$digest"},
    "codeVersion": "shop-$tag",
    "command": ["/app/shop"],
    "args": ["--listen", ":8080"],
    "env": [{"name": "MODE", "value": "prod"},
            $extra_env
            {"name": "DB_PASSWORD", "secretRef": {"name": "db", "key": "password"}},
            {"name": "COLOR", "configMapRef": {"name": "shop-config", "key": "color"}}],
    "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP", "expose": true}],
    "resources": {"cpu": "500m", "memory": "256Mi"},
    "mounts": [{"path": "/etc/shop", "configMap": "shop-config"},
               {"path": "/run/secrets/db", "secret": "db"},
               {"path": "/var/lib/shop", "volume": "data"}]
  }],
  "volumes": [{"name": "data", "mode": "shared", "size": "1Gi",
               "storageClass": "standard", "volumeId": "vol-data-1"}],
  "configMaps": {"shop-config": {"color": "$color"}},
  "secrets": {"db": {"password": "$password"}}
}
EOF
}

# snapshot FILE ID CREATED_AT NOTE: a ready 1Gi snapshot of vol-data-1.
snapshot() {
  cat >"$1" <<EOF
{"id": "$2", "volume": "vol-data-1", "sizeBytes": 1073741824,
 "createdAt": "$3", "ready": true, "storageClass": "standard",
 "metadata": {"note": "$4"}}
EOF
}

OLD_PASSWORD=demo-old-pw-7Hq2
NEW_PASSWORD=demo-new-pw-K81x
state "$WORK/v1.json" 1.4 a 2 blue "$OLD_PASSWORD" 0
state "$WORK/v2.json" 1.5 b 2 blue "$OLD_PASSWORD" 1
state "$WORK/v3.json" 1.5 b 3 green "$NEW_PASSWORD" 1
state "$WORK/v4.json" 1.6 c 3 green "$NEW_PASSWORD" 1
state "$WORK/v5.json" 1.6 c 3 red "$NEW_PASSWORD" 1 v2

step "1. Deploy v1: shop:1.4 (by digest), MODE=prod, config color=blue, a secret, volume data = vol-data-1"
run record shop "$WORK/v1.json" --author alice --message "first deploy" --expected-current 0
run status shop 1 active

step "2. Redeploy the same state: no new version"
run record shop "$WORK/v1.json" --author alice

step "3. The host snapshots the data volume while v1 is live (snapshot snap-v1 of vol-data-1)"
V1_AT=$(created_at 1)
snapshot "$WORK/snap-v1.json" snap-v1 "$V1_AT" "backup while v1 was live"
run snapshot register "$WORK/snap-v1.json"

step "4. Deploy v2: image shop:1.5, env DEBUG=1 added"
run record shop "$WORK/v2.json" --author bob --message "release 1.5"
run status shop 2 active

step "5. Deploy v3: instances 2 -> 3, config color=green, db password rotated"
run_stdin "$WORK/v3.json" record shop - --author bob \
  --message "scale out, new colour"
run status shop 3 active

step "6. v3 is known good: tag it golden, with a note (tagged versions are never pruned)"
run tag shop 3 golden --note "known good: checkout verified after the 1.5 rollout" \
  --author alice | tee "$WORK/tag.txt"
check "tag golden" "$WORK/tag.txt" '^tag golden is on v3 of shop'

step "7. The host snapshots the data volume while v3 is live (snapshot snap-v3)"
V3_AT=$(created_at 3)
snapshot "$WORK/snap-v3.json" snap-v3 "$V3_AT" "backup while v3 was live"
run snapshot register "$WORK/snap-v3.json"

step "8. Bad deploy v4: image shop:1.6"
run record shop "$WORK/v4.json" --author dave --message "release 1.6" --expected-current @golden
run status shop 4 active

step "9. Bad deploy v5: env CHECKOUT_FLOW=v2 added, config color=red"
run record shop "$WORK/v5.json" --author dave --message "new checkout flow"
run status shop 5 active
V5_AT=$(created_at 5)
snapshot "$WORK/snap-v5.json" snap-v5 "$V5_AT" "backup while v5 was live"
run snapshot register "$WORK/snap-v5.json"
run snapshot list vol-data-1

step "10. The history, current version first: golden is on v3"
run versions shop | tee "$WORK/versions.txt"
check "versions" "$WORK/versions.txt" '^\* 5 '
check "versions: tag golden on v3" "$WORK/versions.txt" '^  3 .* golden '

step "11. What changed since the golden version"
run diff shop @golden current

step "12. A rollback to the current version is refused"
refused 5 plan shop current

step "13. Roll back only the image to @golden (everything else stays as it is now)"
run plan shop @golden --scope image --save "$WORK/plan-image.json" | tee "$WORK/plan-image.txt"
check "plan --scope image" "$WORK/plan-image.txt" 'scope: image \(everything else stays as it is now\)'
check "plan --scope image" "$WORK/plan-image.txt" '^Changes \(1\):'
run commit "$WORK/plan-image.json" --author carol --message "back to the 1.5 image" \
  --expected-current 5
run versions shop | tee "$WORK/versions.txt"
check "v6 is a rollback with scope [image]" "$WORK/versions.txt" '^\* 6 .*rollback of v3 \[image\]'
expect "v6: the image of v3, the env and config of v5" '
c = json.loads(v["state"]) if isinstance(v["state"], str) else v["state"]
web = c["containers"][0]
assert v["rollbackOf"] == 3 and v["scope"] == ["image"], v
assert web["image"]["reference"] == "registry.example/shop:1.5", web["image"]
assert "CHECKOUT_FLOW" in [e["name"] for e in web["env"]], web["env"]
assert c["configMaps"]["shop-config"]["color"] == "red", c["configMaps"]' show shop 6
echo "(v6 runs shop:1.5 again; CHECKOUT_FLOW=v2, color=red and codeVersion shop-1.6 stay:"
echo " --scope image takes nothing else)"
run status shop 6 active

step "14. Checkout is still broken, and v4 wrote bad data: the restore points of @golden"
run restore-points shop @golden | tee "$WORK/restore-points.txt"
check "restore-points" "$WORK/restore-points.txt" '^v3 of shop: current from .* until '
check "restore-points: snap-v3 first" "$WORK/restore-points.txt" '^  snap-v3 .* during$'
SNAPSHOT=$(expect "restore points of @golden" '
s = v["volumes"][0]["snapshots"]
assert v["number"] == 3 and v["volumes"][0]["volume"] == "data", v
assert v["volumes"][0]["volumeIds"] == ["vol-data-1"], v
assert [(p["id"], p["relation"]) for p in s] == [
    ("snap-v3", "during"), ("snap-v1", "before"), ("snap-v5", "after")], s
print(s[0]["id"])' restore-points shop @golden)
echo "(the snapshot taken while v3 was current: $SNAPSHOT)"

step "15. Plan the rollback to @golden with the data from $SNAPSHOT (a new volume, at a cost)"
run plan shop @golden --data "data=snapshot:$SNAPSHOT" --save "$WORK/plan.json" | tee "$WORK/plan.txt"
check "plan" "$WORK/plan.txt" "new volume .* from snapshot $SNAPSHOT: 1Gi standard, estimated cost"
check "plan" "$WORK/plan.txt" 'the volume in use now \("vol-data-1"\) is kept, not deleted'
check "plan" "$WORK/plan.txt" '^requires confirmation: commit with --confirm'
NEW_VOLUME=$(python3 -c 'import json, sys
p = json.load(open(sys.argv[1]))
print(p["volumes"][0]["newVolume"]["name"])' "$WORK/plan.json")

step "16. Commit without --confirm: refused, the new volume costs money"
refused 8 commit "$WORK/plan.json"

step "17. Commit with --confirm"
run commit "$WORK/plan.json" --confirm --author carol \
  --message "back to golden, with its data" --expected-current 6 | tee "$WORK/commit.txt"
check "commit" "$WORK/commit.txt" '^committed v7 of shop: rollback of v3, status pending'

step "18. v7 restores v3's config, secret and data: volume $NEW_VOLUME, made from $SNAPSHOT"
run show shop 7 --reveal-secrets | tee "$WORK/v7.txt"
check "v7" "$WORK/v7.txt" '"color": "green"'
check "v7" "$WORK/v7.txt" "\"password\": \"$NEW_PASSWORD\""
check "v7" "$WORK/v7.txt" "\"volumeId\": \"$NEW_VOLUME\""
if [[ $NEW_VOLUME == vol-data-1 ]] || grep -q '"volumeId": "vol-data-1"' "$WORK/v7.txt"; then
  echo "demo: v7 does not use a new volume" >&2
  exit 1
fi
if "$CLI" show shop 7 | grep -F "$NEW_PASSWORD" >/dev/null; then
  echo "demo: secret value printed without --reveal-secrets" >&2
  exit 1
fi
run snapshot list vol-data-1 | tee "$WORK/snapshots.txt"
check "the snapshots stay registered" "$WORK/snapshots.txt" '^snap-v3 '
run status shop 7 active

step "19. Note on v4 what went wrong"
run note shop 4 "v4 broke checkout" --author carol | tee "$WORK/note.txt"
check "note" "$WORK/note.txt" '^v4 of shop has 1 note:'

step "20. The history with its tags: v7, a rollback of golden v3, is current"
run versions shop | tee "$WORK/versions.txt"
check "versions" "$WORK/versions.txt" '^\* 7 .*rollback of v3 '
check "versions" "$WORK/versions.txt" '^  6 .*rollback of v3 \[image\]'
check "versions: tag golden on v3" "$WORK/versions.txt" '^  3 .* golden '
expect "v4 carries the note" '
assert [n["text"] for n in v["notes"]] == ["v4 broke checkout"], v["notes"]' show shop 4

step "21. The store's events, the newest five: every change above, in commit order"
LAST=$(expect "events" '
assert [e["seq"] for e in v["events"]] == list(range(1, v["next"] + 1)), v
print(v["next"])' events)
run events --after $((LAST - 5)) | tee "$WORK/events.txt"
check "events: the rollback to @golden" "$WORK/events.txt" ' rollback\.committed +shop +v7 +to v3 '
check "events: the note, last" "$WORK/events.txt" "^$LAST .* note\.added +shop +v4 +carol: v4 broke checkout$"

step "22. Years later, a new key: put it first in the keyring, re-wrap and re-seal under it"
OLD_KEY_FILE=$SPR_KEY_FILE
od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$WORK/key-2"
chmod 600 "$WORK/key-2"
run --keyring "k2=$WORK/key-2" --keyring "k1=$OLD_KEY_FILE" rotate-key --reseal | tee "$WORK/rotate.txt"
check "rotate-key" "$WORK/rotate.txt" '^data key re-wrapped under k2; [0-9]+ secrets re-sealed$'
export SPR_KEY_FILE=$WORK/key-2
refused 9 --key-file "$OLD_KEY_FILE" show shop 7 --reveal-secrets
expect "the new key opens the secrets" "
assert '$NEW_PASSWORD' in json.dumps(v['state']), 'secret not revealed'" show shop 7 --reveal-secrets

step "23. A new host: export the history to a bundle (secrets sealed under a bundle key), import it there"
od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$WORK/bundle.key"
run export --bundle-key-file "$WORK/bundle.key" "$WORK/shop.bundle" | tee "$WORK/export.txt"
check "export" "$WORK/export.txt" '^exported 1 spinner, 7 versions \([0-9]+ secrets sealed\) and 3 snapshots to '
run --store "$WORK/new-host.db" import --bundle-key-file "$WORK/bundle.key" "$WORK/shop.bundle" | tee "$WORK/import.txt"
check "import" "$WORK/import.txt" '^imported 1 spinner \(0 skipped\) from store '
if ! diff <("$CLI" versions shop) <("$CLI" --store "$WORK/new-host.db" versions shop); then
  echo "demo: the imported history differs" >&2
  exit 1
fi
echo "(the new host's history is the same, numbers, tags and times included)"

step "24. Or move the whole store to another one (SQLite here; a postgresql:// URI works too), checked version by version"
run migrate --to "$WORK/migrated.db" | tee "$WORK/migrate.txt"
check "migrate" "$WORK/migrate.txt" '^migrated: 7 versions verified in '

echo
echo "demo: all steps behaved as expected"
