#!/bin/sh
# deploy/primary-init.sh — runs once, when the postgres image initialises the primary's data
# directory (/docker-entrypoint-initdb.d): a role for the streaming replica and the pg_hba.conf
# line that lets it connect for replication (the image's own lines do not cover replication).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v user="$REPLICATION_USER" -v pass="$REPLICATION_PASSWORD" <<'SQL'
CREATE ROLE :"user" WITH REPLICATION LOGIN PASSWORD :'pass';
SQL
echo "host replication $REPLICATION_USER all scram-sha-256" >> "$PGDATA/pg_hba.conf"
