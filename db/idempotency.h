/* db/idempotency.h — SQL for the Idempotency-Key store used by integration pushes. */
#ifndef DB_IDEMPOTENCY_H
#define DB_IDEMPOTENCY_H

#include "db/db.h"

/* Idempotency keys.  claim: 1 = this call owns the key (inside the caller's transaction;
 * store the outcome with db_idem_store before committing), 0 = the key was used before
 * (status/response/body_hash copied out, response malloc'd), -1 error. */
int db_idem_claim(db_conn_t *c, const char *org, const char *user, const char *key,
                  const char *body_hash, int *status, char **response, char hash_out[65]);
int db_idem_store(db_conn_t *c, const char *org, const char *user, const char *key, int status,
                  const char *response);
/* Deletes keys older than `hours`; returns the count or -1. */
int db_idem_purge(db_conn_t *c, int hours);

#endif
