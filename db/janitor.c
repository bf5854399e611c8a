/* db/janitor.c — SQL that deletes rows nobody can use any more, and closes import jobs a
 * stopped server left running. */
#include "db/janitor.h"
#include "db/import.h"

#include <stdio.h>
#include <stdlib.h>

static const db_stmt_t purge_rt = {"janitor_rt",
                                   "DELETE FROM refresh_tokens WHERE expires_at < now()", 0};

/* At most 5,000 deliveries a statement (the janitor calls it until fewer are left), their
 * attempts with them; the partial index webhook_deliveries_delivered finds them. */
static const db_stmt_t purge_wh = {
    "janitor_webhooks",
    "WITH d AS (SELECT id FROM webhook_deliveries WHERE state = 'delivered' AND delivered_at < "
    "now() - make_interval(days => $1::int) ORDER BY delivered_at LIMIT 5000), "
    "a AS (DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM d)) "
    "DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM d)",
    1};

int db_janitor_webhook_deliveries(db_conn_t *c, int days)
{
    char d[16];
    snprintf(d, sizeof d, "%d", days);
    const char *v[] = {d};
    PGresult *r = db_exec(c, &purge_wh, v);
    int rc = db_ok(r) ? atoi(PQcmdTuples(r)) : -1;
    PQclear(r);
    return rc;
}

int db_janitor_refresh_tokens(db_conn_t *c)
{
    PGresult *r = db_exec(c, &purge_rt, NULL);
    int rc = db_ok(r) ? atoi(PQcmdTuples(r)) : -1;
    PQclear(r);
    return rc;
}

/* A job is abandoned when it is still 'running' a minute after it started and its lock is
 * free: the session that held it has ended.  The import's own writes were one transaction
 * that never committed, so nothing of it is in the database. */
static const db_stmt_t abandoned = {
    "janitor_imports",
    "UPDATE imports SET status = 'failed', finished_at = clock_timestamp(), detail = 'the "
    "server stopped before the import finished; nothing of it was written' WHERE status = "
    "'running' AND started_at < now() - interval '1 minute' AND "
    "pg_try_advisory_xact_lock(" IMPORT_LOCK_KEY("id") ")",
    0};

int db_janitor_abandoned_imports(db_conn_t *c)
{
    PGresult *r = db_exec(c, &abandoned, NULL);
    int rc = db_ok(r) ? atoi(PQcmdTuples(r)) : -1;
    PQclear(r);
    return rc;
}
