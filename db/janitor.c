/* db/janitor.c — SQL that deletes rows nobody can use any more. */
#include "db/janitor.h"

#include <stdlib.h>

static const db_stmt_t purge_rt = {"janitor_rt",
                                   "DELETE FROM refresh_tokens WHERE expires_at < now()", 0};

int db_janitor_refresh_tokens(db_conn_t *c)
{
    PGresult *r = db_exec(c, &purge_rt, NULL);
    int rc = db_ok(r) ? atoi(PQcmdTuples(r)) : -1;
    PQclear(r);
    return rc;
}
