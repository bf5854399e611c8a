#!/bin/sh
# deploy/replica-entrypoint.sh — the streaming replica of docker-compose.yml (service
# db-replica, running as user postgres).  On its first start the data directory is empty: copy
# the primary with pg_basebackup -R (which also writes primary_conninfo and standby.signal),
# then run PostgreSQL as a hot standby.  Later starts reuse the copy and resume streaming.
set -eu
PGDATA="${PGDATA:-/var/lib/postgresql/data}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_isready -h "$PRIMARY_HOST" -U "$REPLICATION_USER" -q; do
    echo "replica: waiting for the primary at $PRIMARY_HOST"
    sleep 1
  done
  echo "replica: copying the primary with pg_basebackup"
  PGPASSWORD="$REPLICATION_PASSWORD" pg_basebackup -h "$PRIMARY_HOST" -U "$REPLICATION_USER" \
    -D "$PGDATA" -R -X stream -c fast
fi
chmod 700 "$PGDATA"
# hot_standby_feedback: long report queries are not cancelled by the replay of VACUUM.
exec postgres -D "$PGDATA" -c hot_standby=on -c hot_standby_feedback=on
