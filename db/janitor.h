/* db/janitor.h — SQL that deletes rows nobody can use any more. */
#ifndef DB_JANITOR_H
#define DB_JANITOR_H

#include "db/db.h"

/* Deletes refresh tokens past their expiry (used, revoked or not: none can be redeemed, and
 * a replay of an expired one is refused anyway).  Rows deleted, or -1. */
int db_janitor_refresh_tokens(db_conn_t *c);
/* Deletes up to 5,000 webhook deliveries delivered more than `days` days ago, with their
 * attempts (retention, DESK_WEBHOOK_RETENTION_DAYS); returns how many, or -1. */
int db_janitor_webhook_deliveries(db_conn_t *c, int days);

/* Marks import jobs left 'running' by a server that stopped as failed (db/import.c explains
 * how they are told from jobs still running).  Rows changed, or -1. */
int db_janitor_abandoned_imports(db_conn_t *c);

#endif
