#!/usr/bin/env bash
# scripts/run.sh — command 1: install, build, start a private PostgreSQL (unless
# DATABASE_URL is set), apply the schema, load the demo organisation and serve on
# 127.0.0.1:8080.  Running it again reuses the cluster and its data; Ctrl-C stops both.
source "$(dirname "$0")/common.sh"

install_deps
npm_tools # Redocly renders GET /docs at build time (without it /docs is a plain page)
BUILD_TARGET=deskd build "$ROOT/build" -DCMAKE_BUILD_TYPE=Release

PGDIR=""
if [ -z "${DATABASE_URL:-}" ]; then
  PGDIR="$(pg_reachable_dir "$ROOT/.pgdata")"
  PGPORT="${DESK_PG_PORT:-54329}"
  pg_start "$PGDIR/cluster" "$PGPORT"
  as_pg psql -h "$PGDIR/cluster" -p "$PGPORT" -U postgres -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname='deskd'" | grep -q 1 ||
    as_pg psql -h "$PGDIR/cluster" -p "$PGPORT" -U postgres -d postgres -qc "CREATE DATABASE deskd"
  export DATABASE_URL="host=$PGDIR/cluster port=$PGPORT user=postgres dbname=deskd"
  trap 'pg_stop "$PGDIR/cluster"' EXIT
fi

# A stable development secret kept beside the data, unless one is given.
if [ -z "${DESK_JWT_SECRET:-}" ] && [ -z "${DESK_JWT_SECRET_FILE:-}" ]; then
  SECRET_FILE="$ROOT/.pgdata/jwt-secret"
  mkdir -p "$ROOT/.pgdata"
  [ -s "$SECRET_FILE" ] || (umask 077; head -c 48 /dev/urandom | base64 | tr -d '\n' >"$SECRET_FILE")
  export DESK_JWT_SECRET_FILE="$SECRET_FILE"
fi

# The key of ID-number hashes: its own secret, never the JWT one (rotation: README).
if [ -z "${DESK_PII_KEY:-}" ] && [ -z "${DESK_PII_KEY_FILE:-}" ]; then
  PII_FILE="$ROOT/.pgdata/pii-key"
  mkdir -p "$ROOT/.pgdata"
  [ -s "$PII_FILE" ] || (umask 077; head -c 48 /dev/urandom | base64 | tr -d '\n' >"$PII_FILE")
  export DESK_PII_KEY_FILE="$PII_FILE"
fi

# With the private cluster the schema (owner) is applied and the demo loaded as postgres;
# the service itself then logs in as deskd_service, a member of deskd_app
# (db/migrations/0015_audit.sql): it may read and append audit rows and the request
# timeline but never change or delete them.
if [ -n "$PGDIR" ]; then
  "$ROOT/build/deskd" --migrate --seed-demo --no-serve
  as_pg psql -h "$PGDIR/cluster" -p "$PGPORT" -U postgres -d deskd -qc \
    "DO \$\$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'deskd_service') THEN
       CREATE ROLE deskd_service LOGIN IN ROLE deskd_app; END IF; END \$\$"
  export DATABASE_URL="host=$PGDIR/cluster port=$PGPORT user=deskd_service dbname=deskd"
fi

LISTEN="${DESK_LISTEN:-127.0.0.1:8080}"
cat <<MSG

deskd demo organisation 示范物业服务有限公司 (code: demo)
  users: admin gm director manager supervisor agent technician security clerk auditor
         integration resident resident2      password: ${DESK_DEMO_PASSWORD:-demo-pass-2026}
  try:   curl -s http://$LISTEN/v1/auth/login -H 'Content-Type: application/json' \\
           -d '{"username":"agent","password":"${DESK_DEMO_PASSWORD:-demo-pass-2026}"}'

MSG
if [ -n "$PGDIR" ]; then
  "$ROOT/build/deskd" --listen "$LISTEN" "$@" &
else
  "$ROOT/build/deskd" --migrate --seed-demo --listen "$LISTEN" "$@" &
fi
SERVER=$!
# Stops the server (if it still runs) and then the private cluster, however we got here:
# Ctrl-C, a TERM, or the server exiting by itself.  Nothing in here may abort under set -e
# before the cluster is stopped.
stop_all() {
  set +e
  kill -TERM "$SERVER" 2>/dev/null
  wait "$SERVER" 2>/dev/null
  [ -n "$PGDIR" ] && pg_stop "$PGDIR/cluster"
}
trap stop_all INT TERM EXIT
rc=0
wait "$SERVER" || rc=$?
exit "$rc"
