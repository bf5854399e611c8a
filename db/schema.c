/*
 * db/schema.c — schema versioning.  schema.sql (the whole current schema) goes onto an
 * empty database; an older database is walked forward through the numbered migrations,
 * each in its own transaction.  An advisory lock keeps two servers from migrating at once.
 */
#include "db/db.h"
#include "db/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct db_migration {
    int version;
    const char *name;
    const char *sql;
};
extern const char db_schema_sql[];
extern const struct db_migration db_migrations[];
extern const size_t db_migrations_count;

#define MIGRATE_LOCK   "SELECT pg_advisory_lock(7310451)"
#define MIGRATE_UNLOCK "SELECT pg_advisory_unlock(7310451)"

int db_schema_compiled_version(void)
{
    int v = 0;
    for (size_t i = 0; i < db_migrations_count; i++)
        if (db_migrations[i].version > v)
            v = db_migrations[i].version;
    return v;
}

int db_schema_current_version(db_conn_t *c)
{
    PGresult *r = db_script(c, "SELECT to_regclass('public.schema_version') IS NOT NULL");
    if (!db_ok(r)) {
        PQclear(r);
        return -1;
    }
    int exists = PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    if (!exists)
        return 0;
    r = db_script(c, "SELECT coalesce(max(version), 0) FROM schema_version");
    int v = db_ok(r) ? atoi(PQgetvalue(r, 0, 0)) : -1;
    PQclear(r);
    return v;
}

static int run_in_tx(db_conn_t *c, const char *sql, char *err, size_t errlen)
{
    if (db_begin(c) != 0) {
        snprintf(err, errlen, "could not begin a transaction");
        return -1;
    }
    PGresult *r = db_script(c, sql);
    if (!db_ok(r)) {
        snprintf(err, errlen, "%s", PQresultErrorMessage(r));
        PQclear(r);
        db_rollback(c);
        return -1;
    }
    PQclear(r);
    return db_commit(c);
}

int db_schema_migrate(db_conn_t *c, char *err, size_t errlen)
{
    int rc = -1;
    int target = db_schema_compiled_version();
    if (db_simple(c, MIGRATE_LOCK) != 0) {
        snprintf(err, errlen, "could not take the migration lock");
        return -1;
    }
    int cur = db_schema_current_version(c);
    if (cur < 0) {
        snprintf(err, errlen, "could not read schema_version");
        goto out;
    }
    if (cur > target) {
        snprintf(err, errlen, "database schema version %d is newer than this server (%d)", cur,
                 target);
        goto out;
    }
    if (cur == 0) {
        if (run_in_tx(c, db_schema_sql, err, errlen) != 0)
            goto out;
        log_write(LOG_INFO, "schema applied", "\"version\":%d", db_schema_current_version(c));
        rc = 0;
        goto out;
    }
    for (size_t i = 0; i < db_migrations_count; i++) {
        const struct db_migration *m = &db_migrations[i];
        if (m->version <= cur)
            continue;
        if (run_in_tx(c, m->sql, err, errlen) != 0)
            goto out;
        log_write(LOG_INFO, "migration applied", "\"version\":%d,\"name\":\"%s\"", m->version,
                  m->name);
    }
    rc = 0;
out:
    db_simple(c, MIGRATE_UNLOCK);
    return rc;
}
