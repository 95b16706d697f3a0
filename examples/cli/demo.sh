#!/usr/bin/env bash
# The whole Rollback story with the spinner-rollback CLI, on a fresh store:
# three deploys, a refused rollback to the current version, a volume
# snapshot, and a rollback to v1 that restores config values, secrets and
# data (a new volume from the snapshot, with its cost).
#
# usage: examples/cli/demo.sh [PATH/TO/spinner-rollback]
# Exits non-zero if a step that should succeed fails, or a step that should
# be refused is not refused with the expected exit code.
set -euo pipefail

CLI=${1:-build/examples/cli/spinner-rollback}
if [[ ! -x $CLI ]]; then
  echo "demo: no executable at $CLI (build first, or pass its path)" >&2
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

# state FILE TAG DIGEST_CHAR INSTANCES COLOR PASSWORD DEBUG(0|1)
state() {
  local file=$1 tag=$2 digest_char=$3 instances=$4 color=$5 password=$6
  local debug_env=""
  if [[ $7 == 1 ]]; then
    debug_env='{"name": "DEBUG", "value": "1"},'
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
            $debug_env
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

OLD_PASSWORD=demo-old-pw-7Hq2
NEW_PASSWORD=demo-new-pw-K81x
state "$WORK/v1.json" 1.4 a 2 blue "$OLD_PASSWORD" 0
state "$WORK/v2.json" 1.5 b 2 blue "$OLD_PASSWORD" 1
state "$WORK/v3.json" 1.5 b 3 green "$NEW_PASSWORD" 1

step "1. Deploy v1: shop:1.4 (by digest), MODE=prod, config color=blue, a secret, volume data = vol-data-1"
run record shop "$WORK/v1.json" --author alice --message "first deploy"
run status shop 1 active

step "2. Redeploy the same state: no new version"
run record shop "$WORK/v1.json" --author alice

step "3. Deploy v2: image shop:1.5, env DEBUG=1 added"
run record shop "$WORK/v2.json" --author bob --message "release 1.5"
run status shop 2 active

step "4. Deploy v3: instances 2 -> 3, config color=green, db password rotated"
run_stdin "$WORK/v3.json" record shop - --author bob \
  --message "scale out, new colour"
run status shop 3 active

step "5. The history, current version first"
run versions shop

step "6. Compare the current version with v1"
run diff shop current 1

step "7. A rollback to the current version is refused"
refused 5 plan shop 3

step "8. Register a backup of the data volume: snapshot snap-1 of vol-data-1"
cat >"$WORK/snap-1.json" <<'EOF'
{"id": "snap-1", "volume": "vol-data-1", "sizeBytes": 1073741824,
 "createdAt": "2024-05-01T12:00:00Z", "ready": true, "storageClass": "standard",
 "metadata": {"note": "nightly backup"}}
EOF
run snapshot register "$WORK/snap-1.json"
run snapshot list vol-data-1

step "9. Plan a rollback to v1, with the data from snap-1 (a new volume, at a cost)"
run plan shop 1 --data data=snapshot:snap-1 --save "$WORK/plan.json" | tee "$WORK/plan.txt"
grep -q "estimated cost" "$WORK/plan.txt"
grep -q "requires confirmation: commit with --confirm" "$WORK/plan.txt"

step "10. Commit without --confirm: refused, the new volume costs money"
refused 8 commit "$WORK/plan.json"

step "11. Commit with --confirm"
run commit "$WORK/plan.json" --confirm --author carol --message "back to 1.4 with the nightly backup"

step "12. The history again: v4, a rollback of v1, is current"
run versions shop | tee "$WORK/versions.txt"
grep -Eq '^\* 4 .*rollback of v1' "$WORK/versions.txt"

step "13. v4 restores the old config value and secret (revealed on request only)"
run show shop 4 --reveal-secrets | tee "$WORK/v4.txt"
grep -q '"color": "blue"' "$WORK/v4.txt"
grep -q "\"password\": \"$OLD_PASSWORD\"" "$WORK/v4.txt"
grep -q '"volumeId": "shop-data-v4"' "$WORK/v4.txt"
if "$CLI" show shop 4 | grep -F "$OLD_PASSWORD" >/dev/null; then
  echo "demo: secret value printed without --reveal-secrets" >&2
  exit 1
fi

step "14. The host applied v4 and reports it active"
run status shop 4 active
run versions shop

echo
echo "demo: all steps behaved as expected"
