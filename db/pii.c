/* db/pii.c — SQL for re-keying stored personal-data hashes. */
#include "db/pii.h"

#include <stdlib.h>

static const db_stmt_t list = {"pii_list",
                               "SELECT id, id_number_hash FROM residents WHERE id_number_hash IS "
                               "NOT NULL ORDER BY id FOR UPDATE",
                               0};
/* version is not bumped: the ID number itself did not change, and clients' ETags stay valid. */
static const db_stmt_t set = {"pii_set", "UPDATE residents SET id_number_hash = $2 WHERE id = $1",
                              2};

PGresult *db_pii_id_hashes(db_conn_t *c)
{
    PGresult *r = db_exec(c, &list, NULL);
    if (!db_ok(r)) {
        PQclear(r);
        return NULL;
    }
    return r;
}

int db_pii_set_id_hash(db_conn_t *c, const char *resident_id, const char *hash)
{
    const char *v[] = {resident_id, hash};
    PGresult *r = db_exec(c, &set, v);
    int rc = db_ok(r) && atoi(PQcmdTuples(r)) == 1 ? 0 : -1;
    PQclear(r);
    return rc;
}
