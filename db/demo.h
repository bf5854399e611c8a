/* db/demo.h — loads the demo organisation. */
#ifndef DB_DEMO_H
#define DB_DEMO_H

#include "db/db.h"

/* The ID card number of the demo's valuables depositor, 张伟 (README: returning the
 * deposit); the ledger keeps only its keyed hash and last 4 characters. */
#define DEMO_ID_NUMBER "110101198003070017"

/* Creates organisation `code` with its project, places, departments, residents and one
 * user per role (usernames prefix+role, plus prefix+"resident"/"resident2"), all with
 * the given password hash, and custody register items with their ledgers.  id_hash: the
 * keyed hash (api/pii.h) of the demo depositor's ID number, or NULL when no personal-data
 * key is configured (then no valuables deposit is seeded).  Returns 1 created, 0 already
 * present, -1 error. */
int db_demo_seed(db_conn_t *c, const char *code, const char *name, const char *prefix,
                 const char *password_hash, const char *id_hash);

#endif
