/* db/demo.h — loads the demo organisation. */
#ifndef DB_DEMO_H
#define DB_DEMO_H

#include "db/db.h"

/* Creates organisation `code` with its project, places, departments, residents and one
 * user per role (usernames prefix+role, plus prefix+"resident"/"resident2"), all with
 * the given password hash.  Returns 1 created, 0 already present, -1 error. */
int db_demo_seed(db_conn_t *c, const char *code, const char *name, const char *prefix,
                 const char *password_hash);

#endif
