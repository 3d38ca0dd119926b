#!/usr/bin/env bash
# Checks the served OpenAPI document against the real server:
#   1. openapi-spec-validator: the document is valid OpenAPI 3.1;
#   2. schemathesis, every check, signed in as an admin: the server answers what the
#      document says (statuses, content types, bodies, limits) and the document describes
#      what the server does.
# Usage: tools/openapi-check.sh [sqlite|postgres]   (default sqlite)
# PostgreSQL: a database is created on $CANVASS_TEST_POSTGRES_URL's server and dropped after.
# Knobs: OPENAPI_CHECK_MAX_EXAMPLES (default 30), OPENAPI_CHECK_WORKERS (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."

backend="${1:-sqlite}"
venv="target/openapi-venv"
# Pinned: a new release may add checks, and CI must not change under us.
requirements=("schemathesis==4.32.5" "openapi-spec-validator==0.9.0")

if [ ! -x "$venv/bin/schemathesis" ] || [ ! -x "$venv/bin/openapi-spec-validator" ] \
  || ! "$venv/bin/pip" freeze 2>/dev/null | grep -qx "${requirements[0]}"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "${requirements[@]}"
fi

cargo build --quiet -p canvass-api --bin canvass

scratch=$(mktemp -d)
server_pid=""
pg_database=""
pg_admin_url="${CANVASS_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ -n "$pg_database" ]; then
    psql -q "$pg_admin_url" -c "DROP DATABASE IF EXISTS \"$pg_database\" WITH (FORCE)" || true
  fi
  rm -rf "$scratch"
}
trap cleanup EXIT

case "$backend" in
  sqlite) database_url="sqlite://$scratch/canvass.db" ;;
  postgres)
    pg_database="canvass_openapi_$$_$(date +%s)"
    psql -q "$pg_admin_url" -c "CREATE DATABASE \"$pg_database\""
    database_url="${pg_admin_url%/*}/$pg_database"
    ;;
  *) echo "usage: $0 [sqlite|postgres]" >&2; exit 2 ;;
esac

admin_password="openapi-check-$$-password"
# Long-lived access tokens: the run must not outlive the admin's token.
CANVASS_ADMIN_PASSWORD="$admin_password" CANVASS_ACCESS_TOKEN_SECS=7200 RUST_LOG=warn \
  target/debug/canvass serve --database-url "$database_url" --bind 127.0.0.1:0 \
  >"$scratch/server.log" 2>&1 &
server_pid=$!

base=""
for _ in $(seq 1 150); do
  base=$(sed -n 's/^canvass listening on \(http:\/\/[0-9.:]*\).*/\1/p' "$scratch/server.log" | head -n 1)
  [ -n "$base" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$scratch/server.log" >&2; exit 1; }
  sleep 0.2
done
[ -n "$base" ] || { echo "the server did not start" >&2; cat "$scratch/server.log" >&2; exit 1; }

# An access token of one user (the password may not hold a double quote).
login() {
  curl -sf -X POST "$base/api/v1/auth/login" -H 'Content-Type: application/json' \
    -d "{\"username\":\"$1\",\"password\":\"$2\"}" \
    | "$venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
token=$(login admin "$admin_password")

# Data for the operations on one resource to find (ids in tools/schemathesis.toml).
"$venv/bin/python" tools/openapi_seed.py "$base" "$token" >"$scratch/seed.env"
# shellcheck disable=SC1091
source "$scratch/seed.env"

curl -sf "$base/api/v1/openapi.json" -o "$scratch/openapi.json"
"$venv/bin/openapi-spec-validator" --validation-errors all "$scratch/openapi.json"

repo=$(pwd)
# schemathesis over the document as the user of TOKEN; more arguments narrow it. From the
# scratch directory: schemathesis keeps a cache in its working directory.
fuzz() {
  local token=$1
  shift
  (cd "$scratch" && "$repo/$venv/bin/schemathesis" --no-color \
    --config-file "$repo/tools/schemathesis.toml" run "$base/api/v1/openapi.json" \
    --url "$base" \
    --checks all \
    --header "Authorization: Bearer $token" \
    --max-examples "${OPENAPI_CHECK_MAX_EXAMPLES:-30}" \
    --workers "${OPENAPI_CHECK_WORKERS:-2}" \
    --request-timeout 30 \
    --seed 1 "$@")
}

status=0
# Pull is for volunteers and ward leaders (an admin gets 403): first as the seeded
# volunteer, assigned to the seeded street, before the admin's run may disable it.
fuzz "$(login "$CHECK_VOLUNTEER_USERNAME" "$CHECK_VOLUNTEER_PASSWORD")" \
  --include-operation-id pullChanges || status=$?
if [ "$status" -eq 0 ]; then
  fuzz "$token" || status=$?
fi
if [ "$status" -ne 0 ]; then
  echo "--- server log (last 50 lines) ---" >&2
  tail -n 50 "$scratch/server.log" >&2
fi
exit "$status"
