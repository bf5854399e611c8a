/* db/pii.h — SQL for re-keying stored personal-data hashes (deskd --rehash-pii). */
#ifndef DB_PII_H
#define DB_PII_H

#include "db/db.h"

/* (id, id_number_hash) of every resident with an ID-number hash, locked FOR UPDATE; NULL on
 * error (logged).  The caller PQclear()s. */
PGresult *db_pii_id_hashes(db_conn_t *c);
/* Replaces one resident's ID-number hash.  0 / -1. */
int db_pii_set_id_hash(db_conn_t *c, const char *resident_id, const char *hash);

#endif
