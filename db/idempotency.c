/* db/idempotency.c — the Idempotency-Key store used by integration pushes. */
#include "db/idempotency.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const db_stmt_t idem_claim = {
    "idem_claim",
    "INSERT INTO idempotency_keys (org_id, user_id, key, body_hash, status, response) VALUES "
    "($1, $2, $3, $4, 0, '') ON CONFLICT DO NOTHING RETURNING 1",
    4};
static const db_stmt_t idem_read = {
    "idem_read",
    "SELECT status, response, body_hash FROM idempotency_keys WHERE org_id = $1 AND user_id = $2 "
    "AND key = $3",
    3};
static const db_stmt_t idem_store = {
    "idem_store",
    "UPDATE idempotency_keys SET status = $4, response = $5 WHERE org_id = $1 AND user_id = $2 "
    "AND key = $3",
    5};
static const db_stmt_t idem_purge = {
    "idem_purge",
    "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1::int)", 1};

int db_idem_claim(db_conn_t *c, const char *org, const char *user, const char *key,
                  const char *body_hash, int *status, char **response, char hash_out[65])
{
    const char *v[] = {org, user, key, body_hash};
    PGresult *r = db_exec(c, &idem_claim, v);
    if (!db_ok(r)) {
        PQclear(r);
        return -1;
    }
    int mine = PQntuples(r) == 1;
    PQclear(r);
    if (mine)
        return 1;
    r = db_exec(c, &idem_read, v);
    if (!db_ok(r) || PQntuples(r) != 1) {
        PQclear(r);
        return -1;
    }
    *status = atoi(PQgetvalue(r, 0, 0));
    *response = strdup(PQgetvalue(r, 0, 1));
    snprintf(hash_out, 65, "%s", PQgetvalue(r, 0, 2));
    PQclear(r);
    return *response ? 0 : -1;
}

int db_idem_store(db_conn_t *c, const char *org, const char *user, const char *key, int status,
                  const char *response)
{
    char s[16];
    snprintf(s, sizeof s, "%d", status);
    const char *v[] = {org, user, key, s, response};
    PGresult *r = db_exec(c, &idem_store, v);
    int rc = db_ok(r) ? 0 : -1;
    PQclear(r);
    return rc;
}

int db_idem_purge(db_conn_t *c, int hours)
{
    char h[16];
    snprintf(h, sizeof h, "%d", hours);
    const char *v[] = {h};
    PGresult *r = db_exec(c, &idem_purge, v);
    int rc = db_ok(r) ? atoi(PQcmdTuples(r)) : -1;
    PQclear(r);
    return rc;
}
