/* db/result.c — result helpers shared by the db/ modules. */
#include "db/db.h"

#include <stdlib.h>
#include <string.h>

char *db_exec_text(db_conn_t *c, const db_stmt_t *st, const char *const *v)
{
    PGresult *r = db_exec(c, st, v);
    char *out = db_ok(r) && PQntuples(r) == 1 ? strdup(PQgetvalue(r, 0, 0)) : NULL;
    PQclear(r);
    return out;
}
